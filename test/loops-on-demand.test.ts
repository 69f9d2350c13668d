import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testConfig } from '../src/config.ts';
import { startWorkers } from '../src/cluster.ts';
import { SAMPLE_MS } from '../src/loops-on-demand.ts';
import { within } from './support/within.ts';

/**
 * --workers N with --loop-start-load P (src/loops-on-demand.ts): the worker threads start once
 * the main thread was at least P % busy over a sample. The server runs in this process, so this
 * thread is its main thread: the tests make it busy (a synchronous spin) or leave it idle, and
 * read the count of loops from /_kmsd/metrics.
 */
const loops = async (url: string): Promise<number> => {
  const text = await (await fetch(`${url}/_kmsd/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('kmsd_event_loops '));
  return Number(line?.split(' ')[1]);
};

const spin = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* busy, as a loaded main thread is */ }
};

const settled = async (p: Promise<unknown>): Promise<boolean> => {
  const pending = Symbol('pending');
  return (await Promise.race([p.then(() => true, () => true), new Promise((r) => setImmediate(() => r(pending)))])) !== pending;
};

describe('event loops started when load needs them', () => {
  test('idle: only the main thread serves; once it is busy past the threshold, every other loop starts and the metrics count them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-loops-'));
    writeFileSync(join(dir, 'ids.json'), JSON.stringify({ accounts: [{ name: 'acme', users: [{ name: 'admin' }] }] }));
    // 90 %: this process is also the test's client, and on a CI machine whose other test file takes
    // the cores, its own requests and the start's work stretch over a sample (60 % was passed there).
    const config = testConfig({ dataDir: dir, identities: join(dir, 'ids.json'), port: 0, workers: 3, loopStartLoad: 90, logLevel: 'silent' });
    const server = await startWorkers(config, (error) => assert.fail(String(error)));
    try {
      // Idle for several samples (a few requests, far from 90 % of the main thread's time).
      for (let i = 0; i < 6; i++) {
        await new Promise((r) => setTimeout(r, SAMPLE_MS));
        assert.equal(await loops(server.url), 1);
      }
      assert.equal(await settled(server.joined), false, 'no worker thread started');
      // Busy for 8 samples, a sample's length less 10 ms at a time, letting the sampler's timer run
      // between them: a sample ending in the middle of the spin is then ~96 % busy, whenever it began,
      // and starts both other loops (one long spin instead would leave its sample also holding the
      // idle time before it, up to a whole sample and any late timer: under 90 % when the machine is loaded).
      for (let i = 0; i < 8; i++) {
        spin(SAMPLE_MS - 10);
        await new Promise((r) => setImmediate(r));
      }
      const started = await within(server.joined.then(() => true), 30_000, () => 'late').catch(() => false);
      assert.ok(started, 'the other loops started within 30 s of the spin');
      assert.equal(await loops(server.url), 3);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a node stopped before any load needed more loops stops without starting them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-loops-'));
    writeFileSync(join(dir, 'ids.json'), JSON.stringify({ accounts: [{ name: 'acme', users: [{ name: 'admin' }] }] }));
    const config = testConfig({ dataDir: dir, identities: join(dir, 'ids.json'), port: 0, workers: 2, loopStartLoad: 90, logLevel: 'silent' });
    const server = await startWorkers(config, (error) => assert.fail(String(error)));
    try {
      assert.equal(await loops(server.url), 1);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(await settled(server.joined), true);
  });

  test('--loop-start-load 0 starts every loop at once, as before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-loops-'));
    writeFileSync(join(dir, 'ids.json'), JSON.stringify({ accounts: [{ name: 'acme', users: [{ name: 'admin' }] }] }));
    const server = await startWorkers(testConfig({ dataDir: dir, identities: join(dir, 'ids.json'), port: 0, workers: 2, loopStartLoad: 0, logLevel: 'silent' }), (error) => assert.fail(String(error)));
    try {
      await server.joined;
      assert.equal(await loops(server.url), 2);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
