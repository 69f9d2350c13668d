import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AuditEvent, AuditFilter, Grant, Key } from '../core/model.ts';
import { SharedLock } from './shared-lock.ts';
import { SqliteStore } from './sqlite.ts';
import { PostgresStore } from './postgres.ts';
import type { Store, Tx } from './store.ts';
import { POSTGRES_SKIP, freshDatabase } from '../../test/support/postgres.ts';

/**
 * One conformance suite for the store interface, run against every driver. A driver that
 * cannot run here is skipped with its reason (never in CI, see test/support/postgres.ts).
 */
interface Driver {
  name: string;
  skip: string | false;
  /** A store, and a way to open another one on the same database (another node or process). */
  open(): Promise<{ store: Store; another(): Promise<Store>; dispose(): Promise<void> }>;
}

const DRIVERS: Driver[] = [
  {
    // `kmsd serve --workers N`: each worker thread has its own SQLite store on the same file,
    // and their writers take turns through one lock in shared memory.
    name: 'sqlite, stores sharing a write lock (worker threads)',
    skip: false,
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'kmsd-store-'));
      const lock = new SharedLock();
      const store = new SqliteStore(join(dir, 'kmsd.db'), { writeLock: lock });
      const others: Store[] = [];
      return {
        store,
        another: async () => others[others.push(new SqliteStore(join(dir, 'kmsd.db'), { writeLock: new SharedLock(lock.buffer) })) - 1],
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
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'kmsd-store-'));
      const store = new SqliteStore(join(dir, 'kmsd.db'));
      const others: Store[] = [];
      return {
        store,
        another: async () => others[others.push(new SqliteStore(join(dir, 'kmsd.db'))) - 1],
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
    async open() {
      const db = await freshDatabase();
      const store = await PostgresStore.open(db.url);
      const others: Store[] = [];
      return {
        store,
        another: async () => others[others.push(await PostgresStore.open(db.url)) - 1],
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
    rotationEnabled: false, rotationInterval: 365, lastRotationTime: null, rotationDue: null, rotations: 0, materialVersion: 1, ...overrides,
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
    const withStore = (fn: (store: Store, another: () => Promise<Store>) => Promise<void>) => async () => {
      const { store, another, dispose } = await driver.open();
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
        await tx.insertAccount({ id: accountId, name: `acme-${accountId}` });
        await tx.insertProject({ id: 'p1' + accountId.slice(2), accountId, name: 'cn-north-4' });
        await tx.insertUser({ id: userId, accountId, name: 'admin', passwordHash: null, policies: ['*:*:*'] });
        await tx.insertAccessKey({ ak: `AK${accountId}`, userId, skSealed: Buffer.from('sealed') });
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
      }));
      assert.deepEqual(got.account, { id: accountId, name: `acme-${accountId}` });
      assert.deepEqual(got.user?.policies, ['*:*:*']);
      assert.deepEqual(got.ak?.skSealed, Buffer.from('sealed'));
      assert.deepEqual(got.token, { hash: 'h1', userId, projectId: null, issuedAt: 1, expiresAt: 10 });
      assert.equal(got.setting, 'one');
      assert.equal(await store.write((tx) => tx.deleteExpiredTokens(10)), 1);
    }));

    test('audit events: appended in the transaction of their effect, listed by key, principal and time', withStore(async (store) => {
      const base: AuditEvent = {
        time: 100, requestId: 'r1', accountId: 'acct', userId: 'u1', accessKeyId: 'AK1', operation: 'retire-grant',
        keyId: 'k1', grantId: 'g'.repeat(64), sequence: 's1', outcome: 'allowed', status: 200, errorCode: null,
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
  });
}
