import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commitMovingVersions, PostgresMemo, tablesNamedBy, type InFlight } from './postgres-memo.ts';
import { BACKUP_TABLES } from './backup/tables.ts';

const SQL = 'SELECT * FROM grants WHERE key_id = $1';
const USERS = 'SELECT u.*, a.name AS account_name FROM users u JOIN accounts a ON a.id = u.account_id WHERE u.id = $1';
const row = (grantId: string) => [{ grant_id: grantId }];
/** A version read's answer, as DATA_VERSION_READ gives it: every table, `grants` at `grants`, the others at `others`. */
const versions = (grants: string, others = 'o') => BACKUP_TABLES.map((table) => `${table}=${table === 'grants' ? grants : others}`).sort().join(',');
const put = (memo: PostgresMemo, sql: string, id: string, rows: Record<string, unknown>[]) => memo.put(sql, id, rows, memo.stampOf(sql));

test('the tables a statement names, as whole words; none named: all of them', () => {
  assert.deepEqual(tablesNamedBy(USERS), ['accounts', 'users']);
  // access_keys is not keys, key_tags not keys either.
  assert.deepEqual(tablesNamedBy('SELECT * FROM access_keys WHERE id = $1'), ['access_keys']);
  assert.deepEqual(tablesNamedBy('SELECT * FROM key_tags t JOIN keys k ON k.key_id = t.key_id'), ['keys', 'key_tags']);
  assert.deepEqual(tablesNamedBy('SELECT 1'), BACKUP_TABLES);
});

test('the COMMIT moves the tables it is given, each once, in one statement with the COMMIT; a name that is not one is refused', () => {
  assert.equal(commitMovingVersions(['keys', 'grants', 'keys']),
    "INSERT INTO data_version (table_name, version) SELECT table_name, gen_random_uuid()::text FROM unnest(ARRAY['grants', 'keys']::text[]) AS changed (table_name) ON CONFLICT (table_name) DO UPDATE SET version = EXCLUDED.version RETURNING table_name, version; COMMIT");
  assert.throws(() => commitMovingVersions(["keys'); DROP TABLE keys; --"]), /not a table name/);
});

test('rows are kept while their tables\' versions stand still, and forgotten when one moves either way', () => {
  const memo = new PostgresMemo();
  memo.observe(versions('7'));
  put(memo, SQL, '["k"]', row('g1'));
  memo.observe(versions('7'));
  assert.deepEqual(memo.get(SQL, '["k"]'), row('g1'));
  memo.observe(versions('8'));
  assert.equal(memo.get(SQL, '["k"]'), undefined);
  put(memo, SQL, '["k"]', row('g2'));
  // A lower number: a restored database, never a reason to keep rows.
  memo.observe(versions('3'));
  assert.equal(memo.get(SQL, '["k"]'), undefined);
});

test('a table\'s version moving keeps what was read from the other tables, and forgets a statement that joins it', () => {
  const memo = new PostgresMemo();
  memo.observe(versions('1'));
  put(memo, SQL, '["k"]', row('g1'));
  put(memo, USERS, '["u"]', [{ id: 'u' }]);
  const JOINED = 'SELECT k.*, g.grant_id FROM keys k JOIN grants g ON g.key_id = k.key_id WHERE k.key_id = $1';
  put(memo, JOINED, '["k"]', row('g1'));
  memo.observe(versions('2'));
  assert.deepEqual([memo.get(SQL, '["k"]'), memo.get(JOINED, '["k"]'), memo.get(USERS, '["u"]')], [undefined, undefined, [{ id: 'u' }]]);
  // The users table's version moves: the users' rows go, the grants' read since stay.
  put(memo, SQL, '["k"]', row('g2'));
  memo.observe(versions('2', 'p'));
  assert.deepEqual([memo.get(SQL, '["k"]'), memo.get(USERS, '["u"]')], [row('g2'), undefined]);
});

