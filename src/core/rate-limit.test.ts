import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from './runtime.ts';
import { RateLimiter, SharedRateLimiter } from './rate-limit.ts';

// Two limiters over one buffer stand for two worker threads of one process.
const pair = (perSecond: number) => {
  const clock = new ManualClock(1_000_000);
  const buffer = SharedRateLimiter.buffer();
  return { clock, a: new SharedRateLimiter(perSecond, clock, buffer), b: new SharedRateLimiter(perSecond, clock, buffer) };
};

test('workers sharing the buckets spend one budget per caller', () => {
  const { a, b } = pair(3);
  assert.deepEqual([a.take('AK1'), b.take('AK1'), a.take('AK1'), b.take('AK1'), a.take('AK1')], [true, true, true, false, false]);
});

test('another caller has its own budget', () => {
  const { a, b } = pair(2);
  assert.deepEqual([a.take('AK1'), b.take('AK1'), a.take('AK1')], [true, true, false]);
  assert.deepEqual([b.take('user:u1'), a.take('user:u1'), b.take('user:u1')], [true, true, false]);
});

test('the budget refills at the rate, up to one second of it', () => {
  const { clock, a, b } = pair(4);
  for (let i = 0; i < 4; i++) assert.equal(a.take('AK1'), true);
  assert.equal(b.take('AK1'), false);
  clock.advance(250);
  assert.deepEqual([b.take('AK1'), a.take('AK1')], [true, false]);
  clock.advance(10_000);
  assert.deepEqual(Array.from({ length: 5 }, (_, i) => (i % 2 ? a : b).take('AK1')), [true, true, true, true, false]);
});

test('many callers at once each keep their own budget', () => {
  const { a, b } = pair(1);
  const callers = Array.from({ length: 5000 }, (_, i) => `AK${i}`);
  assert.ok(callers.every((c) => a.take(c)));
  assert.ok(callers.every((c) => !b.take(c)));
});

test('available() looks without taking; a caller never seen has a full bucket', () => {
  const { a, b } = pair(2);
  assert.deepEqual([a.available('u'), b.take('u'), a.available('u'), a.take('u'), b.available('u'), a.available('u')], [true, true, true, true, false, false]);
  assert.equal(b.available('someone else'), true);
});

test('a burst apart from the rate (a minute of failed logins): the burst, then the rate', () => {
  const clock = new ManualClock(1_000_000);
  const buffer = SharedRateLimiter.buffer();
  const a = new SharedRateLimiter(6 / 60, clock, buffer, 6);
  const b = new SharedRateLimiter(6 / 60, clock, buffer, 6);
  assert.deepEqual(Array.from({ length: 7 }, (_, i) => (i % 2 ? a : b).take('user:x')), [true, true, true, true, true, true, false]);
  clock.advance(10_000);
  assert.deepEqual([a.available('user:x'), b.take('user:x'), a.available('user:x')], [true, true, false]);
});

test('refusals past the budget are counted once across the workers: one of them opens the count, settle() reads and closes it', () => {
  const { a, b } = pair(2);
  assert.deepEqual([a.takeOrCount('10.0.0.1'), b.takeOrCount('10.0.0.1')], ['taken', 'taken']);
  assert.deepEqual([b.takeOrCount('10.0.0.1'), a.takeOrCount('10.0.0.1'), b.takeOrCount('10.0.0.1'), a.takeOrCount('10.0.0.1')], ['first', 'counted', 'counted', 'counted']);
  assert.equal(a.settle('10.0.0.1'), 4);
  assert.equal(b.settle('10.0.0.1'), 0);
  // The next refusal opens the next count, in whichever worker it lands.
  assert.deepEqual([a.takeOrCount('10.0.0.1'), b.takeOrCount('10.0.0.1')], ['first', 'counted']);
  assert.equal(b.settle('10.0.0.1'), 2);
  assert.equal(a.settle('never seen'), 0);
});

test('a caller whose count is open keeps its slot even once its bucket has refilled', () => {
  const { clock, a, b } = pair(1);
  assert.deepEqual([a.takeOrCount('src'), b.takeOrCount('src')], ['taken', 'first']);
  clock.advance(60_000);
  // 5,000 other callers, some of them probing the same slots: the open count stays.
  for (let i = 0; i < 5000; i++) a.take(`other${i}`);
  assert.equal(b.settle('src'), 1);
});

test('one event loop (RateLimiter) counts the same way', () => {
  const clock = new ManualClock(1_000_000);
  const one = new RateLimiter(2, clock);
  assert.deepEqual(['taken', 'taken', 'first', 'counted'], Array.from({ length: 4 }, () => one.takeOrCount('s')));
  assert.deepEqual([one.available('s'), one.take('s'), one.settle('s'), one.settle('s')], [false, false, 2, 0]);
  assert.equal(one.takeOrCount('s'), 'first');
});

test('every table draws its own hash seeds: where a name lands cannot be worked out from outside', () => {
  const seeds = (buffer: SharedArrayBuffer) => [...new Int32Array(buffer, 4, 2)];
  const a = SharedRateLimiter.buffer();
  const b = SharedRateLimiter.buffer();
  assert.notDeepEqual(seeds(a), seeds(b));
  assert.notDeepEqual(seeds(a), [0, 0]);
});

test('a caller that finds the table too crowded is let through by a request rate, refused by a failed-login limit', () => {
  const clock = new ManualClock(1_000_000);
  const crowded = SharedRateLimiter.buffer();
  const rate = new SharedRateLimiter(1, clock, crowded);
  // Every slot holds a caller that has just spent its token (not refilled, so not reusable).
  for (let i = 0; i < 70_000; i++) rate.take(`filler-${i}`);
  assert.equal(rate.take('newcomer'), true, 'a request rate lets it through uncounted');
  const logins = new SharedRateLimiter(1, clock, crowded, 1, 'refuse');
  assert.equal(logins.available('newcomer'), false);
  assert.equal(logins.take('newcomer'), false);
  assert.equal(logins.available('filler-3'), false, 'a caller with a slot is judged by its bucket');
  clock.advance(2_000);
  assert.equal(logins.available('filler-3'), true);
});

test('reservations: all or none of the buckets, held while checks are in flight on any limiter of the table, woken by a release', async () => {
  const { a, b } = pair(2);
  assert.deepEqual([a.reserve(['u', 's']).outcome, b.reserve(['u', 's']).outcome], ['taken', 'taken']);
  // Both buckets empty, held by the two checks in flight (one per limiter, as two event loops).
  const held = a.reserve(['u', 's']);
  assert.equal(held.outcome, 'held');
  // Another user from the same address: held by the address's checks; nothing taken from 'v'.
  assert.equal(a.reserve(['v', 's']).outcome, 'held');
  // The other limiter's check was a right password: its token comes back and wakes the waiter at once.
  const started = Date.now();
  const woken = held.outcome === 'held' ? held.wait(10_000) : Promise.resolve();
  b.release(['u', 's'], true);
  await woken;
  assert.ok(Date.now() - started < 1_000);
  assert.equal(a.reserve(['u', 's']).outcome, 'taken');
  // Two wrong passwords keep their tokens; with no check in flight the budget is spent.
  a.release(['u', 's'], false);
  a.release(['u', 's'], false);
  assert.deepEqual([a.reserve(['u', 's']).outcome, b.reserve(['v', 's']).outcome], ['spent', 'spent']);
  // 'v' was never charged: its own bucket is full.
  assert.equal(b.reserve(['v', 'other-source']).outcome, 'taken');
});
