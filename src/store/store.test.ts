import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AuditEvent, AuditFilter, Grant, Key, Keystore } from '../core/model.ts';
import { SharedLock } from './shared-lock.ts';
import { SqliteStore } from './sqlite.ts';
import { PostgresStore } from './postgres.ts';
import type { Store, StoreOptions, Tx } from './store.ts';
import { GENESIS, chainHash, type ChainedAuditEvent } from '../audit/chain.ts';
import { verifyTrail } from '../audit/verify.ts';
import { POSTGRES_SKIP, freshDatabase } from '../../test/support/postgres.ts';
import { secretsConformance } from './secrets-conformance.ts';

/**
 * One conformance suite for the store interface, run against every driver. A driver that
 * cannot run here is skipped with its reason (never in CI, see test/support/postgres.ts).
 */
interface Driver {
  name: string;
  skip: string | false;
  /** A store, and a way to open another one on the same database (another node or process). */
  open(options?: StoreOptions): Promise<{ store: Store; another(): Promise<Store>; dispose(): Promise<void> }>;
}

const DRIVERS: Driver[] = [
  {
    // `kmsd serve --workers N`: each worker thread has its own SQLite store on the same file,
    // and their writers take turns through one lock in shared memory.
    name: 'sqlite, stores sharing a write lock (worker threads)',
    skip: false,
    async open(options = {}) {
      const dir = mkdtempSync(join(tmpdir(), 'kmsd-store-'));
      const lock = new SharedLock();
      const store = new SqliteStore(join(dir, 'kmsd.db'), { ...options, writeLock: lock });
      const others: Store[] = [];
      return {
        store,
        another: async () => others[others.push(new SqliteStore(join(dir, 'kmsd.db'), { ...options, writeLock: new SharedLock(lock.buffer) })) - 1],
        dispose: async () => {
          for (const s of [store, ...others]) await s.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'sqlite',
    skip: false,
    async open(options = {}) {
      const dir = mkdtempSync(join(tmpdir(), 'kmsd-store-'));
      const store = new SqliteStore(join(dir, 'kmsd.db'), options);
      const others: Store[] = [];
      return {
        store,
        another: async () => others[others.push(new SqliteStore(join(dir, 'kmsd.db'), options)) - 1],
        dispose: async () => {
          for (const s of [store, ...others]) await s.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'postgres',
    skip: POSTGRES_SKIP,
    async open(options = {}) {
      const db = await freshDatabase();
      const store = await PostgresStore.open(db.url, options);
      const others: Store[] = [];
      return {
        store,
        another: async () => others[others.push(await PostgresStore.open(db.url, options)) - 1],
        dispose: async () => {
          for (const s of [store, ...others]) await s.close();
          await db.drop();
        },
      };
    },
  },
];

const id = () => randomBytes(16).toString('hex');

function key(overrides: Partial<Key> = {}): Key {
  return {
    keyId: randomUUID(), accountId: 'acct', region: 'cn-north-4', alias: `a-${id()}`, description: '', spec: 'AES_256',
    usage: 'ENCRYPT_DECRYPT', origin: 'kms', state: '2', creationDate: 1000, scheduledDeletionDate: null, defaultKey: false,
    rotationEnabled: false, rotationInterval: 365, lastRotationTime: null, rotationDue: null, rotations: 0, materialVersion: 1,
    keystoreId: '0', materialExpires: null, importDigest: null, ...overrides,
  };
}

function grant(keyId: string, overrides: Partial<Grant> = {}): Grant {
  return {
    grantId: randomBytes(32).toString('hex'), keyId, granteePrincipal: 'gus', granteeType: 'user', operations: ['describe-key'],
    issuingPrincipal: 'alice', retiringPrincipal: null, name: null, creationDate: 1000, ...overrides,
  };
}

for (const driver of DRIVERS) {
  describe(`store conformance: ${driver.name}`, { skip: driver.skip }, () => {
    const withStore = (fn: (store: Store, another: () => Promise<Store>) => Promise<void>, options?: StoreOptions) => async () => {
      const { store, another, dispose } = await driver.open(options);
      try {
        await fn(store, another);
      } finally {
        await dispose();
      }
    };

    test('a key round-trips every field; update and delete', withStore(async (store) => {
      const k = key({ scheduledDeletionDate: 5, lastRotationTime: 7, rotationDue: 9, rotationEnabled: true, defaultKey: true, state: '4' });
      await store.write((tx) => tx.insertKey(k));
      assert.deepEqual(await store.read((tx) => tx.getKey(k.keyId)), k);
      assert.deepEqual(await store.read((tx) => tx.findKeyByAlias('acct', 'cn-north-4', k.alias)), k);
      await store.write((tx) => tx.updateKey({ ...k, state: '3', description: 'd' }));
      assert.deepEqual(await store.read((tx) => tx.getKey(k.keyId, { lock: false })), { ...k, state: '3', description: 'd' });
      await store.write(async (tx) => {
        await tx.insertGrant(grant(k.keyId));
        await tx.insertMaterial({ keyId: k.keyId, version: 1, sealed: Buffer.from([1, 2, 3]), createdAt: 1 });
        await tx.deleteKey(k.keyId);
      });
      assert.equal(await store.read((tx) => tx.getKey(k.keyId)), null);
      assert.equal(await store.read((tx) => tx.countGrants(k.keyId)), 0);
      assert.equal(await store.read((tx) => tx.getMaterial(k.keyId, 1)), null);
    }));

    test('census counts keys by state and grants in force over every account; onCommit hears every commit', withStore(async (store) => {
      assert.deepEqual(await store.read((tx) => tx.census()), { keysByState: {}, grants: 0 });
      const commits: number[] = [];
      store.onCommit = (seconds, units) => {
        assert.ok(seconds >= 0);
        commits.push(units);
      };
      const a = key();
      const b = key({ accountId: 'other', state: '3' });
      const c = key({ state: '3' });
      const g = grant(a.keyId);
      await store.write(async (tx) => {
        for (const k of [a, b, c]) await tx.insertKey(k);
        await tx.insertGrant(g);
        await tx.insertGrant(grant(b.keyId));
      });
      assert.deepEqual(await store.read((tx) => tx.census()), { keysByState: { '2': 1, '3': 2 }, grants: 2 });
      await store.write((tx) => tx.deleteGrant(g.grantId));
      assert.deepEqual(await store.read((tx) => tx.census()), { keysByState: { '2': 1, '3': 2 }, grants: 1 });
      assert.deepEqual(commits, [1, 1]);
      store.onCommit = null;
    }));

    test('a write that fails changes nothing', withStore(async (store) => {
      const k = key();
      await assert.rejects(store.write(async (tx) => {
        await tx.insertKey(k);
        await tx.insertGrant(grant(k.keyId));
        throw new Error('boom');
      }), /boom/);
      assert.equal(await store.read((tx) => tx.getKey(k.keyId)), null);
      assert.equal(await store.read((tx) => tx.countGrants(k.keyId)), 0);
    }));

    test('concurrent writes: a failing unit rolls back alone, the others commit', withStore(async (store) => {
      const keys = Array.from({ length: 20 }, () => key());
      const results = await Promise.allSettled(keys.map((k, i) => store.write(async (tx) => {
        await tx.insertKey(k);
        if (i % 4 === 0) throw new Error(`unit ${i}`);
        return i;
      })));
      results.forEach((r, i) => assert.equal(r.status, i % 4 === 0 ? 'rejected' : 'fulfilled'));
      const present = await Promise.all(keys.map((k) => store.read((tx) => tx.getKey(k.keyId))));
      present.forEach((p, i) => assert.equal(p !== null, i % 4 !== 0));
    }));

    test('a unique alias is enforced by the store', withStore(async (store) => {
      const k = key();
      await store.write((tx) => tx.insertKey(k));
      await assert.rejects(store.write((tx) => tx.insertKey(key({ alias: k.alias }))));
    }));

    test('tags: put (a second put replaces the value), read per key and for several keys, delete once, project tags', withStore(async (store) => {
      const [k1, k2, other] = [key({ creationDate: 1 }), key({ creationDate: 2 }), key({ accountId: 'other' })];
      await store.write(async (tx) => {
        for (const k of [k1, k2, other]) await tx.insertKey(k);
        await tx.putTag(k1.keyId, { key: 'env', value: 'prod' }, 1);
        await tx.putTag(k1.keyId, { key: 'team', value: '' }, 1);
        await tx.putTag(k1.keyId, { key: 'env', value: 'test' }, 2);
        await tx.putTag(k2.keyId, { key: 'env', value: 'prod' }, 2);
        await tx.putTag(other.keyId, { key: 'zone', value: 'z' }, 2);
      });
      assert.deepEqual(await store.read((tx) => tx.tagsOfKey(k1.keyId)), [{ key: 'env', value: 'test' }, { key: 'team', value: '' }]);
      const many = await store.read((tx) => tx.tagsOfKeys([k1.keyId, k2.keyId, 'none']));
      assert.deepEqual([...many.entries()], [[k1.keyId, [{ key: 'env', value: 'test' }, { key: 'team', value: '' }]], [k2.keyId, [{ key: 'env', value: 'prod' }]], ['none', []]]);
      assert.deepEqual(await store.read((tx) => tx.projectTags('acct', 'cn-north-4')), [{ key: 'env', values: ['prod', 'test'] }, { key: 'team', values: [''] }]);
      assert.equal(await store.write((tx) => tx.deleteTag(k1.keyId, 'team')), true);
      assert.equal(await store.write((tx) => tx.deleteTag(k1.keyId, 'team')), false);
      await store.write((tx) => tx.deleteKey(k1.keyId));
      assert.deepEqual(await store.read((tx) => tx.tagsOfKey(k1.keyId)), []);
    }));

    test('keys by tags: every tag key, any listed value, name part (case-insensitive, % and _ literal), customer keys of the account only', withStore(async (store) => {
      const ks = [key({ creationDate: 1, alias: 'web_one' }), key({ creationDate: 2, alias: 'DB-one' }), key({ creationDate: 3, alias: 'webXone' }),
        key({ creationDate: 4, defaultKey: true, alias: 'x/default' }), key({ accountId: 'other', alias: 'web_one' })];
      await store.write(async (tx) => {
        for (const k of ks) await tx.insertKey(k);
        for (const k of ks) await tx.putTag(k.keyId, { key: 'env', value: k.creationDate === 2 ? 'test' : 'prod' }, 1);
        await tx.putTag(ks[0].keyId, { key: 'team', value: 'web' }, 1);
      });
      const ids = async (filter: Parameters<Tx['keysByTags']>[2], offset = 0, limit = 100) => {
        const page = await store.read((tx) => tx.keysByTags('acct', 'cn-north-4', filter, offset, limit));
        return [page.items.map((k) => k.alias), page.total];
      };
      assert.deepEqual(await ids({ tags: [{ key: 'env', values: ['prod'] }] }), [['web_one', 'webXone'], 2]);
      assert.deepEqual(await ids({ tags: [{ key: 'env', values: ['prod', 'test'] }, { key: 'team', values: [] }] }), [['web_one'], 1]);
      assert.deepEqual(await ids({ tags: [], name: 'ONE' }), [['web_one', 'DB-one', 'webXone'], 3]);
      assert.deepEqual(await ids({ tags: [], name: 'b_o' }), [['web_one'], 1]);
      assert.deepEqual(await ids({ tags: [], name: '%' }), [[], 0]);
      assert.deepEqual(await ids({ tags: [] }, 1, 1), [['DB-one'], 3]);
      assert.deepEqual(await ids({ tags: [] }, 0, 0), [[], 3]);
    }));

    test('aliases: insert, get, rebind, count per key, list by name after a marker, delete once; unique per account and region', withStore(async (store) => {
      const [k1, k2] = [key(), key()];
      const alias = (name: string, keyId: string, accountId = 'acct') => ({ alias: name, keyId, accountId, region: 'cn-north-4', createTime: 1, updateTime: 1 });
      await store.write(async (tx) => {
        await tx.insertKey(k1);
        await tx.insertKey(k2);
        for (const name of ['b', 'a', 'c']) await tx.insertAlias(alias(name, k1.keyId));
        await tx.insertAlias(alias('a', k2.keyId, 'other'));
      });
      await assert.rejects(store.write((tx) => tx.insertAlias(alias('a', k2.keyId))));
      assert.deepEqual(await store.read((tx) => tx.getAlias('acct', 'cn-north-4', 'a')), alias('a', k1.keyId));
      await store.write((tx) => tx.updateAlias({ ...alias('c', k2.keyId), updateTime: 5 }));
      assert.deepEqual(await store.read((tx) => tx.getAlias('acct', 'cn-north-4', 'c')), { ...alias('c', k2.keyId), updateTime: 5 });
      assert.equal(await store.read((tx) => tx.countAliasesOfKey(k1.keyId)), 2);
      const names = async (keyId: string | undefined, after: string | undefined, limit: number) =>
        (await store.read((tx) => tx.listAliases('acct', 'cn-north-4', keyId, after, limit))).map((a) => a.alias);
      assert.deepEqual(await names(undefined, undefined, 10), ['a', 'b', 'c']);
      assert.deepEqual(await names(k1.keyId, 'a', 10), ['b']);
      assert.deepEqual(await names(undefined, undefined, 2), ['a', 'b']);
      assert.equal(await store.write((tx) => tx.deleteAlias('acct', 'cn-north-4', 'a')), true);
      assert.equal(await store.write((tx) => tx.deleteAlias('acct', 'cn-north-4', 'a')), false);
      await store.write((tx) => tx.deleteKey(k2.keyId));
      assert.deepEqual(await names(undefined, undefined, 10), ['b']);
    }));

    test('grants: insert, get, count, page in creation order, delete once', withStore(async (store) => {
      const k = key();
      const gs = [3, 1, 2].map((t) => grant(k.keyId, { creationDate: t, name: `n${t}`, retiringPrincipal: 'rita', operations: ['describe-key', 'encrypt-data'] }));
      await store.write(async (tx) => {
        await tx.insertKey(k);
        for (const g of gs) await tx.insertGrant(g);
      });
      assert.deepEqual(await store.read((tx) => tx.getGrant(gs[0].grantId)), gs[0]);
      const page = await store.read((tx) => tx.listGrants(k.keyId, 1, 1));
      assert.deepEqual(page, { items: [gs[2]], total: 3 });
      const all = await store.read((tx) => tx.listGrants(k.keyId, 0, 100));
      assert.deepEqual(all.items.map((g) => g.creationDate), [1, 2, 3]);
      assert.equal(await store.write((tx) => tx.deleteGrant(gs[0].grantId)), true);
      assert.equal(await store.write((tx) => tx.deleteGrant(gs[0].grantId)), false);
      assert.equal(await store.read((tx) => tx.countGrants(k.keyId)), 2);
    }));

    test('grants naming a user: by user id, or by the account of a domain grant', withStore(async (store) => {
      const k = key();
      const byUser = grant(k.keyId, { granteePrincipal: 'u1', creationDate: 1 });
      const byDomain = grant(k.keyId, { granteePrincipal: 'acct2', granteeType: 'domain', creationDate: 2 });
      const other = grant(k.keyId, { granteePrincipal: 'u2', creationDate: 3 });
      await store.write(async (tx) => {
        await tx.insertKey(k);
        for (const g of [byUser, byDomain, other]) await tx.insertGrant(g);
      });
      assert.deepEqual(await store.read((tx) => tx.grantsNaming(k.keyId, 'u1', 'acct2')), [byUser, byDomain]);
      assert.deepEqual(await store.read((tx) => tx.grantsNaming(k.keyId, 'u3', 'acct3')), []);
    }));

    test('retirable grants: issuer, retiring principal, grantee holding retire-grant (user or domain)', withStore(async (store) => {
      const k = key();
      const issued = grant(k.keyId, { issuingPrincipal: 'me', creationDate: 1 });
      const retiring = grant(k.keyId, { retiringPrincipal: 'me', creationDate: 2 });
      const granteeWith = grant(k.keyId, { granteePrincipal: 'me', operations: ['retire-grant'], creationDate: 3 });
      const granteeWithout = grant(k.keyId, { granteePrincipal: 'me', operations: ['describe-key'], creationDate: 4 });
      const domainWith = grant(k.keyId, { granteePrincipal: 'myacct', granteeType: 'domain', operations: ['describe-key', 'retire-grant'], creationDate: 5 });
      await store.write(async (tx) => {
        await tx.insertKey(k);
        for (const g of [issued, retiring, granteeWith, granteeWithout, domainWith]) await tx.insertGrant(g);
      });
      const page = await store.read((tx) => tx.listRetirableGrants('me', 'myacct', 0, 100));
      assert.deepEqual(page, { items: [issued, retiring, granteeWith, domainWith], total: 4 });
      assert.deepEqual(await store.read((tx) => tx.listRetirableGrants('me', 'myacct', 3, 1)), { items: [domainWith], total: 4 });
    }));

    test('the grants version of a key moves with every grant created or ended, and only then', withStore(async (store) => {
      const k = key();
      const g = grant(k.keyId);
      await store.write((tx) => tx.insertKey(k));
      const version = () => store.read((tx) => tx.grantsVersion(k.keyId));
      const v0 = await version();
      await store.write((tx) => tx.insertGrant(g));
      const v1 = await version();
      await store.write((tx) => tx.updateKey({ ...k, description: 'changed' }));
      assert.equal(await version(), v1);
      await store.write((tx) => tx.deleteGrant(g.grantId));
      const v2 = await version();
      assert.ok(v0 < v1 && v1 < v2, `${v0} ${v1} ${v2}`);
    }));

    test('insertGrant with a limit: inserts and moves the grants version below it; at it writes nothing and answers false; deleteGrant answers exactly', withStore(async (store) => {
      const k = key();
      const other = key();
      await store.write(async (tx) => {
        await tx.insertKey(k);
        await tx.insertKey(other);
        // Another key's grants do not count against this key's limit.
        assert.equal(await tx.insertGrant(grant(other.keyId, { grantId: 'e'.repeat(64) }), 1), true);
      });
      const version = () => store.read((tx) => tx.grantsVersion(k.keyId));
      const first = grant(k.keyId, { grantId: 'a'.repeat(64) });
      const v0 = await version();
      assert.equal(await store.write((tx) => tx.insertGrant(first, 2)), true);
      assert.equal(await store.write((tx) => tx.insertGrant(grant(k.keyId, { grantId: 'b'.repeat(64) }), 2)), true);
      const v2 = await version();
      assert.ok(v0 < v2, `${v0} ${v2}`);
      assert.equal(await store.write((tx) => tx.insertGrant(grant(k.keyId, { grantId: 'c'.repeat(64) }), 2)), false);
      assert.equal(await version(), v2);
      assert.equal(await store.read((tx) => tx.getGrant('c'.repeat(64))), null);
      assert.deepEqual(await store.read(async (tx) => [await tx.countGrants(k.keyId), await tx.countGrants(other.keyId)]), [2, 1]);
      // Without a limit (seeding), no count stops it.
      assert.equal(await store.write((tx) => tx.insertGrant(grant(k.keyId, { grantId: 'd'.repeat(64) }))), true);
      assert.equal(await store.write((tx) => tx.deleteGrant(first.grantId)), true);
      assert.equal(await store.write((tx) => tx.deleteGrant(first.grantId)), false);
      assert.equal(await store.write((tx) => tx.deleteGrant('9'.repeat(64))), false);
      const v3 = await version();
      assert.ok(v2 < v3, `${v2} ${v3}`);
      // A grant ended frees its place under the limit.
      assert.equal(await store.write((tx) => tx.insertGrant(grant(k.keyId, { grantId: 'c'.repeat(64) }), 3)), true);
      assert.equal(await store.write((tx) => tx.insertGrant(grant(k.keyId, { grantId: 'f'.repeat(64) }), 3)), false);
      assert.equal(await store.read((tx) => tx.countGrants(k.keyId)), 3);
      // So does one ended on its key (a retire, a revoke); not one named on another key.
      assert.equal(await store.write((tx) => tx.endGrantOfKey(other.keyId, 'c'.repeat(64))), null);
      assert.equal(await store.write((tx) => tx.insertGrant(grant(k.keyId, { grantId: 'f'.repeat(64) }), 3)), false);
      assert.equal((await store.write((tx) => tx.endGrantOfKey(k.keyId, 'c'.repeat(64))))?.grantId, 'c'.repeat(64));
      assert.equal(await store.write((tx) => tx.insertGrant(grant(k.keyId, { grantId: 'f'.repeat(64) }), 3)), true);
      assert.equal(await store.write((tx) => tx.insertGrant(grant(other.keyId, { grantId: '1'.repeat(64) }), 2)), true);
      assert.equal(await store.write((tx) => tx.insertGrant(grant(other.keyId, { grantId: '2'.repeat(64) }), 2)), false);
      assert.deepEqual(await store.read(async (tx) => [await tx.countGrants(k.keyId), await tx.countGrants(other.keyId)]), [3, 2]);
    }));

    test('creators of grants on one key at once, through two stores, under the key lock: the limit holds exactly', withStore(async (store, another) => {
      const k = key();
      await store.write((tx) => tx.insertKey(k));
      const other = await another();
      const made = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? other : store).write(async (tx) => {
        await tx.getKey(k.keyId, { lock: true });
        return tx.insertGrant(grant(k.keyId, { grantId: randomBytes(32).toString('hex') }), 10);
      })));
      assert.equal(made.filter(Boolean).length, 10);
      assert.equal(await store.read((tx) => tx.countGrants(k.keyId)), 10);
    }));

    test('endGrantOfKey: ends only that key\'s grant and returns it as it was; null and nothing written otherwise; a unit that throws after it keeps the grant', withStore(async (store) => {
      const k = key();
      const other = key();
      const g = grant(k.keyId, { grantId: 'a'.repeat(64), retiringPrincipal: 'rita', name: 'n' });
      const h = grant(other.keyId, { grantId: 'b'.repeat(64) });
      await store.write(async (tx) => {
        for (const x of [k, other]) await tx.insertKey(x);
        for (const x of [g, h]) await tx.insertGrant(x);
      });
      const versions = () => store.read(async (tx) => [await tx.grantsVersion(k.keyId), await tx.grantsVersion(other.keyId)]);
      const before = await versions();
      // Another key's grant, an unknown one: nothing ended, no version moved.
      assert.equal(await store.write((tx) => tx.endGrantOfKey(k.keyId, h.grantId)), null);
      assert.equal(await store.write((tx) => tx.endGrantOfKey(k.keyId, '9'.repeat(64))), null);
      assert.deepEqual(await versions(), before);
      assert.deepEqual(await store.read((tx) => tx.getGrant(h.grantId)), h);
      // Ended inside a unit that then fails: rolled back with it.
      await assert.rejects(store.write(async (tx) => {
        assert.deepEqual(await tx.endGrantOfKey(k.keyId, g.grantId), g);
        throw new Error('refused');
      }), /refused/);
      assert.deepEqual(await store.read((tx) => tx.getGrant(g.grantId)), g);
      assert.deepEqual(await versions(), before);
      assert.deepEqual(await store.write((tx) => tx.endGrantOfKey(k.keyId, g.grantId)), g);
      assert.equal(await store.read((tx) => tx.getGrant(g.grantId)), null);
      const after = await versions();
      assert.ok(after[0] > before[0] && after[1] === before[1], `${before} ${after}`);
      assert.equal(await store.write((tx) => tx.endGrantOfKey(k.keyId, g.grantId)), null);
      assert.deepEqual(await versions(), after);
    }));

    test('concurrent ends of one key\'s grant through two stores under the key lock: exactly one gets the grant', withStore(async (store, another) => {
      const k = key();
      const g = grant(k.keyId);
      await store.write(async (tx) => {
        await tx.insertKey(k);
        await tx.insertGrant(g);
      });
      const other = await another();
      const ends = await Promise.all(Array.from({ length: 25 }, (_, i) => (i % 2 ? other : store).write(async (tx) => {
        await tx.getKey(k.keyId, { lock: true });
        return tx.endGrantOfKey(k.keyId, g.grantId);
      })));
      assert.deepEqual(ends.filter((e) => e !== null), [g]);
    }));

    test('concurrent ends of one grant under the key lock: exactly one succeeds', withStore(async (store) => {
      const k = key();
      const g = grant(k.keyId);
      await store.write(async (tx) => {
        await tx.insertKey(k);
        await tx.insertGrant(g);
      });
      const ends = await Promise.all(Array.from({ length: 25 }, () => store.write(async (tx) => {
        await tx.getKey(k.keyId, { lock: true });
        return tx.deleteGrant(g.grantId);
      })));
      assert.equal(ends.filter(Boolean).length, 1);
    }));

    test('keys: list by account, filter, page; due for deletion; count customer keys', withStore(async (store) => {
      const ks = [key({ creationDate: 1 }), key({ creationDate: 2, state: '3' }), key({ creationDate: 3, spec: 'SM4' }), key({ creationDate: 4, defaultKey: true }), key({ accountId: 'other' })];
      const doomed = key({ creationDate: 5, state: '4', scheduledDeletionDate: 100 });
      await store.write(async (tx) => {
        for (const k of [...ks, doomed]) await tx.insertKey(k);
      });
      const all = await store.read((tx) => tx.listKeys('acct', 'cn-north-4', {}, 0, 100));
      assert.equal(all.total, 5);
      assert.deepEqual((await store.read((tx) => tx.listKeys('acct', 'cn-north-4', { state: '3' }, 0, 100))).items, [ks[1]]);
      assert.deepEqual((await store.read((tx) => tx.listKeys('acct', 'cn-north-4', { spec: 'SM4' }, 0, 100))).items, [ks[2]]);
      assert.deepEqual(await store.read((tx) => tx.listKeys('acct', 'cn-north-4', { spec: 'ALL' }, 1, 1)), { items: [ks[1]], total: 5 });
      assert.equal(await store.read((tx) => tx.countCustomerKeys('acct', 'cn-north-4')), 4);
      assert.deepEqual(await store.read((tx) => tx.keysDueForDeletion(99, 10)), []);
      assert.deepEqual(await store.read((tx) => tx.keysDueForDeletion(100, 10)), [doomed.keyId]);
    }));

    test('identities, tokens and settings', withStore(async (store) => {
      const accountId = id();
      const userId = id();
      await store.write(async (tx) => {
        await tx.insertAccount({ id: accountId, name: `acme-${accountId}`, disabled: false });
        await tx.insertProject({ id: 'p1' + accountId.slice(2), accountId, name: 'cn-north-4' });
        await tx.insertUser({ id: userId, accountId, name: 'admin', passwordHash: null, policies: ['*:*:*'], disabled: false });
        await tx.insertAccessKey({ ak: `AK${accountId}`, userId, skSealed: Buffer.from('sealed'), disabled: false });
        await tx.insertToken({ hash: 'h1', userId, projectId: null, issuedAt: 1, expiresAt: 10 });
        assert.equal(await tx.initSetting('s', 'one'), 'one');
        assert.equal(await tx.initSetting('s', 'two'), 'one');
      });
      const got = await store.read(async (tx) => ({
        account: await tx.findAccountByName(`acme-${accountId}`),
        user: await tx.findUser(accountId, 'admin'),
        ak: await tx.getAccessKey(`AK${accountId}`),
        token: await tx.getToken('h1'),
        setting: await tx.getSetting('s'),
        users: await tx.usersOfAccount(accountId),
        noUsers: await tx.usersOfAccount(id()),
      }));
      assert.deepEqual(got.users.map((u) => [u.id, u.name, u.disabled]), [[userId, 'admin', false]]);
      assert.deepEqual(got.noUsers, []);
      assert.deepEqual(got.account, { id: accountId, name: `acme-${accountId}`, disabled: false });
      assert.deepEqual(got.user?.policies, ['*:*:*']);
      assert.deepEqual(got.ak?.skSealed, Buffer.from('sealed'));
      assert.deepEqual(got.token, { hash: 'h1', userId, projectId: null, issuedAt: 1, expiresAt: 10 });
      assert.equal(got.setting, 'one');
      assert.equal(await store.write(async (tx) => {
        await tx.initSetting('p:1', 'x');
        await tx.initSetting('p:2', 'x');
        await tx.initSetting('p_3', 'x');
        return tx.deleteSettings('p:');
      }), 2);
      assert.deepEqual(await store.read(async (tx) => [await tx.getSetting('p:1'), await tx.getSetting('p_3'), await tx.getSetting('s')]), [null, 'x', 'one']);
      assert.equal(await store.write((tx) => tx.deleteExpiredTokens(10)), 1);
      // Retaining only the user: the account and the access key are disabled, nothing is deleted;
      // retaining all of them again brings them back.
      await store.write((tx) => tx.retainIdentities({ accountIds: new Set(), userIds: new Set([userId]), accessKeys: new Set() }));
      const disabled = await store.read(async (tx) => [
        (await tx.getAccount(accountId))?.disabled, (await tx.getUser(userId))?.disabled, (await tx.getAccessKey(`AK${accountId}`))?.disabled,
      ]);
      assert.deepEqual(disabled, [true, false, true]);
      await store.write((tx) => tx.retainIdentities({ accountIds: new Set([accountId]), userIds: new Set([userId]), accessKeys: new Set([`AK${accountId}`]) }));
      const back = await store.read(async (tx) => [
        (await tx.getAccount(accountId))?.disabled, (await tx.getUser(userId))?.disabled, (await tx.getAccessKey(`AK${accountId}`))?.disabled,
      ]);
      assert.deepEqual(back, [false, false, false]);
    }));

    test('audit events: appended in the transaction of their effect, listed by key, principal and time', withStore(async (store) => {
      const base: AuditEvent = {
        time: 100, requestId: 'r1', accountId: 'acct', userId: 'u1', accessKeyId: 'AK1', operation: 'retire-grant',
        keyId: 'k1', grantId: 'g'.repeat(64), sequence: 's1', outcome: 'allowed', status: 200, errorCode: null,
        claimedAccessKeyId: null, source: '127.0.0.1', count: 1,
      };
      await store.write((tx) => tx.insertAudit(base));
      await store.write((tx) => tx.insertAudit({ ...base, time: 200, requestId: 'r2', userId: 'u2', accessKeyId: null, keyId: 'k2', grantId: null, sequence: null, outcome: 'denied', status: 403, errorCode: 'KMS.0306' }));
      // An effect that fails takes its record with it.
      await assert.rejects(store.write(async (tx) => {
        await tx.insertAudit({ ...base, requestId: 'r3' });
        throw new Error('effect failed');
      }));
      const all = await store.read((tx) => tx.listAudit({}, 0, 10));
      assert.deepEqual(all.map(({ seq: _seq, ...e }) => e.requestId), ['r1', 'r2']);
      assert.ok((all[0].seq as number) < (all[1].seq as number));
      assert.deepEqual({ ...all[1], seq: 0 }, { ...base, seq: 0, time: 200, requestId: 'r2', userId: 'u2', accessKeyId: null, keyId: 'k2', grantId: null, sequence: null, outcome: 'denied', status: 403, errorCode: 'KMS.0306' });
      const ids = async (filter: AuditFilter, after = 0) => (await store.read((tx) => tx.listAudit(filter, after, 10))).map((e) => e.requestId);
      assert.deepEqual(await ids({ keyId: 'k2' }), ['r2']);
      assert.deepEqual(await ids({ principal: 'u1' }), ['r1']);
      assert.deepEqual(await ids({ principal: 'acct' }), ['r1', 'r2']);
      assert.deepEqual(await ids({ since: 150 }), ['r2']);
      assert.deepEqual(await ids({ principal: 'acct', keyId: 'k1', since: 100 }), ['r1']);
      assert.deepEqual(await ids({}, all[0].seq as number), ['r2']);
      assert.deepEqual(await ids({ until: 150 }), ['r1']);
      assert.deepEqual(await ids({ operation: 'retire-grant' }), ['r1', 'r2']);
      assert.deepEqual(await ids({ newestFirst: true }), ['r2', 'r1']);
      assert.deepEqual(await ids({ outcomes: ['denied', 'failed'] }), ['r2']);
      assert.deepEqual(await ids({ outcomes: [] }), []);
      assert.deepEqual(await ids({ newestFirst: true, before: all[1].seq as number }), ['r1']);
      // An account sees its own callers' events and events about its keys, whoever the caller.
      const theirs = key({ accountId: 'other' });
      await store.write(async (tx) => {
        await tx.insertKey(theirs);
        await tx.insertAudit({ ...base, requestId: 'r4', keyId: theirs.keyId, outcome: 'denied', status: 403, errorCode: 'KMS.0306' });
        await tx.insertAudit({ ...base, requestId: 'r5', accountId: 'third', userId: 'u3', keyId: 'k9' });
      });
      assert.deepEqual(await ids({ visibleTo: 'other' }), ['r4']);
      assert.deepEqual(await ids({ visibleTo: 'acct' }), ['r1', 'r2', 'r4']);
      assert.deepEqual(await ids({ visibleTo: 'third' }), ['r5']);
    }));

    // What the stores' onAudit (the --audit-log file) was told.
    const told: ChainedAuditEvent[] = [];
    test('audit chain: two stores writing records at once make one chain, in commit order, with no fork', withStore(async (store, another) => {
      const other = await another();
      const base: AuditEvent = {
        time: 100, requestId: 'r', accountId: 'acct', userId: 'u1', accessKeyId: null, operation: 'create-key',
        keyId: null, grantId: null, sequence: null, outcome: 'allowed', status: 200, errorCode: null,
        claimedAccessKeyId: null, source: null, count: 1,
      };
      await Promise.all(Array.from({ length: 40 }, (_, i) =>
        (i % 2 === 0 ? store : other).write(async (tx) => {
          await tx.insertKey(key());
          // Some records carry text beyond ASCII: PostgreSQL hashes the record's UTF-8 bytes itself (SqlTx.appendStagedAudit).
          return tx.insertAudit({ ...base, requestId: i % 3 === 0 ? `r${i}-é-你好-🔑` : `r${i}`, ...(i === 4 && { keyId: 'x\u0000y' }), ...(i % 5 === 0 && { secretName: `sécret-${i}-\ud800` }) });
        })));
      // A unit that fails takes its record and its move of the head with it.
      await assert.rejects(store.write(async (tx) => {
        await tx.insertAudit({ ...base, requestId: 'rolled-back' });
        throw new Error('effect failed');
      }));
      const stored = await store.read((tx) => tx.listAuditChain(0, 100));
      assert.equal(stored.length, 40);
      // NUL, which PostgreSQL stores in no text (it refused the whole record), is kept as U+FFFD on every driver.
      assert.equal(stored.find((r) => r.requestId === 'r4')?.keyId, 'x\ufffdy');
      assert.equal(stored[0].prevHash, GENESIS);
      stored.forEach((record, i) => {
        if (i > 0) assert.equal(record.prevHash, stored[i - 1].hash, `record ${record.seq} follows the record committed before it`);
        assert.equal(record.hash, chainHash(record.prevHash as string, record));
      });
      // onAudit was told each committed record once, as stored; on PostgreSQL nothing of the unit
      // that failed (its records are written after the group's last unit), on SQLite its record too
      // (told when written, before the unit failed: src/audit/log-file.ts).
      const rolledBack = told.filter((r) => r.requestId === 'rolled-back');
      assert.equal(rolledBack.length, driver.name === 'postgres' ? 0 : 1);
      assert.deepEqual(told.filter((r) => r.requestId !== 'rolled-back').sort((a, b) => a.seq - b.seq), stored);
      const head = await store.read((tx) => tx.auditChainHead());
      assert.deepEqual(head, { startSeq: 0, headSeq: stored[39].seq, headHash: stored[39].hash, lastSeq: stored[39].seq });
      assert.deepEqual(await verifyTrail(other), { intact: true, checked: 40, before: 0, startSeq: 0, headSeq: stored[39].seq, headHash: stored[39].hash });
    }, { onAudit: (record) => told.push(record) }));

    test('key stores: insert, get, find by alias and cluster, page, count, update, delete; keys in a key store', withStore(async (store) => {
      const ks = (n: number, overrides: Partial<Keystore> = {}): Keystore => ({
        keystoreId: randomUUID(), accountId: 'acct', region: 'cn-north-4', alias: `ks-${n}`, type: 'DHSM', hsmClusterId: `c-${n}`,
        clusterId: `c-${n}`, state: '2', createTime: 1000 + n, ...overrides,
      });
      const all = [ks(1), ks(2), ks(3), ks(4, { accountId: 'other' })];
      await store.write(async (tx) => {
        for (const k of all) await tx.insertKeystore(k);
      });
      await assert.rejects(store.write((tx) => tx.insertKeystore(ks(1))));
      assert.deepEqual(await store.read((tx) => tx.getKeystore(all[0].keystoreId)), all[0]);
      assert.equal(await store.read((tx) => tx.getKeystore(randomUUID())), null);
      assert.deepEqual(await store.read((tx) => tx.findKeystoreByAlias('acct', 'cn-north-4', 'ks-2')), all[1]);
      assert.deepEqual(await store.read((tx) => tx.findKeystoreByCluster('acct', 'cn-north-4', 'c-3')), all[2]);
      assert.equal(await store.read((tx) => tx.findKeystoreByCluster('acct', 'cn-north-4', 'c-4')), null);
      assert.deepEqual(await store.read((tx) => tx.listKeystores('acct', 'cn-north-4', 1, 1)), { items: [all[1]], total: 3 });
      assert.equal(await store.read((tx) => tx.countKeystores('other', 'cn-north-4')), 1);
      await store.write((tx) => tx.updateKeystore({ ...all[0], state: '3' }));
      assert.equal((await store.read((tx) => tx.getKeystore(all[0].keystoreId)))?.state, '3');
      const inside = key({ keystoreId: all[1].keystoreId, materialExpires: 5000, importDigest: Buffer.from('sealed-digest') });
      await store.write((tx) => tx.insertKey(inside));
      assert.deepEqual(await store.read((tx) => tx.getKey(inside.keyId)), inside);
      assert.equal(await store.read((tx) => tx.countKeysInKeystore(all[1].keystoreId)), 1);
      assert.equal(await store.read((tx) => tx.countKeysInKeystore(all[2].keystoreId)), 0);
      await store.write((tx) => tx.deleteKeystore(all[2].keystoreId));
      assert.equal(await store.read((tx) => tx.getKeystore(all[2].keystoreId)), null);
    }));

    test('imported material: keys whose material expired (enabled or disabled only); all versions deleted at once', withStore(async (store) => {
      const due = key({ origin: 'external', materialExpires: 2000 });
      const disabled = key({ origin: 'external', materialExpires: 1500, state: '3' });
      const later = key({ origin: 'external', materialExpires: 9000 });
      const pending = key({ origin: 'external', materialExpires: 1000, state: '5', materialVersion: 0 });
      await store.write(async (tx) => {
        for (const k of [due, disabled, later, pending]) await tx.insertKey(k);
        for (const version of [1, 2]) await tx.insertMaterial({ keyId: due.keyId, version, sealed: Buffer.from([version]), createdAt: 1 });
      });
      assert.deepEqual(await store.read((tx) => tx.keysWithExpiredMaterial(2000, 10)), [disabled.keyId, due.keyId]);
      await store.write((tx) => tx.deleteMaterials(due.keyId));
      assert.deepEqual(await store.read(async (tx) => [await tx.getMaterial(due.keyId, 1), await tx.getMaterial(due.keyId, 2)]), [null, null]);
    }));

    // Reads may be served from memory (SQLite remembers rows until data_version moves): a
    // commit through this store, or through another store on the same database (another
    // node, or the CLI on the same file), is seen by the very next read, however often the
    // same rows were read before; a read later in a request sees at least this store's commits.
    test('every read sees the last commit, made through this store or another one on the same database', withStore(async (store, another) => {
      const k = key();
      const g = grant(k.keyId);
      await store.write(async (tx) => {
        await tx.insertKey(k);
        await tx.insertGrant(g);
      });
      const look = async (tx: Tx) => ({ state: (await tx.getKey(k.keyId))?.state, grants: (await tx.grantsNaming(k.keyId, 'gus', 'acct')).map((x) => x.grantId) });
      const seen = () => store.read(look);
      for (let i = 0; i < 3; i++) assert.deepEqual(await seen(), { state: '2', grants: [g.grantId] });
      assert.deepEqual(await store.read(look, { sameRequest: true }), { state: '2', grants: [g.grantId] });
      await store.write((tx) => tx.deleteGrant(g.grantId));
      // A read later in a request still sees every commit this store made.
      assert.deepEqual(await store.read(look, { sameRequest: true }), { state: '2', grants: [] });
      assert.deepEqual(await seen(), { state: '2', grants: [] });
      const other = await another();
      await other.write((tx) => tx.updateKey({ ...k, state: '3' }));
      assert.deepEqual(await seen(), { state: '3', grants: [] });
      await other.write((tx) => tx.insertGrant(grant(k.keyId, { grantId: 'f'.repeat(64) })));
      assert.deepEqual(await seen(), { state: '3', grants: ['f'.repeat(64)] });
    }));

    test('two stores writing the same database at once: every write commits, none is lost', withStore(async (store, another) => {
      const k = key();
      await store.write((tx) => tx.insertKey(k));
      const other = await another();
      const grants = Array.from({ length: 120 }, () => grant(k.keyId, { grantId: randomBytes(32).toString('hex') }));
      await Promise.all(grants.map((g, i) => (i % 2 ? other : store).write((tx) => tx.insertGrant(g))));
      const listed = await other.read((tx) => tx.listGrants(k.keyId, 0, 1000));
      assert.deepEqual(listed.items.map((g) => g.grantId).sort(), grants.map((g) => g.grantId).sort());
    }));

    secretsConformance(withStore);
  });
}
