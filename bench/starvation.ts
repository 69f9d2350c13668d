import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFirst, call, identities, startKmsd, stop, token } from './kmsd.ts';

/**
 * node bench/starvation.ts [BURST] [--native-crypto none]: the reproduction of issue 20 item 9.
 * One account sends BURST (default 4,500) DIGEST signs (ECDSA P-256) at once; 100 ms later
 * another account sends one. Prints how long that one waited, how many of the burst were answered
 * before it, how long the burst took and kmsd's CPU time a request, on one event loop and on the
 * default number; then the same for a burst of describe-key (no cryptography: the HTTP edge's own
 * share). `none` runs kmsd with `--native-crypto none` (the fallbacks). Before the kmsd-crypto addon, each DIGEST sign was an
 * `openssl` process in one unbounded line: the single sign waited 14.8 s. A repro, not a test:
 * its figures depend on the machine (BENCHMARKS.md records them).
 */
const burstSize = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 4500);
const nativeCrypto = process.argv.includes('none') ? 'none' : '';

type Send = () => Promise<number>;

/** kmsd's CPU seconds so far (all its threads), from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function post(url: string, tok: string, project: string, op: string, body: unknown): Promise<number> {
  const r = await fetch(`${url}/v1.0/${project}/kms/${op}`, {
    method: 'POST', headers: { 'X-Auth-Token': tok, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  await r.arrayBuffer();
  return r.status;
}

/** A's burst, then B's one call 100 ms later: how long B waited and how many of A's were answered first. */
async function burstAgainst(pid: number, burstCall: Send, victimCall: Send): Promise<string> {
  const cpu = cpuSeconds(pid);
  const started = performance.now();
  const statuses = new Map<number, number>();
  let answered = 0;
  const burst = Array.from({ length: burstSize }, () => burstCall().then(
    (s) => { answered++; statuses.set(s, (statuses.get(s) ?? 0) + 1); },
    () => { answered++; statuses.set(0, (statuses.get(0) ?? 0) + 1); },
  ));
  await new Promise((r) => setTimeout(r, 100));
  const asked = performance.now();
  const status = await victimCall();
  const waited = performance.now() - asked;
  const before = answered;
  await Promise.all(burst);
  const total = performance.now() - started;
  const cpuMs = ((cpuSeconds(pid) - cpu) * 1000) / (burstSize + 1);
  return `B's call answered ${status} in ${waited.toFixed(0)} ms, after ${before} of A's ${burstSize}; ` +
    `the burst took ${total.toFixed(0)} ms, kmsd CPU ${cpuMs.toFixed(2)} ms a request, statuses ${JSON.stringify(Object.fromEntries(statuses))}`;
}

async function round(workers: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-starvation-'));
  const ids = identities(dir);
  process.env.KMSD_NATIVE_CRYPTO = nativeCrypto;
  const kmsd = await startKmsd(dir, randomBytes(32).toString('base64'), workers);
  const pid = kmsd.proc.pid as number;
  try {
    const [a, b] = [await token(kmsd.url, ids.owner), await token(kmsd.url, ids.grantee)];
    const [pa, pb] = [ids.owner.projectId, ids.grantee.projectId];
    const keyOf = async (tok: string, project: string) =>
      (await call(kmsd.url, tok, project, 'create-key', { key_alias: `starve-${randomBytes(4).toString('hex')}`, key_spec: 'EC_P256', key_usage: 'SIGN_VERIFY' })).key_info.key_id as string;
    const [keyA, keyB] = [await keyOf(a, pa), await keyOf(b, pb)];
    const digest = () => createHash('sha256').update(randomBytes(8)).digest('base64');
    const sign = (tok: string, project: string, keyId: string) => () => post(kmsd.url, tok, project, 'sign', { key_id: keyId, message: digest(), signing_algorithm: 'ECDSA_SHA_256' });
    const describe = (tok: string, project: string, keyId: string) => () => post(kmsd.url, tok, project, 'describe-key', { key_id: keyId });
    // Warm-up (connections, JIT), not reported.
    await Promise.all(Array.from({ length: 300 }, (_, i) => (i % 2 ? sign(a, pa, keyA) : describe(a, pa, keyA))()));
    const label = `${workers} event loop(s), addon ${nativeCrypto === 'none' ? 'off (fallbacks)' : 'on'}`;
    process.stdout.write(`${label}, DIGEST sign burst:   ${await burstAgainst(pid, sign(a, pa, keyA), sign(b, pb, keyB))}\n`);
    // The same burst of an operation without cryptography: what the HTTP edge alone costs B.
    process.stdout.write(`${label}, describe-key burst: ${await burstAgainst(pid, describe(a, pa, keyA), describe(b, pb, keyB))}\n`);
  } finally {
    await stop(kmsd.proc);
    rmSync(dir, { recursive: true, force: true });
  }
}

await buildFirst();
for (const workers of [...new Set([1, availableParallelism()])]) await round(workers);
