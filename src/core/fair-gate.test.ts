import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FairGate } from './fair-gate.ts';

/** Work that ends when told to; records when it starts. */
function job(log: string[], name: string) {
  let end!: () => void;
  const done = new Promise<void>((resolve) => (end = resolve));
  return { work: async () => { log.push(name); await done; }, end };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('at most `total` at once, at most `perCaller` of them one caller\'s; waiting callers take turns', async () => {
  const gate = new FairGate(2, 1);
  const log: string[] = [];
  const a = [1, 2, 3, 4].map((i) => job(log, `a${i}`));
  const b = [1, 2].map((i) => job(log, `b${i}`));
  const c = [job(log, 'c1')];
  const runs = [...a.map((j) => gate.run('a', j.work)), ...b.map((j) => gate.run('b', j.work)), ...c.map((j) => gate.run('c', j.work))];
  await tick();
  assert.deepEqual(log, ['a1', 'b1']);
  assert.deepEqual(gate.load, { running: 2, waiting: 5 });
  a[0].end();
  await tick();
  // a's next waits behind c (a had its turn): c1 starts.
  assert.deepEqual(log, ['a1', 'b1', 'c1']);
  b[0].end();
  await tick();
  assert.deepEqual(log, ['a1', 'b1', 'c1', 'a2']);
  c[0].end();
  await tick();
  assert.deepEqual(log, ['a1', 'b1', 'c1', 'a2', 'b2']);
  for (const j of [...a, ...b]) j.end();
  await Promise.all(runs);
  assert.deepEqual(log, ['a1', 'b1', 'c1', 'a2', 'b2', 'a3', 'a4']);
  assert.deepEqual(gate.load, { running: 0, waiting: 0 });
});

test('a failing piece of work frees its place', async () => {
  const gate = new FairGate(1, 1);
  await assert.rejects(gate.run('a', async () => { throw new Error('boom'); }), /boom/);
  assert.equal(await gate.run('a', async () => 'next'), 'next');
  assert.deepEqual(gate.load, { running: 0, waiting: 0 });
});

test('a total given as a function is read at each piece of work: the main thread\'s share shrinks as other loops start', async () => {
  let loops = 1;
  const gate = new FairGate(() => (loops > 1 ? 1 : 2), 1);
  const log: string[] = [];
  const jobs = ['a', 'b', 'c', 'd'].map((name) => job(log, name));
  const runs = jobs.map((j, i) => gate.run(`caller${i}`, j.work));
  await tick();
  // Alone: two at once.
  assert.deepEqual(log, ['a', 'b']);
  loops = 2;
  jobs[0].end();
  await tick();
  // Two still ran when the others started: one ended, one runs, none more starts.
  assert.deepEqual(log, ['a', 'b']);
  jobs[1].end();
  await tick();
  assert.deepEqual(log, ['a', 'b', 'c']);
  assert.deepEqual(gate.load, { running: 1, waiting: 1 });
  jobs[2].end();
  jobs[3].end();
  await Promise.all(runs);
  assert.deepEqual(log, ['a', 'b', 'c', 'd']);
});
