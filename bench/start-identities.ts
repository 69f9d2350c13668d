import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnUntilServing, stop } from './kmsd.ts';

/**
 * Cold start with a declared identities file (issue 25 item 3): `bin/kmsd.js serve` on a data
 * directory that served before, with an identities file of 5 users with passwords, spawned until
 * GET / answers 200 (the 5 password checks run after it listens: DECISIONS.declaredPasswordsAfterListen);
 * then a password login of each user right away (each waits for those checks).
 * `node bench/start-identities.ts [rounds] [workers] [bin ...]`: with several bin/kmsd.js (other
 * builds, e.g. copies of bin/ and dist/ of another commit), their rounds alternate, each on a data
 * directory of its own, so that all of them meet the same phases of a shared machine.
 */
const rounds = Number(process.argv[2] ?? 7);
const workers = Number(process.argv[3] ?? 1);
const bins = process.argv.length > 4 ? process.argv.slice(4) : [fileURLToPath(new URL('../bin/kmsd.js', import.meta.url))];
const users = Array.from({ length: 5 }, (_, i) => ({ name: `user${i}`, password: `pw-${randomBytes(6).toString('hex')}` }));
const dirs = bins.map(() => {
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-bench-ids-'));
  writeFileSync(join(dir, 'identities.json'), JSON.stringify({ accounts: [{ name: 'acme', users }] }));
  return dir;
});

/** CPU time (user + system, every thread) the process has used, ms: on a shared machine, what to compare. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function once(bin: string, dir: string): Promise<{ ms: number; cpu: number; loginsMs: number }> {
  const { proc, url, ms } = await spawnUntilServing(dir, workers, { KMSD_IDENTITIES: join(dir, 'identities.json') }, bin);
  const served = performance.now();
  const cpu = cpuMs(proc.pid as number);
  const statuses = await Promise.all(users.map(async (u) => (await fetch(`${url}/v3/auth/tokens`, {
    method: 'POST',
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: u.name, password: u.password, domain: { name: 'acme' } } } } } }),
  })).status));
  const loginsMs = performance.now() - served;
  if (statuses.some((s) => s !== 201)) throw new Error(`logins answered ${statuses}`);
  await stop(proc);
  return { ms, cpu, loginsMs };
}

const median = (values: number[]): number => values[Math.floor(values.length / 2)];
try {
  // Each data directory's first start: users created.
  for (let b = 0; b < bins.length; b++) await once(bins[b], dirs[b]);
  const figures: { ms: number; cpu: number; loginsMs: number }[][] = bins.map(() => []);
  for (let i = 0; i < rounds; i++) for (let b = 0; b < bins.length; b++) figures[b].push(await once(bins[b], dirs[b]));
  for (let b = 0; b < bins.length; b++) {
    const starts = figures[b].map((f) => Math.round(f.ms)).sort((x, y) => x - y);
    const cpu = figures[b].map((f) => f.cpu).sort((x, y) => x - y);
    const logins = figures[b].map((f) => Math.round(f.loginsMs)).sort((x, y) => x - y);
    const which = bins.length > 1 ? `${bins[b]}: ` : '';
    console.log(`${which}cold start, existing data dir, 5 declared users, ${workers} loop(s): median ${median(starts)} ms (${starts.join(', ')}), CPU used by then median ${median(cpu)} ms (${cpu.join(', ')}); then 5 logins at once: median ${median(logins)} ms`);
  }
} finally {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
