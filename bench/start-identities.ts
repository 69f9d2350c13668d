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
 * then a password login of each user right away (each waits for those checks). `node bench/start-identities.ts [rounds] [workers] [bin]`.
 */
const rounds = Number(process.argv[2] ?? 7);
const workers = Number(process.argv[3] ?? 1);
const bin = process.argv[4] ?? fileURLToPath(new URL('../bin/kmsd.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kmsd-bench-ids-'));
const users = Array.from({ length: 5 }, (_, i) => ({ name: `user${i}`, password: `pw-${randomBytes(6).toString('hex')}` }));
writeFileSync(join(dir, 'identities.json'), JSON.stringify({ accounts: [{ name: 'acme', users }] }));

/** CPU time (user + system, every thread) the process has used, ms: on a shared machine, what to compare. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function once(): Promise<{ ms: number; cpu: number; loginsMs: number }> {
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

try {
  await once(); // the data directory's first start: users created
  const figures = [];
  for (let i = 0; i < rounds; i++) figures.push(await once());
  const starts = figures.map((f) => Math.round(f.ms)).sort((a, b) => a - b);
  const cpu = figures.map((f) => f.cpu).sort((a, b) => a - b);
  const logins = figures.map((f) => Math.round(f.loginsMs)).sort((a, b) => a - b);
  console.log(`cold start, existing data dir, 5 declared users, ${workers} loop(s): median ${starts[Math.floor(rounds / 2)]} ms (${starts.join(', ')}), CPU used by then median ${cpu[Math.floor(rounds / 2)]} ms (${cpu.join(', ')}); then 5 logins at once: median ${logins[Math.floor(rounds / 2)]} ms`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
