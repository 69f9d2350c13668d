import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FairQueue, QueueFull } from './fair-queue.ts';

/** Work that finishes when the test says so, recording when it started. */
function gate(started: string[], name: string) {
  let open!: () => void;
  const done = new Promise<void>((resolve) => { open = resolve; });
  return { work: async () => { started.push(name); await done; return name; }, open };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test("one account's burst waits behind itself: another account's single call runs at the next free slot", async () => {
  const queue = new FairQueue({ slots: 2, perOwner: 100, total: 1000 });
  const started: string[] = [];
  const gates = Array.from({ length: 50 }, (_, i) => gate(started, `a${i}`));
  const burst = gates.map((g) => queue.run('A', g.work));
  const victim = gate(started, 'b0');
  const alone = queue.run('B', victim.work);
  await tick();
  assert.deepEqual(started, ['a0', 'a1']);
  assert.equal(queue.waiting, 49);
  gates[0].open();
  await tick();
  assert.deepEqual(started, ['a0', 'a1', 'b0']); // B's turn comes before A's third call
  victim.open();
  assert.equal(await alone, 'b0');
  for (const g of gates) g.open();
  assert.deepEqual(await Promise.all(burst), gates.map((_, i) => `a${i}`));
  assert.deepEqual([queue.waiting, queue.running], [0, 0]);
});

test('lines take turns one item each, in the order the accounts first waited', async () => {
  const queue = new FairQueue({ slots: 1, perOwner: 10, total: 100 });
  const started: string[] = [];
  const first = gate(started, 'x');
  const running = queue.run('X', first.work);
  const all = [
    ...['a1', 'a2', 'a3'].map((n) => queue.run('A', async () => { started.push(n); })),
    ...['b1', 'b2'].map((n) => queue.run('B', async () => { started.push(n); })),
    queue.run('C', async () => { started.push('c1'); }),
  ];
  first.open();
  await running;
  await Promise.all(all);
  assert.deepEqual(started, ['x', 'a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
});

test('bounded: past perOwner waiting for one account, or total in all, a call is refused at once (QueueFull)', async () => {
  const queue = new FairQueue({ slots: 1, perOwner: 2, total: 3 });
  const started: string[] = [];
  const g = gate(started, 'r');
  const running = queue.run('A', g.work);
  const waiting = [queue.run('A', async () => 1), queue.run('A', async () => 2)];
  await assert.rejects(queue.run('A', async () => 3), QueueFull);
  waiting.push(queue.run('B', async () => 4));
  await assert.rejects(queue.run('C', async () => 5), QueueFull); // total reached
  assert.equal(queue.waiting, 3);
  g.open();
  await running;
  assert.deepEqual(await Promise.all(waiting), [1, 2, 4]);
});

test('a call whose signal fires while it waits (client gone, time up) leaves the line and never runs', async () => {
  const queue = new FairQueue({ slots: 1, perOwner: 10, total: 10 });
  const started: string[] = [];
  const g = gate(started, 'running');
  const running = queue.run('A', g.work);
  const gone = new AbortController();
  let ran = false;
  const dropped = queue.run('B', async () => { ran = true; }, gone.signal);
  const next = queue.run('C', async () => 'next');
  gone.abort(new Error('the client went away'));
  await assert.rejects(dropped, /the client went away/);
  assert.equal(queue.waiting, 1);
  g.open();
  await running;
  assert.equal(await next, 'next');
  assert.equal(ran, false);
  // Already aborted: refused before it waits.
  await assert.rejects(queue.run('B', async () => { ran = true; }, AbortSignal.abort(new Error('gone'))), /gone/);
  assert.equal(ran, false);
});

test('work that fails frees its slot for the next in line', async () => {
  const queue = new FairQueue({ slots: 1, perOwner: 10, total: 10 });
  const failing = queue.run('A', async () => { throw new Error('openssl failed'); });
  const next = queue.run('B', async () => 'ran');
  await assert.rejects(failing, /openssl failed/);
  assert.equal(await next, 'ran');
});
