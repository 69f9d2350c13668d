import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { ChainedAuditEvent } from '../src/audit/chain.ts';
import { verifyTrail } from '../src/audit/verify.ts';
import { PostgresStore } from '../src/store/postgres.ts';
import { commitMovingVersions } from '../src/store/postgres-memo.ts';
import { KEY_COLUMNS } from '../src/store/rows.ts';
import { AUDIT_APPEND_MANY } from '../src/store/sql-tx.ts';
import type { Tx } from '../src/store/store.ts';
import { freshDatabase, POSTGRES_SKIP } from './support/postgres.ts';
import { auditRequestIds, commits, counted, createGrant, grant, holdKeyRow, key } from './support/pg-group-units.ts';

/**
 * A PostgreSQL group runs its units with nothing between them (src/store/postgres.ts
 * commitGroup): no SAVEPOINT, and a key's row locked by an earlier unit of the group is not
 * asked for again. A unit refused before it wrote answers alone; one that fails after it wrote
 * undoes its group whole, and every unit of it runs again in a group that runs each unit under
 * a savepoint. Statements are COUNTED, as in postgres-round-trips.test.ts: every statement the
 * store's pooled connections send, with its text.
 */
const sent: string[] = [];
const query = pg.Client.prototype.query;

const BEGIN = 'BEGIN; SET LOCAL statement_timeout = 8000; SET LOCAL idle_in_transaction_session_timeout = 10000; SET LOCAL kmsd.moves_version = on';
const KEY_LOCK = `SELECT ${KEY_COLUMNS} FROM keys WHERE key_id = $1 FOR UPDATE`;
const isGrantInsert = (s: string) => s.startsWith('WITH counted AS (UPDATE keys SET grants_version');