test('an answer whose statement was sent before a forgetting of one of its tables is not remembered (answers arrive out of order)', () => {
  const memo = new PostgresMemo();
  memo.observe(versions('1'));
  const sentIn = memo.stampOf(SQL);
  const usersSentIn = memo.stampOf(USERS);
  // Another request's version read comes back first: a grant was retired elsewhere.
  memo.observe(versions('2'));
  // The older statement's answer (read before the retire, perhaps) arrives now.
  memo.put(SQL, '["k"]', row('retired'), sentIn);
  assert.equal(memo.get(SQL, '["k"]'), undefined);
  // A statement of a table that did not move is remembered, although sent before.
  memo.put(USERS, '["u"]', [{ id: 'u' }], usersSentIn);
  assert.deepEqual(memo.get(USERS, '["u"]'), [{ id: 'u' }]);
  put(memo, SQL, '["k"]', []);
  assert.deepEqual(memo.get(SQL, '["k"]'), []);
});

test('this node\'s own commit forgets the tables it moved, also what was read of them while it committed; a COMMIT without a readable answer forgets everything', () => {
  const memo = new PostgresMemo();
  memo.observe(versions('4'));
  put(memo, SQL, '["k"]', row('g1'));
  put(memo, USERS, '["u"]', [{ id: 'u' }]);
  const during = memo.stampOf(SQL);
  // Read while the COMMIT was under way, answered before its answer: remembered for now.
  memo.put(SQL, '["during"]', row('stale'), during);
  memo.committed(new Map([['grants', '5']]));
  assert.deepEqual([memo.get(SQL, '["k"]'), memo.get(SQL, '["during"]'), memo.get(USERS, '["u"]')], [undefined, undefined, [{ id: 'u' }]]);
  // Answered after it: not remembered.
  memo.put(SQL, '["k"]', row('stale'), during);
  assert.equal(memo.get(SQL, '["k"]'), undefined);
  memo.observe(versions('5'));
  put(memo, SQL, '["k"]', row('g2'));
  assert.deepEqual([memo.get(SQL, '["k"]'), memo.get(USERS, '["u"]')], [row('g2'), [{ id: 'u' }]]);
  memo.committed(null);
  assert.deepEqual([memo.get(SQL, '["k"]'), memo.get(USERS, '["u"]')], [undefined, undefined]);
  put(memo, USERS, '["u"]', [{ id: 'u' }]);
  assert.equal(memo.get(USERS, '["u"]'), undefined);
});

test('past 20,000 rows the memo starts again rather than grow', () => {
  const memo = new PostgresMemo();
  memo.observe(versions('1'));
  const page = Array.from({ length: 9_999 }, (_, i) => ({ grant_id: `g${i}` }));
  put(memo, SQL, '["a"]', page);
  put(memo, SQL, '["b"]', page);
  assert.equal(memo.get(SQL, '["a"]')?.length, 9_999);
  put(memo, SQL, '["c"]', page);
  assert.equal(memo.get(SQL, '["a"]'), undefined);
  assert.equal(memo.get(SQL, '["c"]')?.length, 9_999);
});

test('no data versions (the rows deleted by hand), or a table\'s row missing: its rows forgotten, and none remembered until a version is read again', () => {
  const memo = new PostgresMemo();
  memo.observe(versions('a'));
  put(memo, SQL, '["k"]', row('g1'));
  put(memo, USERS, '["u"]', [{ id: 'u' }]);
  memo.observe(null);
  assert.deepEqual([memo.get(SQL, '["k"]'), memo.get(USERS, '["u"]')], [undefined, undefined]);
  put(memo, SQL, '["k"]', row('g1'));
  assert.equal(memo.get(SQL, '["k"]'), undefined);
  memo.observe(null);
  put(memo, SQL, '["k"]', row('g1'));
  assert.equal(memo.get(SQL, '["k"]'), undefined);
  memo.observe(versions('b'));
  put(memo, SQL, '["k"]', row('g2'));
  put(memo, USERS, '["u"]', [{ id: 'u' }]);
  assert.deepEqual(memo.get(SQL, '["k"]'), row('g2'));
  // Only the grants table's row is gone: the users' rows stay.
  const withoutGrants = versions('b').split(',').filter((pair) => !pair.startsWith('grants=')).join(',');
  memo.observe(withoutGrants);
  memo.observe(withoutGrants);
  put(memo, SQL, '["k"]', row('g3'));
  assert.deepEqual([memo.get(SQL, '["k"]'), memo.get(USERS, '["u"]')], [undefined, [{ id: 'u' }]]);
  // This node's next COMMIT gives the missing table a row again (postgres.ts commitGroup).
  assert.deepEqual([...memo.tablesWithoutVersion], ['grants']);
  memo.committed(new Map([['grants', 'c']]));
  assert.deepEqual([...memo.tablesWithoutVersion], []);
  put(memo, SQL, '["k"]', row('g3'));
  assert.deepEqual(memo.get(SQL, '["k"]'), row('g3'));
});

