import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { ChainedAuditEvent } from '../src/audit/chain.ts';
import { PostgresStore } from '../src/store/postgres.ts';
import { COMMIT_MOVING_VERSION } from '../src/store/postgres-memo.ts';
import { KEY_COLUMNS } from '../src/store/rows.ts';
import { AUDIT_APPEND_MANY } from '../src/store/sql-tx.ts';
import { freshDatabase, POSTGRES_SKIP } from './support/postgres.ts';
import { auditRequestIds, commits, createGrant, key } from './support/pg-group-units.ts';

/**
 * A PostgreSQL group sends its BEGIN, its lock wait bound and the bound's lifting without
 * waiting for their answers (node-postgres's pipeline mode, src/store/postgres.ts commitGroup):
 * each goes out with the statement after it, in one round trip. Traced here: when each
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
  text === BEGIN ? 'BEGIN' : text === KEY_LOCK ? 'KEY_LOCK' : text === AUDIT_APPEND_MANY ? 'AUDIT' : text === COMMIT_MOVING_VERSION ? 'COMMIT'
    : text.startsWith('WITH counted AS (UPDATE keys SET grants_version') ? 'GRANT_INSERT' : text;

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
});
