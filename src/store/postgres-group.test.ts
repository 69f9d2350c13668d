import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteQueue, type GroupRun } from './postgres-group.ts';
import type { Tx } from './store.ts';

/**
 * The queue of a PostgreSQL node's writes (postgres-group.ts) on its own, with groups that run
 * their units one after the other as the store does (no database: the waits are what is tested;
 * test/postgres-group-commit.test.ts has them on a real one).
 */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const runUnits = (groups: number[]) => async (run: GroupRun) => {
  groups.push(run.units.length);
  const outcomes = [];
  for (let i = 0; i < run.end; i++) outcomes.push({ ok: true as const, value: await run.run(i, {} as Tx) });
  return outcomes;
};
const limits = (maxInFlight: number, stallMs: number) => ({ maxInFlight, stallMs, maxWaitMs: 300, waitedTooLong: () => new Error('waited too long') });

test('a write waiting behind a group that runs (not stalled) while connections are free is not refused at its bound: it runs in the next group', async () => {
  const groups: number[] = [];
  const queue = new WriteQueue(runUnits(groups), limits(10, 1000));
  // One group of 8 units of 100 ms: 800 ms, far past the 300 ms bound, no unit stalling.
  const first = Array.from({ length: 8 }, () => queue.submit(() => sleep(100).then(() => 'slow')));
  await sleep(50);
  const late = queue.submit(async () => 'late');
  assert.deepEqual(await Promise.all([...first, late]), [...Array(8).fill('slow'), 'late']);
  assert.deepEqual(groups, [8, 1]);
});

test('while every connection runs a stalled group, a write handed back is refused at its bound, before the stalled unit ends', async () => {
  const groups: number[] = [];
  const queue = new WriteQueue(runUnits(groups), limits(1, 50));
  const started = performance.now();
  // The first unit stalls (600 ms > 50): the second is handed back, and the one connection stays busy.
  const stalled = queue.submit(() => sleep(600).then(() => 'stalled'));
  const waiting = queue.submit(async () => 'never ran').then(
    () => ({ refused: false, at: performance.now() - started }),
    (error: Error) => ({ refused: error.message === 'waited too long', at: performance.now() - started }),
  );
  const answer = await waiting;
  assert.equal(answer.refused, true);
  assert.ok(answer.at >= 290 && answer.at < 600, `refused at ${answer.at.toFixed(0)} ms`);
  assert.equal(await stalled, 'stalled');
  assert.deepEqual(groups, [2]);
  await queue.idle();
});