test('reset (node lock lost, connection lost) forgets the rows and the versions: the same versions read again do not bring them back', () => {
  const memo = new PostgresMemo();
  memo.observe(versions('a'));
  const before = memo.stampOf(SQL);
  memo.put(SQL, '["k"]', row('g1'), before);
  memo.reset();
  memo.observe(versions('a'));
  assert.equal(memo.get(SQL, '["k"]'), undefined);
  // An answer sent before the reset is not remembered either.
  memo.put(SQL, '["k"]', row('g1'), before);
  assert.equal(memo.get(SQL, '["k"]'), undefined);
});

test('by size: a row past 16 KiB (a large secret value) is not remembered, and past 64 MiB in all the memo starts again', () => {
  const memo = new PostgresMemo();
  memo.observe(versions('1'));
  put(memo, SQL, '["big"]', [{ sealed: Buffer.alloc(32 * 1024) }]);
  assert.equal(memo.get(SQL, '["big"]'), undefined);
  const secret = [{ sealed: Buffer.alloc(15 * 1024) }];
  put(memo, SQL, '["small"]', secret);
  assert.equal(memo.get(SQL, '["small"]'), secret);
  // 15 KiB rows: about 4,400 of them make 64 MiB, far below 20,000 rows.
  for (let i = 0; i < 4_300; i++) put(memo, SQL, `["s${i}"]`, secret);
  assert.equal(memo.get(SQL, '["small"]'), secret);
  for (let i = 4_300; i < 4_500; i++) put(memo, SQL, `["s${i}"]`, secret);
  assert.equal(memo.get(SQL, '["small"]'), undefined);
  assert.equal(memo.get(SQL, '["s4499"]'), secret);
});

test('a read under way is shared at its stamp only, and with a read that holds a connection only once it is sent', () => {
  const memo = new PostgresMemo();
  memo.observe(versions('1'));
  const flight: InFlight = { stamp: memo.stampOf(SQL), sent: false, answer: new Promise(() => {}) };
  memo.underWay(SQL, '["k"]', flight);
  // Still waiting for its connection: not for a read that holds one (it may hold the one it waits for).
  assert.deepEqual([memo.arriving(SQL, '["k"]', flight.stamp, false), memo.arriving(SQL, '["k"]', flight.stamp, true)], [flight.answer, undefined]);
  flight.sent = true;
  assert.equal(memo.arriving(SQL, '["k"]', flight.stamp, true), flight.answer);
  // Other parameters, or a table of its forgotten since: its own read.
  assert.equal(memo.arriving(SQL, '["other"]', flight.stamp, true), undefined);
  memo.observe(versions('2'));
  assert.equal(memo.arriving(SQL, '["k"]', memo.stampOf(SQL), true), undefined);
});

test('the versions read in another order are the same versions: nothing is forgotten', () => {
  const memo = new PostgresMemo();
  memo.observe(versions('1'));
  put(memo, SQL, '["k"]', row('g1'));
  memo.observe(versions('1').split(',').reverse().join(','));
  assert.deepEqual(memo.get(SQL, '["k"]'), row('g1'));
});
