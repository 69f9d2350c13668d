import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresMemo } from './postgres-memo.ts';

const SQL = 'SELECT * FROM grants WHERE key_id = $1';
const row = (grantId: string) => [{ grant_id: grantId }];

test('rows are kept while the data version stands still, and forgotten when it moves either way', () => {
  const memo = new PostgresMemo();
  memo.observe('7');
  memo.put(SQL, '["k"]', row('g1'), memo.generation);
  memo.observe('7');
  assert.deepEqual(memo.get(SQL, '["k"]'), row('g1'));
  memo.observe('8');
  assert.equal(memo.get(SQL, '["k"]'), undefined);
  memo.put(SQL, '["k"]', row('g2'), memo.generation);
  // A lower number: a restored database, never a reason to keep rows.
  memo.observe('3');
  assert.equal(memo.get(SQL, '["k"]'), undefined);
});

test('an answer whose statement was sent before a forgetting is not remembered (answers arrive out of order)', () => {
  const memo = new PostgresMemo();
  memo.observe('1');
  const sentIn = memo.generation;
  // Another request's version read comes back first: a grant was retired elsewhere.
  memo.observe('2');
  // The older statement's answer (read before the retire, perhaps) arrives now.
  memo.put(SQL, '["k"]', row('retired'), sentIn);
  assert.equal(memo.get(SQL, '["k"]'), undefined);
  memo.put(SQL, '["k"]', [], memo.generation);
  assert.deepEqual(memo.get(SQL, '["k"]'), []);
});

test('this node\'s own commit forgets everything, also what was read while it committed', () => {
  const memo = new PostgresMemo();
  memo.observe('4');
  memo.put(SQL, '["k"]', row('g1'), memo.generation);
  memo.committed(null);
  const during = memo.generation;
  assert.equal(memo.get(SQL, '["k"]'), undefined);
  memo.committed('5');
  memo.put(SQL, '["k"]', row('stale'), during);
  assert.equal(memo.get(SQL, '["k"]'), undefined);
  memo.observe('5');
  memo.put(SQL, '["k"]', row('g2'), memo.generation);
  assert.deepEqual(memo.get(SQL, '["k"]'), row('g2'));
});

test('past 20,000 rows the memo starts again rather than grow', () => {
  const memo = new PostgresMemo();
  memo.observe('1');
  const page = Array.from({ length: 9_999 }, (_, i) => ({ grant_id: `g${i}` }));
  memo.put(SQL, '["a"]', page, memo.generation);
  memo.put(SQL, '["b"]', page, memo.generation);
  assert.equal(memo.get(SQL, '["a"]')?.length, 9_999);
  memo.put(SQL, '["c"]', page, memo.generation);
  assert.equal(memo.get(SQL, '["a"]'), undefined);
  assert.equal(memo.get(SQL, '["c"]')?.length, 9_999);
});

test('no data version (its row deleted by hand): every row forgotten, and nothing remembered until a version is read again', () => {
  const memo = new PostgresMemo();
  memo.observe('a');
  memo.put(SQL, '["k"]', row('g1'), memo.generation);
  memo.observe(null);
  assert.equal(memo.get(SQL, '["k"]'), undefined);
  memo.put(SQL, '["k"]', row('g1'), memo.generation);
  assert.equal(memo.get(SQL, '["k"]'), undefined);
  memo.observe(null);
  memo.put(SQL, '["k"]', row('g1'), memo.generation);
  assert.equal(memo.get(SQL, '["k"]'), undefined);
  memo.observe('b');
  memo.put(SQL, '["k"]', row('g2'), memo.generation);
  assert.deepEqual(memo.get(SQL, '["k"]'), row('g2'));
});

test('reset (node lock lost, connection lost) forgets the rows and the version: the same version read again does not bring them back', () => {
  const memo = new PostgresMemo();
  memo.observe('a');
  const before = memo.generation;
  memo.put(SQL, '["k"]', row('g1'), before);
  memo.reset();
  memo.observe('a');
  assert.equal(memo.get(SQL, '["k"]'), undefined);
  // An answer sent before the reset is not remembered either.
  memo.put(SQL, '["k"]', row('g1'), before);
  assert.equal(memo.get(SQL, '["k"]'), undefined);
});

test('by size: a row past 16 KiB (a large secret value) is not remembered, and past 64 MiB in all the memo starts again', () => {
  const memo = new PostgresMemo();
  memo.observe('1');
  memo.put(SQL, '["big"]', [{ sealed: Buffer.alloc(32 * 1024) }], memo.generation);
  assert.equal(memo.get(SQL, '["big"]'), undefined);
  const secret = [{ sealed: Buffer.alloc(15 * 1024) }];
  memo.put(SQL, '["small"]', secret, memo.generation);
  assert.equal(memo.get(SQL, '["small"]'), secret);
  // 15 KiB rows: about 4,400 of them make 64 MiB, far below 20,000 rows.
  for (let i = 0; i < 4_300; i++) memo.put(SQL, `["s${i}"]`, secret, memo.generation);
  assert.equal(memo.get(SQL, '["small"]'), secret);
  for (let i = 4_300; i < 4_500; i++) memo.put(SQL, `["s${i}"]`, secret, memo.generation);
  assert.equal(memo.get(SQL, '["small"]'), undefined);
  assert.equal(memo.get(SQL, '["s4499"]'), secret);
});
