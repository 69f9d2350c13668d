import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { ChainedAuditEvent } from '../src/audit/chain.ts';
import { PostgresStore } from '../src/store/postgres.ts';
import { KEY_COLUMNS } from '../src/store/rows.ts';
import { AUDIT_APPEND_MANY } from '../src/store/sql-tx.ts';
import { freshDatabase, POSTGRES_SKIP } from './support/postgres.ts';
import type { Tx } from '../src/store/store.ts';
import { auditRequestIds, commits, counted, createGrant, grant, key, record } from './support/pg-group-units.ts';

/**
 * A PostgreSQL group sends its BEGIN, its lock wait bound and the bound's lifting without
 * waiting for their answers (node-postgres's pipeline mode, src/store/postgres.ts commitGroup):
 * each goes out with the statement after it, in one round trip. A unit that says its next
 * statement is its last (Tx.lastStatementNext) has the next unit's statements sent behind it
 * (src/store/postgres-overlap.ts). Traced here: when each
 * statement of the store's pooled connections is handed to the client (`send`), and when its
 * answer comes back (`answer`). In pipeline mode node-postgres writes a query to the socket when
 * it is handed one, whatever is still unanswered.
 */
type Event = `send ${string}` | `answer ${string}`;
const events: Event[] = [];
const pipelined: boolean[] = [];
const query = pg.Client.prototype.query;
/** Texts the client is handed instead of others, once each (a statement made to fail). */
const replaced = new Map<string, string>();

const BEGIN = 'BEGIN; SET LOCAL statement_timeout = 8000; SET LOCAL idle_in_transaction_session_timeout = 10000; SET LOCAL kmsd.moves_version = on';
const KEY_LOCK = `SELECT ${KEY_COLUMNS} FROM keys WHERE key_id = $1 FOR UPDATE`;
const name = (text: string): string =>
  text === BEGIN ? 'BEGIN' : text === KEY_LOCK ? 'KEY_LOCK' : text === AUDIT_APPEND_MANY ? 'AUDIT' : text.endsWith(' RETURNING table_name, version; COMMIT') ? 'COMMIT'
    : text.startsWith('WITH counted AS (UPDATE keys SET grants_version') ? 'GRANT_INSERT' : text;

/** A create-grant that says its insert is its last statement, as src/core/grants.ts does; `after` runs once it is answered. */
const lastInsert = (keyId: string, requestId: string, after: (tx: Tx) => Promise<void> = async () => {}) => async (tx: Tx) => {
  assert.ok(await tx.getKey(keyId, { lock: true }));
  const g = grant(keyId);
  tx.lastStatementNext();
  if (!(await tx.insertGrant(g))) throw new Error('KMS.2404');
  await after(tx);
  await tx.insertAudit(record(requestId, keyId));
  return g.grantId;
};

