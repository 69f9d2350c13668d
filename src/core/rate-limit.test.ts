import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from './runtime.ts';
import { SharedRateLimiter } from './rate-limit.ts';

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