describe('PostgreSQL group commit: units without savepoints, a group undone whole', { skip: POSTGRES_SKIP }, () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let store: PostgresStore;
  const lines: ChainedAuditEvent[] = [];
  before(async () => {
    database = await freshDatabase();
    store = await PostgresStore.open(database.url, { deadlineMs: 10_000, onAudit: (r) => lines.push(r) });
    pg.Client.prototype.query = function (this: pg.Client & { release?: unknown }, ...args: unknown[]) {
      const config = args[0] as string | { text: string };
      if (typeof this.release === 'function') sent.push(typeof config === 'string' ? config : config.text);
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof query;
  });
  after(async () => {
    pg.Client.prototype.query = query;
    await store?.close();
    await database?.drop();
  });
  beforeEach(() => {
    sent.length = 0;
    lines.length = 0;
  });

  /** A key in the store; the statements counted from here on. */
  const storedKey = async () => {
    const k = key();
    await store.write((tx) => tx.insertKey(k));
    sent.length = 0;
    return k;
  };


  test('units on one key: the key\'s row is locked once, no savepoint is sent, each later unit is its one statement (the lock wait bound set after the first, lifted before the audit records)', async () => {
    const k = await storedKey();
    const units = commits(store);
    await Promise.all([0, 1, 2, 3].map((i) => store.write(createGrant(k.keyId, `one-key-${i}`))));
    assert.deepEqual(units, [4]);
    assert.deepEqual(sent.map((s) => (isGrantInsert(s) ? 'GRANT_INSERT' : s)), [
      BEGIN, KEY_LOCK, 'GRANT_INSERT', 'SET LOCAL lock_timeout = 2', 'GRANT_INSERT', 'GRANT_INSERT', 'GRANT_INSERT',
      'SET LOCAL lock_timeout = 0', AUDIT_APPEND_MANY, commitMovingVersions(['audit_chain', 'audit_events', 'grants', 'keys']),
    ]);
    assert.equal(await store.read((tx) => tx.countGrants(k.keyId)), 4);
  });

  test('a unit refused before it wrote (on what it read under the key\'s lock) answers alone: no savepoint, no rollback, its neighbours commit in the same group', async () => {
    const k = await storedKey();
    const units = commits(store);
    const runs: number[] = [];
    const refused = new Error('KMS.2404 refused on what it read');
    const results = await Promise.allSettled([
      store.write(counted(runs, 0, createGrant(k.keyId, 'read-0'))),
      store.write(counted(runs, 1, async (tx) => {
        await tx.getKey(k.keyId, { lock: true });
        await tx.countGrants(k.keyId);
        throw refused;
      })),
      store.write(counted(runs, 2, createGrant(k.keyId, 'read-2'))),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.equal((results[1] as PromiseRejectedResult).reason, refused);
    assert.deepEqual(runs, [1, 1, 1]);
    assert.deepEqual(units, [2]);
    assert.deepEqual(sent.filter((s) => /SAVEPOINT|ROLLBACK/.test(s)), []);
    assert.deepEqual((await auditRequestIds(store)).filter((r) => r?.startsWith('read-')), ['read-0', 'read-2']);
    assert.deepEqual(lines.map((r) => r.requestId), ['read-0', 'read-2']);
  });

  test('statements whose answer tells they changed nothing (a grant past the key\'s limit, a grant already ended, a DELETE that matched no row) do not undo the group: each refused unit answers alone', async () => {
    const [k, full] = [key(), key()];
    await store.write(async (tx) => {
      await tx.insertKey(k);
      await tx.insertKey(full);
      await tx.insertGrant(grant(full.keyId));
    });
    sent.length = 0;
    const units = commits(store);
    const runs: number[] = [];
    const [atLimit, gone, noRow] = [new Error('KMS.2404'), new Error('KMS.2501'), new Error('refused after a DELETE of nothing')];
    const results = await Promise.allSettled([
      store.write(counted(runs, 0, createGrant(k.keyId, 'told-0'))),
      store.write(counted(runs, 1, async (tx) => {
        await tx.getKey(full.keyId, { lock: true });
        if (!(await tx.insertGrant(grant(full.keyId), 1))) throw atLimit;
      })),
      store.write(counted(runs, 2, async (tx) => {
        await tx.getKey(k.keyId, { lock: true });
        if ((await tx.endGrantOfKey(k.keyId, '0'.repeat(64))) === null) throw gone;
      })),
      store.write(counted(runs, 3, async (tx) => {
        if ((await tx.deleteExpiredTokens(0)) === 0) throw noRow;
      })),
      store.write(counted(runs, 4, createGrant(k.keyId, 'told-4'))),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled']);
    assert.deepEqual([1, 2, 3].map((i) => (results[i] as PromiseRejectedResult).reason), [atLimit, gone, noRow]);
    assert.deepEqual(runs, [1, 1, 1, 1, 1]);
    assert.deepEqual(units, [2]);
    assert.deepEqual(sent.filter((s) => /SAVEPOINT|ROLLBACK/.test(s)), []);
    assert.deepEqual(await store.read(async (tx) => [await tx.countGrants(k.keyId), await tx.countGrants(full.keyId)]), [2, 1]);
  });

  test('a unit refused after it wrote undoes its group: every unit runs again once, under savepoints, and is answered on what is committed; the next group has none again', async () => {
    const k = await storedKey();
    const units = commits(store);
    const runs: number[] = [];
    const refused = new Error('KMS.2404 refused after writing');
    const readRefusal = new Error('refused on what it read');
    const results = await Promise.allSettled([
      store.write(counted(runs, 0, createGrant(k.keyId, 'undo-0'))),
      // Refused on what it read, which holds the grant of unit 0: judged again, on what is committed.
      store.write(counted(runs, 1, async (tx) => {
        if ((await tx.countGrants(k.keyId)) > 0) throw readRefusal;
      })),
      store.write(counted(runs, 2, async (tx) => {
        await createGrant(k.keyId, 'undo-2')(tx);
        throw refused;
      })),
      store.write(counted(runs, 3, createGrant(k.keyId, 'undo-3'))),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    assert.equal((results[1] as PromiseRejectedResult).reason, readRefusal);
    assert.equal((results[2] as PromiseRejectedResult).reason, refused);
    // Unit 3 never ran in the group undone at unit 2.
    assert.deepEqual(runs, [2, 2, 2, 1]);
    // The first group is undone (ROLLBACK, no COMMIT); the second commits units 0 and 3.
    assert.deepEqual(units, [2]);
    const rollback = sent.indexOf('ROLLBACK');
    assert.ok(rollback > 0, sent.join('\n'));
    assert.deepEqual(sent.slice(0, rollback).filter((s) => s.includes('SAVEPOINT')), []);
    assert.equal(sent[rollback + 1], `${BEGIN}; SAVEPOINT unit`);
    assert.deepEqual(sent.slice(rollback + 1).filter((s) => s.includes('SAVEPOINT')), [
      `${BEGIN}; SAVEPOINT unit`, 'RELEASE SAVEPOINT unit; SET LOCAL lock_timeout = 2; SAVEPOINT unit', 'ROLLBACK TO SAVEPOINT unit', 'ROLLBACK TO SAVEPOINT unit',
    ]);
    assert.equal(await store.read((tx) => tx.countGrants(k.keyId)), 2);
    assert.deepEqual((await auditRequestIds(store)).filter((r) => r?.startsWith('undo-')), ['undo-0', 'undo-3']);
    assert.deepEqual(lines.map((r) => r.requestId), ['undo-0', 'undo-3']);
    assert.equal(lines[1].prevHash, lines[0].hash);
    assert.equal((await verifyTrail(store)).intact, true);

    sent.length = 0;
    await Promise.all([0, 1].map((i) => store.write(createGrant(k.keyId, `after-${i}`))));
    assert.deepEqual(units, [2, 2]);
    assert.deepEqual(sent.filter((s) => s.includes('SAVEPOINT')), []);
  });

  test('a unit refused before it wrote keeps the rows it locked: the next unit may not wait for a lock (2 ms), and the group is undone and run again under savepoints rather than held', async () => {
    const [free, held] = [key(), key()];
    await store.write(async (tx) => {
      await tx.insertKey(free);
      await tx.insertKey(held);
    });
    const holder = await holdKeyRow(database.url, held.keyId);
    try {
      sent.length = 0;
      const refused = new Error('refused on what it read');
      const order: number[] = [];
      const both = Promise.allSettled([
        store.write(async (tx) => {
          order.push(0);
          await tx.getKey(free.keyId, { lock: true });
          throw refused;
        }),
        store.write(async (tx) => {
          order.push(1);
          return createGrant(held.keyId, 'held-1')(tx);
        }),
      ]);
      // The first group bounded the second unit's wait, was refused 55P03 and rolled back whole.
      for (let i = 0; !sent.includes('ROLLBACK'); i++) {
        assert.ok(i < 400, sent.join('\n'));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const first = sent.slice(0, sent.indexOf('ROLLBACK'));
      assert.deepEqual(first.filter((s) => s.startsWith('SET LOCAL lock_timeout')), ['SET LOCAL lock_timeout = 2']);
      await holder.query('COMMIT');
      const results = await both;
      assert.deepEqual(results.map((r) => r.status), ['rejected', 'fulfilled']);
      assert.equal((results[0] as PromiseRejectedResult).reason, refused);
      assert.equal(await store.read((tx) => tx.countGrants(held.keyId)), 1);
      // The unit the bound refused ran first in the next group, where it waited (once), as under savepoints.
      assert.deepEqual(order, [0, 1, 1, 0]);
    } finally {
      await holder.end();
    }
  });

  test('a statement the database refuses (a unique key taken) undoes the group the same way; the unit is retried as before and answered the refusal', async () => {
    const k = key();
    await store.write((tx) => tx.insertKey(k));
    const units = commits(store);
    const runs: number[] = [];
    const results = await Promise.allSettled([
      store.write(counted(runs, 0, createGrant(k.keyId, 'unique-0'))),
      store.write(counted(runs, 1, (tx) => tx.insertKey({ ...k }))),
      store.write(counted(runs, 2, createGrant(k.keyId, 'unique-2'))),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.equal((results[1] as PromiseRejectedResult).reason.code, '23505');
    // Unit 1 runs MAX_ATTEMPTS (5) times, as a lone write did; unit 0 twice (once undone), unit 2 once.
    assert.deepEqual(runs, [2, 5, 1]);
    assert.equal(units.reduce((a, b) => a + b, 0), 2);
    assert.equal(await store.read((tx) => tx.countGrants(k.keyId)), 2);
  });

  test('a key locked by an earlier unit is answered as the group last wrote it: a copy (what a unit changed without writing is not seen), and a unit that wrote it is read again', async () => {
    const k = await storedKey();
    const seen: string[] = [];
    await Promise.all([
      store.write(async (tx) => {
        const mine = await tx.getKey(k.keyId, { lock: true });
        (mine as { description: string }).description = 'changed, not written';
      }),
      store.write(async (tx) => {
        const mine = await tx.getKey(k.keyId, { lock: true });
        seen.push(mine?.description ?? 'missing');
        await tx.updateKey({ ...(mine as typeof k), description: 'written' });
      }),
      store.write(async (tx) => {
        seen.push((await tx.getKey(k.keyId, { lock: true }))?.description ?? 'missing');
      }),
    ]);
    assert.deepEqual(seen, ['', 'written']);
    // Locked by the first unit, read again by the third (after the second wrote it).
    assert.equal(sent.filter((s) => s === KEY_LOCK).length, 2);
    assert.equal((await store.read((tx) => tx.getKey(k.keyId)))?.description, 'written');
  });

  test('under savepoints, a unit rolled back released the key\'s lock it took: the next unit locks the key again', async () => {
    const k = key();
    await store.write((tx) => tx.insertKey(k));
    const refused = new Error('refused after writing');
    let firstRun = true;
    sent.length = 0;
    const results = await Promise.allSettled([
      // Undoes the first group once (runs 1); in the second, its own savepoint rolls its lock back.
      store.write(async (tx) => {
        await tx.getKey(k.keyId, { lock: true });
        await tx.insertGrant(grant(k.keyId));
        firstRun = false;
        throw refused;
      }),
      store.write(createGrant(k.keyId, 'relock-1')),
    ]);
    assert.equal(firstRun, false);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'fulfilled']);
    const second = sent.slice(sent.indexOf('ROLLBACK') + 1);
    assert.deepEqual(second.filter((s) => s === KEY_LOCK || s.includes('SAVEPOINT')), [
      `${BEGIN}; SAVEPOINT unit`, KEY_LOCK, 'ROLLBACK TO SAVEPOINT unit', KEY_LOCK,
    ]);
    assert.equal(await store.read((tx) => tx.countGrants(k.keyId)), 1);
  });
});
