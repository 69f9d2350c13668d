import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { binEnv, binNodeFlags } from '../scripts/bin-settings.ts';

/** Starting kmsd as shipped and talking to it: shared by the bench scripts (run.ts, starvation.ts). */

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

/** Children still running: stopped when the bench exits, also on a throw that skips their stop(). */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const proc of running) proc.kill('SIGTERM');
});

export function child(args: string[], env: Record<string, string> = {}): { proc: ChildProcess; line: (re: RegExp) => Promise<RegExpExecArray>; output: () => string } {
  const proc = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  let out = '';
  proc.stdout?.on('data', (d) => (out += d));
  proc.stderr?.on('data', (d) => (out += d));
  return {
    proc,
    output: () => out,
    line: (re) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out: ${out}`)), 60_000);
      const check = () => {
        const m = re.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m);
        }
      };
      proc.stdout?.on('data', check);
      proc.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      check();
    }),
  };
}

export async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

export function identities(dir: string) {
  const hex = (n: number) => randomBytes(n).toString('hex');
  const file = {
    accounts: [
      { name: 'owner', id: hex(16), project_id: hex(16), users: [{ name: 'admin', id: hex(16), password: `pw-${hex(6)}`, access_keys: [{ ak: `AK${hex(6)}`, sk: hex(16) }] }] },
      { name: 'grantee', id: hex(16), project_id: hex(16), users: [{ name: 'app', id: hex(16), password: `pw-${hex(6)}`, access_keys: [{ ak: `AK${hex(6)}`, sk: hex(16) }] }] },
    ],
  };
  writeFileSync(join(dir, 'identities.json'), JSON.stringify(file));
  const user = (i: number) => {
    const a = file.accounts[i];
    const u = a.users[0];
    return { account: a.name, accountId: a.id, projectId: a.project_id, id: u.id, name: u.name, password: u.password, ak: u.access_keys[0].ak, sk: u.access_keys[0].sk };
  };
  return { file, owner: user(0), grantee: user(1) };
}

export type User = ReturnType<typeof identities>['owner'];

/** kmsd runs as shipped: with the node flags of bin/kmsd.js's sh part (its `exec "$node" ...` line)... */
export function shippedNodeFlags(): string[] {
  // KMSD_BENCH_NODE_FLAGS="--max-semi-space-size=2 ...": measure other flags than the shipped ones.
  if (process.env.KMSD_BENCH_NODE_FLAGS !== undefined) return process.env.KMSD_BENCH_NODE_FLAGS.split(/\s+/).filter(Boolean);
  return binNodeFlags(here('..'));
}

/** ...and the environment variables it sets (its `export NAME="${NAME:-VALUE}"` line). */
export function shippedEnv(): Record<string, string> {
  return binEnv(here('..'));
}

/** `store`: "sqlite" (in dataDir, the default) or a postgres:// URL. */
export async function startKmsd(dataDir: string, rootKey: string, workers: number, nodeArgs: string[] = [], store = 'sqlite'): Promise<{ proc: ChildProcess; url: string }> {
  const c = child([...shippedNodeFlags(), ...nodeArgs, here('../bin/kmsd.js'), 'serve'], {
    ...shippedEnv(), KMSD_PORT: '0', KMSD_DATA_DIR: dataDir, KMSD_IDENTITIES: join(dataDir, 'identities.json'), KMSD_ROOT_KEY: rootKey, KMSD_LOG_LEVEL: 'warn',
    // Every loop from the start: the load measures N loops serving (the on-demand start is measured by bench/loops-rss.ts).
    KMSD_WORKERS: String(workers), KMSD_LOOP_START_LOAD: '0', KMSD_STORE: store,
  });
  const m = await c.line(/API at (http:\/\/\S+)/);
  // The main thread serves from the banner on; the load waits for every worker thread to join.
  if (workers > 1) await c.line(/all \d+ event loops are serving/);
  return { proc: c.proc, url: m[1] };
}

/**
 * Cold start as a user meets it: `bin/kmsd.js serve` spawned with the node flags and env its sh
 * part sets, on `dataDir`, then GET / polled every 2 ms until it answers 200. Resolves with the
 * process, its URL and the milliseconds from spawn to that first 200. `bin`: another build's
 * bin/kmsd.js, to compare.
 */
export async function spawnUntilServing(dataDir: string, workers: number, env: Record<string, string> = {}, bin = here('../bin/kmsd.js')): Promise<{ proc: ChildProcess; url: string; ms: number }> {
  const port = 20_000 + Math.floor(Math.random() * 30_000);
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const proc = spawn(process.execPath, [...shippedNodeFlags(), bin, 'serve'], {
    env: { ...process.env, ...shippedEnv(), KMSD_PORT: String(port), KMSD_DATA_DIR: dataDir, KMSD_LOG_LEVEL: 'warn', KMSD_WORKERS: String(workers), ...env },
    stdio: 'ignore',
  });
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`kmsd exited with ${proc.exitCode}`);
    try {
      if ((await fetch(`${url}/`)).ok) return { proc, url, ms: performance.now() - started };
    } catch {
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}

export async function token(url: string, u: User): Promise<string> {
  const r = await fetch(`${url}/v3/auth/tokens`, {
    method: 'POST',
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: u.name, password: u.password, domain: { name: u.account } } } }, scope: { project: { id: u.projectId } } } }),
  });
  return r.headers.get('x-subject-token') as string;
}

export async function call(url: string, tok: string, project: string, op: string, body: unknown): Promise<any> {
  const r = await fetch(`${url}/v1.0/${project}/kms/${op}`, { method: 'POST', headers: { 'X-Auth-Token': tok, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (r.status !== 200) throw new Error(`${op}: ${r.status} ${await r.text()}`);
  return r.json();
}

/** Builds dist/ first: kmsd is measured as installed (bin/kmsd.js runs dist/ while it is current). */
export async function buildFirst(): Promise<void> {
  for (const script of ['../scripts/build.ts', '../scripts/build-native.ts']) {
    const c = child([here(script)]);
    await new Promise<void>((resolve, reject) => c.proc.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`build failed (${code})`)))));
  }
}