describe('PostgreSQL group commit: statements sent ahead (pipeline mode)', { skip: POSTGRES_SKIP }, () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let store: PostgresStore;
  const lines: ChainedAuditEvent[] = [];
  before(async () => {
    database = await freshDatabase();
    store = await PostgresStore.open(database.url, { deadlineMs: 10_000, onAudit: (r) => lines.push(r) });
    pg.Client.prototype.query = function (this: pg.Client & { release?: unknown }, ...args: unknown[]) {
      if (typeof this.release !== 'function') return (query as (...a: unknown[]) => unknown).apply(this, args);
      const config = args[0] as string | { text: string };
      const text = typeof config === 'string' ? config : config.text;
      const instead = replaced.get(text);
      if (instead !== undefined) {
        replaced.delete(text);
        args[0] = typeof config === 'string' ? instead : { ...config, text: instead };
      }
      events.push(`send ${name(text)}`);
      pipelined.push(this.pipeline);
      const answered = (query as (...a: unknown[]) => Promise<unknown>).apply(this, args);
      const heard = () => events.push(`answer ${name(text)}`);
      answered.then(heard, heard);
      return answered;
    } as typeof query;
  });
  after(async () => {
    pg.Client.prototype.query = query;
    await store?.close();
    await database?.drop();
  });
  beforeEach(() => {
    lines.length = 0;
    replaced.clear();
  });

  /** A key in the store; the statements traced from here on. */
  const storedKey = async () => {
    const k = key();
    await store.write((tx) => tx.insertKey(k));
    events.length = 0;
    pipelined.length = 0;
    return k;
  };

  test('the BEGIN goes with the first unit\'s statement, the lock wait bound with the second unit\'s, its lifting with the audit statement; every other statement waits for the answer before it', async () => {
    const k = await storedKey();
    const units = commits(store);
    await Promise.all([0, 1, 2, 3].map((i) => store.write(createGrant(k.keyId, `ahead-${i}`))));
    assert.deepEqual(units, [4]);
    assert.deepEqual(events, [
      'send BEGIN', 'send KEY_LOCK', 'answer BEGIN', 'answer KEY_LOCK',
      'send GRANT_INSERT', 'answer GRANT_INSERT',
      'send SET LOCAL lock_timeout = 2', 'send GRANT_INSERT', 'answer SET LOCAL lock_timeout = 2', 'answer GRANT_INSERT',
      'send GRANT_INSERT', 'answer GRANT_INSERT',
      'send GRANT_INSERT', 'answer GRANT_INSERT',
      'send SET LOCAL lock_timeout = 0', 'send AUDIT', 'answer SET LOCAL lock_timeout = 0', 'answer AUDIT',
      'send COMMIT', 'answer COMMIT',
    ]);
    // Every pooled connection runs in pipeline mode: what is handed to it is on the wire at once.
    assert.ok(pipelined.length > 0 && pipelined.every((p) => p === true));
    assert.equal(await store.read((tx) => tx.countGrants(k.keyId)), 4);
    assert.deepEqual(lines.map((r) => r.requestId), ['ahead-0', 'ahead-1', 'ahead-2', 'ahead-3']);
  });

  test('a statement sent ahead that fails fails its group whole with its own error (not the refusal of the statements behind it): nothing of the group is committed, the unit it went with runs again', async () => {
    const k = await storedKey();
    const units = commits(store);
    // The bound sent with the second unit's statement fails (a value PostgreSQL refuses), once.
    replaced.set('SET LOCAL lock_timeout = 2', 'SET LOCAL lock_timeout = -1');
    const results = await Promise.allSettled([0, 1, 2, 3].map((i) => store.write(createGrant(k.keyId, `failed-ahead-${i}`))));
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    const reason = (results[0] as PromiseRejectedResult).reason as pg.DatabaseError;
    assert.ok(reason instanceof pg.DatabaseError);
    // 22023: invalid_parameter_value, the bound's own refusal; not 25P02 (in_failed_sql_transaction), the second unit's.
    assert.equal(reason.code, '22023');
    assert.equal(reason.message, '-1 ms is outside the valid range for parameter "lock_timeout" (0 .. 2147483647)');
    // The failed group committed nothing; the three others ran in the next group.
    assert.deepEqual(units, [3]);
    assert.equal(await store.read((tx) => tx.countGrants(k.keyId)), 3);
    assert.deepEqual(events.slice(0, 10), [
      'send BEGIN', 'send KEY_LOCK', 'answer BEGIN', 'answer KEY_LOCK', 'send GRANT_INSERT', 'answer GRANT_INSERT',
      'send SET LOCAL lock_timeout = 2', 'send GRANT_INSERT', 'answer SET LOCAL lock_timeout = 2', 'answer GRANT_INSERT',
    ]);
    assert.equal(events[10], 'send ROLLBACK');
    assert.deepEqual((await auditRequestIds(store)).filter((r) => r?.startsWith('failed-ahead-')), ['failed-ahead-1', 'failed-ahead-2', 'failed-ahead-3']);
    assert.deepEqual(lines.map((r) => r.requestId), ['failed-ahead-1', 'failed-ahead-2', 'failed-ahead-3']);
  });

  test('a BEGIN that fails fails the group as if no unit ran: every unit is answered the BEGIN\'s own error (as when the BEGIN was waited for), not its statement\'s refusal behind it', async () => {
    const k = await storedKey();
    const units = commits(store);
    // BEGIN's settings refused (an impossible statement timeout), once.
    replaced.set(BEGIN, BEGIN.replace('statement_timeout = 8000', 'statement_timeout = -1'));
    const results = await Promise.allSettled([0, 1].map((i) => store.write(createGrant(k.keyId, `failed-begin-${i}`))));
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
    for (const r of results) assert.equal(((r as PromiseRejectedResult).reason as pg.DatabaseError).code, '22023');
    assert.deepEqual(units, []);
    assert.equal(await store.read((tx) => tx.countGrants(k.keyId)), 0);
    assert.deepEqual(events.slice(0, 5), ['send BEGIN', 'send KEY_LOCK', 'answer BEGIN', 'answer KEY_LOCK', 'send ROLLBACK']);
  });


  test('units that say their next statement is their last: from the second unit on, each later unit\'s statement is sent behind it before its answer, and the group commits them in unit order', async () => {
    const k = await storedKey();
    const units = commits(store);
    await Promise.all([0, 1, 2, 3].map((i) => store.write(lastInsert(k.keyId, `overlap-${i}`))));
    assert.deepEqual(units, [4]);
    assert.deepEqual(events, [
      // The first unit is answered before the next starts: it may wait for a row held elsewhere.
      'send BEGIN', 'send KEY_LOCK', 'answer BEGIN', 'answer KEY_LOCK', 'send GRANT_INSERT', 'answer GRANT_INSERT',
      'send SET LOCAL lock_timeout = 2', 'send GRANT_INSERT', 'send GRANT_INSERT', 'send GRANT_INSERT',
      'answer SET LOCAL lock_timeout = 2', 'answer GRANT_INSERT', 'answer GRANT_INSERT', 'answer GRANT_INSERT',
      'send SET LOCAL lock_timeout = 0', 'send AUDIT', 'answer SET LOCAL lock_timeout = 0', 'answer AUDIT',
      'send COMMIT', 'answer COMMIT',
    ]);
    assert.equal(await store.read((tx) => tx.countGrants(k.keyId)), 4);
    assert.deepEqual(lines.map((r) => r.requestId), ['overlap-0', 'overlap-1', 'overlap-2', 'overlap-3']);
  });

  test('units that overlap stage their records in whatever order their answers come; the trail has them in unit order', async () => {
    const k = await storedKey();
    // The second unit waits 30 ms after its answer before it stages its record; the third,
    // started behind it, stages its own first.
    const slow = () => new Promise<void>((r) => setTimeout(r, 30));
    await Promise.all([store.write(lastInsert(k.keyId, 'order-0')), store.write(lastInsert(k.keyId, 'order-1', slow)), store.write(lastInsert(k.keyId, 'order-2'))]);
    assert.deepEqual(lines.map((r) => r.requestId), ['order-0', 'order-1', 'order-2']);
    assert.deepEqual((await auditRequestIds(store)).filter((r) => r?.startsWith('order-')), ['order-0', 'order-1', 'order-2']);
  });

  test('an overlapped unit refused on its last statement\'s answer that changed nothing (a key at its grant limit) answers alone; the units behind it commit', async () => {
    const [k, full] = [key(), key()];
    await store.write(async (tx) => {
      await tx.insertKey(k);
      await tx.insertKey(full);
      await tx.insertGrant(grant(full.keyId));
    });
    events.length = 0;
    const units = commits(store);
    const atLimit = new Error('KMS.2404 at the limit');
    const results = await Promise.allSettled([
      store.write(lastInsert(k.keyId, 'limit-0')),
      store.write(async (tx) => {
        await tx.getKey(full.keyId, { lock: true });
        tx.lastStatementNext();
        if (!(await tx.insertGrant(grant(full.keyId), 1))) throw atLimit;
      }),
      store.write(lastInsert(k.keyId, 'limit-2')),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.equal((results[1] as PromiseRejectedResult).reason, atLimit);
    assert.deepEqual(units, [2]);
    assert.deepEqual(events.filter((e) => /SAVEPOINT|ROLLBACK/.test(e)), []);
    // The third unit's insert was sent before the second's was answered.
    assert.ok(events.indexOf('send GRANT_INSERT', events.indexOf('send GRANT_INSERT', events.indexOf('send GRANT_INSERT') + 1) + 1) < events.lastIndexOf('answer GRANT_INSERT'));
    assert.deepEqual(await store.read(async (tx) => [await tx.countGrants(k.keyId), await tx.countGrants(full.keyId)]), [2, 1]);
    assert.deepEqual(lines.map((r) => r.requestId), ['limit-0', 'limit-2']);
  });

  test('a unit that sends a statement after the one it said was its last, while a later unit runs behind it: never sent; having written nothing it runs again, alone, and is answered on that run', async () => {
    const k = await storedKey();
    const units = commits(store);
    const runs: number[] = [];
    const gone = new Error('KMS.2501');
    const results = await Promise.allSettled([
      store.write(counted(runs, 0, lastInsert(k.keyId, 'word-0'))),
      store.write(counted(runs, 1, async (tx) => {
        await tx.getKey(k.keyId, { lock: true });
        tx.lastStatementNext();
        // No such grant (a statement that changed nothing), then one more look (as endGrant does).
        if ((await tx.endGrantOfKey(k.keyId, '0'.repeat(64))) === null && (await tx.getGrant('0'.repeat(64))) === null) throw gone;
      })),
      store.write(counted(runs, 2, lastInsert(k.keyId, 'word-2'))),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.equal((results[1] as PromiseRejectedResult).reason, gone);
    assert.deepEqual(runs, [1, 2, 1]);
    // The first group committed the two others; the second unit's own group committed nothing.
    assert.deepEqual(units, [2]);
    assert.equal(await store.read((tx) => tx.countGrants(k.keyId)), 2);
    assert.deepEqual(lines.map((r) => r.requestId), ['word-0', 'word-2']);
  });

  test('a unit that wrote and then sends a statement after its last, while a later unit runs behind it: its group is undone and every unit runs again, each under a savepoint', async () => {
    const k = await storedKey();
    const units = commits(store);
    const runs: number[] = [];
    const results = await Promise.allSettled([
      store.write(counted(runs, 0, lastInsert(k.keyId, 'wrote-0'))),
      store.write(counted(runs, 1, lastInsert(k.keyId, 'wrote-1', async (tx) => {
        await tx.countGrants(k.keyId);
      }))),
      store.write(counted(runs, 2, lastInsert(k.keyId, 'wrote-2'))),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled']);
    assert.deepEqual(runs, [2, 2, 2]);
    assert.deepEqual(units, [3]);
    assert.ok(events.includes('send ROLLBACK'));
    assert.ok(events.includes('send SAVEPOINT unit') || events.some((e) => e.includes('SAVEPOINT unit')));
    assert.equal(await store.read((tx) => tx.countGrants(k.keyId)), 3);
    assert.deepEqual(lines.map((r) => r.requestId), ['wrote-0', 'wrote-1', 'wrote-2']);
  });

  test('a unit that stalls after its last statement, overtaken: the group its stall starts for a write waiting meanwhile runs as its own, and commits it', async () => {
    const [k, other] = [await storedKey(), key()];
    await store.write((tx) => tx.insertKey(other));
    const units = commits(store);
    // The second unit takes longer after its answer than a unit may (200 ms under a 10 s deadline):
    // its group stalls, and a write that waits meanwhile gets a group of its own at once. That
    // group once ran in the stalled unit's async context (its timer's), and its audit statement
    // was refused as a statement of that unit sent after its last: 500 for its caller.
    const first = Promise.all([0, 1, 2].map((i) => store.write(lastInsert(k.keyId, `stall-${i}`, i === 1 ? () => new Promise((r) => setTimeout(r, 600)) : undefined))));
    await new Promise((r) => setTimeout(r, 50));
    const late = await store.write(lastInsert(other.keyId, 'stall-late'));
    assert.equal(typeof late, 'string');
    assert.equal((await first).length, 3);
    // [1, 3] when the third unit began before the second stalled (one round trip, well under
    // 200 ms); on a machine slower than that, the third is handed back and joins the late write.
    assert.equal(units.reduce((a, b) => a + b, 0), 4);
    assert.deepEqual(lines.map((r) => r.requestId).sort(), ['stall-0', 'stall-1', 'stall-2', 'stall-late']);
    assert.equal(await store.read((tx) => tx.countGrants(k.keyId)), 3);
  });

  test('the first unit of a group is answered before the next starts: when its last statement waits for a row held elsewhere, its stall hands the units behind it to another group at once', async () => {
    const [k, other] = [await storedKey(), key()];
    const g = grant(k.keyId);
    await store.write(async (tx) => {
      await tx.insertKey(other);
      await tx.insertGrant(g);
    });
    // Another session (as another node's open transaction) holds the grant's row.
    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM grants WHERE grant_id = $1 FOR UPDATE', [g.grantId]);
      // A retire of that grant as src/core/grants.ts writes it, and a create-grant on another key beside it.
      const retire = store.write(async (tx) => {
        await tx.getKey(k.keyId, { lock: true });
        tx.lastStatementNext();
        assert.ok(await tx.endGrantOfKey(k.keyId, g.grantId));
      });
      const started = Date.now();
      await store.write(lastInsert(other.keyId, 'beside'));
      const waited = Date.now() - started;
      // Handed on at the stall (200 ms here), not held till the retire's statement times out (8 s).
      assert.ok(waited < 4000, `the write beside waited ${waited} ms`);
      await holder.query('ROLLBACK');
      await retire;
      assert.equal(await store.read((tx) => tx.countGrants(k.keyId)), 0);
    } finally {
      await holder.end();
    }
  });
});
