import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DECISIONS } from '../src/core/decisions.ts';
import { nativeCrypto } from '../src/core/pkey/native.ts';
import { mallocTrims, TRIM_EVERY_MS, trimMalloc, trimMallocPeriodically } from '../src/memory/malloc-trim.ts';

/**
 * The memory settings kmsd runs with (docs/start-and-memory.md, "Memory"), checked on a real
 * started server: bin/kmsd.js run as the command npm installs, with two event loops serving.
 * - V8's young generation (--max-semi-space-size) and old-generation growth
 *   (--heap-growing-percent) on Node's command line (V8's flags are the process's, so every
 *   worker thread's isolate gets them too: the young generation seen in their heap statistics);
 * - glibc's malloc settings in its environment;
 * - the periodic malloc trim (src/memory/malloc-trim.ts), counted in /_kmsd/metrics.
 */
const BIN = fileURLToPath(new URL('../bin/kmsd.js', import.meta.url));
const SEMI_SPACE_MB = DECISIONS.memory.semiSpaceMb;
const HEAP_GROWING_PERCENT = DECISIONS.memory.heapGrowingPercent;

const metric = async (url: string, name: string): Promise<number> => {
  const line = (await (await fetch(`${url}/_kmsd/metrics`)).text()).split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
};

test('bin/kmsd.js starts Node with a young generation of 8 MB per semi-space, an old generation let grow by 20 %, glibc malloc settings, and trims malloc every 10 s for every loop', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-memory-'));
  const env: NodeJS.ProcessEnv = { ...process.env, KMSD_LOG_LEVEL: 'warn' };
  delete env.MALLOC_ARENA_MAX;
  delete env.MALLOC_MMAP_THRESHOLD_;
  const proc = spawn(BIN, ['serve', '--port', '0', '--data-dir', dir, '--workers', '2', '--loop-start-load', '0'], { env });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      proc.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      proc.stdout.on('data', () => {
        const m = /all 2 event loops are serving/.test(out) && /API at (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
    });
    const argv = readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8').split('\0');
    assert.deepEqual(argv.slice(1, 4), [`--max-semi-space-size=${SEMI_SPACE_MB}`, `--heap-growing-percent=${HEAP_GROWING_PERCENT}`, BIN]);
    const environ = readFileSync(`/proc/${proc.pid}/environ`, 'utf8').split('\0');
    assert.ok(environ.includes('MALLOC_ARENA_MAX=2'));
    assert.ok(environ.includes('MALLOC_MMAP_THRESHOLD_=1048576'));
    assert.equal(await metric(url, 'kmsd_event_loops'), 2);
    assert.equal(await metric(url, 'kmsd_memory_trims_total'), 0, 'no trim during the start');
    // One period on, the main thread has trimmed once: every loop's scrape says so (the kernel
    // spreads the scrapes over both loops, so ask several times).
    await new Promise((r) => setTimeout(r, TRIM_EVERY_MS + 1500));
    for (let i = 0; i < 6; i++) assert.equal(await metric(url, 'kmsd_memory_trims_total'), 1);
  } finally {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--max-semi-space-size is in force on a worker thread's isolate as on the main thread's", async () => {
  // What the flag on bin/kmsd.js's command line does to the worker threads kmsd starts: V8's new
  // space is two semi-spaces, so it never exceeds twice the flag, on any thread.
  const script = `
    const { Worker } = require('node:worker_threads');
    const v8 = require('node:v8');
    const young = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    const churn = () => { let keep = []; for (let i = 0; i < 3e6; i++) { keep.push({ i }); if (keep.length > 5e4) keep = []; } };
    churn();
    const main = young();
    const w = new Worker(\`(\${churn})(); require('node:worker_threads').parentPort.postMessage(require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size)\`, { eval: true });
    w.on('message', (worker) => { console.log(JSON.stringify({ main, worker })); w.terminate(); });
  `;
  const node = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  const flags = readFileSync(BIN, 'utf8').split('\n').find((line) => line.startsWith('exec '))?.split(/\s+/).filter((w) => w.startsWith('--')) ?? [];
  assert.deepEqual(flags, [`--max-semi-space-size=${SEMI_SPACE_MB}`, `--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
  const child = spawn(node, [...flags, '-e', script]);
  let text = '';
  child.stdout.on('data', (d) => (text += d));
  await new Promise((r) => child.on('close', r));
  const { main, worker } = JSON.parse(text) as { main: number; worker: number };
  assert.ok(main > 0 && main <= 2 * SEMI_SPACE_MB * 1024 * 1024, `main thread's new space ${main}`);
  assert.ok(worker > 0 && worker <= 2 * SEMI_SPACE_MB * 1024 * 1024, `worker thread's new space ${worker}`);
});

test('a trim gives the free pages of the malloc arenas back through the kmsd-crypto addon, and the periodic trimmer counts into the shared slot', async () => {
  assert.equal(typeof nativeCrypto()?.trimMemory, 'function', 'the addon of this checkout has trimMemory (npm run build:native)');
  // glibc's answer: whether it gave anything back (this process may have nothing free to give).
  assert.equal(typeof nativeCrypto()?.trimMemory?.(), 'boolean');
  const before = mallocTrims();
  assert.equal(trimMalloc(), true);
  assert.equal(mallocTrims(), before + 1);
  const shared = new Int32Array(new SharedArrayBuffer(12), 8, 1);
  const trimmer = trimMallocPeriodically(shared, 20);
  try {
    await new Promise((r) => setTimeout(r, 110));
  } finally {
    trimmer.stop();
  }
  const counted = Atomics.load(shared, 0);
  assert.ok(counted >= 1 && counted <= 5, `${counted} trims in 110 ms at one per 20 ms`);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(Atomics.load(shared, 0), counted, 'no trim after stop()');
});
