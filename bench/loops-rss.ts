import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { call, child, identities, shippedEnv, shippedNodeFlags, stop, token } from './kmsd.ts';

/**
 * Resident memory in the default configuration (issue 25 item 3): `bin/kmsd.js serve` with no
 * --workers (one loop per core, the others started when load needs them), idle 2 s after its
 * banner; then an encrypt-data load (1 KiB, token, 64 connections, autocannon in its own
 * process) for `seconds`, and the resident memory and loop count right after it; then again once
 * the node has been quiet long enough to compact each loop's heap and give freed malloc memory back
 * (src/memory/malloc-trim.ts), counted by kmsd_memory_compactions_total and kmsd_memory_trims_total.
 * `node bench/loops-rss.ts [seconds] [bin]` (the figure is after a minute: 60).
 */
const seconds = Number(process.argv[2] ?? 60);
const bin = process.argv[3] ?? fileURLToPath(new URL('../bin/kmsd.js', import.meta.url));
const rssMiB = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024);
// Counted by the metric, not read from a debug log: at debug level every request is a log line,
// and a minute of load is hundreds of MiB of output for this process to hold and search (it
// fell behind, the node's stdout pipe filled, and the node blocked on its own log).
const trims = async (url: string) => Number(/^kmsd_memory_trims_total (\d+)$/m.exec(await (await fetch(`${url}/_kmsd/metrics`)).text())?.[1] ?? 0);
const compactions = async (url: string) => Number(/^kmsd_memory_compactions_total (\d+)$/m.exec(await (await fetch(`${url}/_kmsd/metrics`)).text())?.[1] ?? 0);
const loops = async (url: string) => /^kmsd_event_loops (\d+)$/m.exec(await (await fetch(`${url}/_kmsd/metrics`)).text())?.[1] ?? '? (no such metric)';

const dir = mkdtempSync(join(tmpdir(), 'kmsd-bench-rss-'));
try {
  const ids = identities(dir);
  const c = child([...shippedNodeFlags(), bin, 'serve'], {
    ...shippedEnv(), KMSD_PORT: '0', KMSD_DATA_DIR: dir, KMSD_IDENTITIES: join(dir, 'identities.json'),
    KMSD_ROOT_KEY: randomBytes(32).toString('base64'), KMSD_LOG_LEVEL: 'warn',
  });
  const url = (await c.line(/API at (http:\/\/\S+)/))[1];
  try {
    await new Promise((r) => setTimeout(r, 2000));
    // And the trim a quiet node makes once started (src/memory/malloc-trim.ts), before the load.
    for (let waited = 0; waited < 10_000 && (await trims(url)) === 0; waited += 250) await new Promise((r) => setTimeout(r, 250));
    const pid = c.proc.pid as number;
    const idle = { rss: rssMiB(pid), loops: await loops(url) };
    const tok = await token(url, ids.owner);
    const key = await call(url, tok, ids.owner.projectId, 'create-key', { key_alias: 'bench-rss' });
    const body = JSON.stringify({ key_id: key.key_info.key_id, plain_text: randomBytes(768).toString('base64') });
    const job = { url, connections: 64, duration: seconds, kind: 'fixed', method: 'POST', path: `/v1.0/${ids.owner.projectId}/kms/encrypt-data`, headers: { 'content-type': 'application/json', 'x-auth-token': tok }, body };
    const trimsBefore = await trims(url);
    const load = spawn(process.execPath, [fileURLToPath(new URL('./load.ts', import.meta.url)), JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    load.stdout.on('data', (d) => (out += d));
    await new Promise((r) => load.on('exit', r));
    const result = JSON.parse(out);
    const after = { rss: rssMiB(pid), loops: await loops(url) };
    // The trim once the node is quiet (src/memory/malloc-trim.ts): the first after the load.
    let trimmed = 'none within 15 s';
    for (let waited = 0; waited < 15_000; waited += 250) {
      await new Promise((r) => setTimeout(r, 250));
      if ((await trims(url)) > trimsBefore) {
        trimmed = `after ${waited + 250} ms quiet`;
        break;
      }
    }
    const settled = rssMiB(pid);
    const compacted = await compactions(url);
    console.log(`default configuration: idle ${idle.rss} MiB with ${idle.loops} loop(s); after ${seconds} s of encrypt-data (${Math.round(result.rps)} req/s, non-2xx ${result.non2xx}): ${after.rss} MiB with ${after.loops} loop(s); once quiet, the loops' heaps compacted (${compacted} compactions since the start, every loop) and the trim (${trimmed}): ${settled} MiB`);
  } finally {
    await stop(c.proc);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
