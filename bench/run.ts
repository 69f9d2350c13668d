import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testConfig } from '../src/config.ts';
import { RootKey } from '../src/core/sealing.ts';
import { applyIdentities, parseIdentities } from '../src/identities.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import { signedHeaders } from '../test/support/sdk-signer.ts';
import type { Job } from './load.ts';
import { seedGrants } from './seed.ts';

/**
 * npm run bench [-- --quick]: kmsd on a fresh SQLite store (durable commits, as shipped) and a
 * bare node:http baseline, driven by the same autocannon jobs from a separate process, at 64
 * connections. Prints and records req/s, p50, p99 and the ratio to the baseline.
 */
const quick = process.argv.includes('--quick');
// --only TEXT runs the workloads whose name contains TEXT (nothing is written to BENCHMARKS.md);
// KMSD_BENCH_PROFILE=DIR has kmsd write CPU profiles there (for finding where the time goes).
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? process.argv[onlyAt + 1] : null;
const selected = (workload: string) => only === null || only.split('|').some((part) => workload.includes(part));
const profileDir = process.env.KMSD_BENCH_PROFILE;
const DURATION = quick ? 2 : 10;
const WARMUP = quick ? 1 : 2;
const CONNECTIONS = 64;
const SEED = quick ? { keys: 1_000, grantsPerKey: 100 } : { keys: 10_000, grantsPerKey: 100 };
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

interface Figures {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

function child(args: string[], env: Record<string, string> = {}): { proc: ChildProcess; line: (re: RegExp) => Promise<RegExpExecArray> } {
  const proc = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d) => (out += d));
  proc.stderr?.on('data', (d) => (out += d));
  return {
    proc,
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

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

async function load(job: Job): Promise<Figures> {
  const c = child([here('./load.ts'), JSON.stringify(job)]);
  const m = await c.line(/^(\{.*\})$/m);
  return JSON.parse(m[1]) as Figures;
}

/** Warms up with `warmup` (by default the same job), then measures `job`. */
async function measure(job: Omit<Job, 'duration' | 'connections'>, warmup = job): Promise<Figures> {
  await load({ ...warmup, duration: WARMUP, connections: CONNECTIONS });
  return load({ ...job, duration: DURATION, connections: CONNECTIONS });
}

function identities(dir: string) {
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

type User = ReturnType<typeof identities>['owner'];

/** kmsd runs as shipped: with the node flags of bin/kmsd.js's shebang line. */
function shippedNodeFlags(): string[] {
  const shebang = readFileSync(here('../bin/kmsd.js'), 'utf8').split('\n')[0];
  return shebang.split(/\s+/).filter((word) => word.startsWith('--'));
}

async function startKmsd(dataDir: string, rootKey: string): Promise<{ proc: ChildProcess; url: string }> {
  const c = child([...shippedNodeFlags(), ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), here('../bin/kmsd.js'), 'serve'], {
    KMSD_PORT: '0', KMSD_DATA_DIR: dataDir, KMSD_IDENTITIES: join(dataDir, 'identities.json'), KMSD_ROOT_KEY: rootKey, KMSD_LOG_LEVEL: 'warn',
  });
  const m = await c.line(/API at (http:\/\/\S+)/);
  return { proc: c.proc, url: m[1] };
}

async function token(url: string, u: User): Promise<string> {
  const r = await fetch(`${url}/v3/auth/tokens`, {
    method: 'POST',
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: u.name, password: u.password, domain: { name: u.account } } } }, scope: { project: { id: u.projectId } } } }),
  });
  return r.headers.get('x-subject-token') as string;
}

async function call(url: string, tok: string, project: string, op: string, body: unknown): Promise<any> {
  const r = await fetch(`${url}/v1.0/${project}/kms/${op}`, { method: 'POST', headers: { 'X-Auth-Token': tok, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (r.status !== 200) throw new Error(`${op}: ${r.status} ${await r.text()}`);
  return r.json();
}

interface Row {
  workload: string;
  kmsd: Figures;
  baseline: Figures;
  unit?: string;
  divisor?: number;
  extra?: string;
}

async function main(): Promise<void> {
  const rootKey = randomBytes(32).toString('base64');
  const fresh = mkdtempSync(join(tmpdir(), 'kmsd-bench-'));
  const seeded = mkdtempSync(join(tmpdir(), 'kmsd-bench-seeded-'));
  const base = child([here('./baseline.ts')]);
  const baseUrl = `http://127.0.0.1:${(await base.line(/listening (\d+)/))[1]}`;
  const rows: Row[] = [];
  try {
    const ids = identities(fresh);
    const kmsd = await startKmsd(fresh, rootKey);
    const ownerToken = await token(kmsd.url, ids.owner);
    const granteeToken = await token(kmsd.url, ids.grantee);
    const keyId = (await call(kmsd.url, ownerToken, ids.owner.projectId, 'create-key', { key_alias: 'bench' })).key_info.key_id;
    await call(kmsd.url, ownerToken, ids.owner.projectId, 'create-grant', { key_id: keyId, grantee_principal: ids.grantee.id, operations: ['encrypt-data', 'describe-key'] });
    const listKey = (await call(kmsd.url, ownerToken, ids.owner.projectId, 'create-key', { key_alias: 'bench-list' })).key_info.key_id;
    for (let i = 0; i < 100; i++) await call(kmsd.url, ownerToken, ids.owner.projectId, 'create-grant', { key_id: listKey, grantee_principal: randomBytes(8).toString('hex'), operations: ['describe-key'] });

    // One request signed once by the official SDK signer and replayed (its date stays inside the 15-minute window).
    const encryptPath = `/v1.0/${ids.grantee.projectId}/kms/encrypt-data`;
    const encryptBody = JSON.stringify({ key_id: keyId, plain_text: 'k'.repeat(1024) });
    type JobFor = (url: string) => Omit<Job, 'duration' | 'connections'>;
    const both = async (workload: string, job: JobFor, extra: Partial<Row> = {}, warmup: JobFor = job) => {
      if (!selected(workload)) return;
      const k = await measure(job(kmsd.url), warmup(kmsd.url));
      const b = await measure(job(baseUrl), warmup(baseUrl));
      rows.push({ workload, kmsd: k, baseline: b, ...extra });
      process.stdout.write(`${workload}: ${Math.round(k.rps)} req/s (baseline ${Math.round(b.rps)})\n`);
    };
    await both('encrypt-data 1 KiB, grantee, AK/SK', (url) => ({
      url, kind: 'fixed', method: 'POST', path: encryptPath, body: encryptBody,
      headers: signedHeaders(kmsd.url, 'POST', encryptPath, ids.grantee, { 'Content-Type': 'application/json' }, encryptBody),
    }));
    // sign / verify: IAM only (grants cannot name them), so the key owner signs, with AK/SK like encrypt-data.
    const signKey = (await call(kmsd.url, ownerToken, ids.owner.projectId, 'create-key', { key_alias: 'bench-sign', key_spec: 'EC_P256' })).key_info.key_id;
    // DIGEST costs an `openssl pkeyutl` process per request (node:crypto hashes what it signs);
    // RAW is node:crypto in process: both are measured.
    for (const messageType of ['DIGEST', 'RAW'] as const) {
      const message = messageType === 'DIGEST' ? createHash('sha256').update('bench').digest('base64') : Buffer.from('bench').toString('base64');
      const signBody = JSON.stringify({ key_id: signKey, message, signing_algorithm: 'ECDSA_SHA_256', message_type: messageType });
      const signature = (await call(kmsd.url, ownerToken, ids.owner.projectId, 'sign', JSON.parse(signBody))).signature;
      const verifyBody = JSON.stringify({ key_id: signKey, message, signature, signing_algorithm: 'ECDSA_SHA_256', message_type: messageType });
      for (const [op, body] of [['sign', signBody], ['verify', verifyBody]] as const) {
        const path = `/v1.0/${ids.owner.projectId}/kms/${op}`;
        await both(`${op} EC_P256 ECDSA_SHA_256 ${messageType}, owner, AK/SK`, (url) => ({
          url, kind: 'fixed', method: 'POST', path, body,
          headers: signedHeaders(kmsd.url, 'POST', path, ids.owner, { 'Content-Type': 'application/json' }, body),
        }));
      }
    }
    await both('describe-key, grantee, token', (url) => ({
      url, kind: 'fixed', method: 'POST', path: `/v1.0/${ids.grantee.projectId}/kms/describe-key`,
      headers: { 'content-type': 'application/json', 'x-auth-token': granteeToken }, body: JSON.stringify({ key_id: keyId }),
    }));
    const pairJob = (k: string, ot: string, gt: string, o: User, g: User) => (url: string): Omit<Job, 'duration' | 'connections'> => ({
      url, kind: 'pairs', pairs: { projectOwner: o.projectId, projectGrantee: g.projectId, keyId: k, granteeId: g.id, ownerToken: ot, granteeToken: gt },
    });
    // A warm-up cut off between create and retire leaves grants behind: it gets a key of its own.
    const warmKey = (await call(kmsd.url, ownerToken, ids.owner.projectId, 'create-key', { key_alias: 'bench-warm' })).key_info.key_id;
    await both('create-grant + retire-grant pairs, empty store', pairJob(keyId, ownerToken, granteeToken, ids.owner, ids.grantee), { unit: 'pairs/s', divisor: 2 },
      pairJob(warmKey, ownerToken, granteeToken, ids.owner, ids.grantee));
    await both('list-grants, page of 100', (url) => ({
      url, kind: 'fixed', method: 'POST', path: `/v1.0/${ids.owner.projectId}/kms/list-grants`,
      headers: { 'content-type': 'application/json', 'x-auth-token': ownerToken }, body: JSON.stringify({ key_id: listKey, limit: 100 }),
    }));
    await stop(kmsd.proc);
    const grants = SEED.keys * SEED.grantsPerKey;
    const seededWorkload = `create-grant + retire-grant pairs, ${grants.toLocaleString('en')} grants stored`;
    if (!selected(seededWorkload)) return report(rows);

    // The same pairs with a million grants already stored.
    const seededIds = identities(seeded);
    writeFileSync(join(seeded, 'root.key'), rootKey);
    const store = new SqliteStore(join(seeded, 'kmsd.db'));
    const rk = new RootKey(Buffer.from(rootKey, 'base64'));
    await applyIdentities(store, parseIdentities(seededIds.file), testConfig().region, rk, Date.now());
    const t0 = Date.now();
    await seedGrants(store, rk, seededIds.owner.accountId, testConfig().region, seededIds.owner.id, SEED.keys, SEED.grantsPerKey);
    await store.close();
    const seedSeconds = (Date.now() - t0) / 1000;
    const big = await startKmsd(seeded, rootKey);
    const ot = await token(big.url, seededIds.owner);
    const gt = await token(big.url, seededIds.grantee);
    const bigKey = (await call(big.url, ot, seededIds.owner.projectId, 'create-key', { key_alias: 'bench-pairs' })).key_info.key_id;
    const bigWarm = (await call(big.url, ot, seededIds.owner.projectId, 'create-key', { key_alias: 'bench-pairs-warm' })).key_info.key_id;
    const k = await measure(pairJob(bigKey, ot, gt, seededIds.owner, seededIds.grantee)(big.url), pairJob(bigWarm, ot, gt, seededIds.owner, seededIds.grantee)(big.url));
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${big.proc.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    rows.push({
      workload: seededWorkload, kmsd: k,
      baseline: rows.find((r) => r.workload.startsWith('create-grant'))?.baseline as Figures, unit: 'pairs/s', divisor: 2,
      extra: `resident memory ${rss.toFixed(0)} MB; seeded in ${seedSeconds.toFixed(1)} s`,
    });
    process.stdout.write(`seeded pairs: ${Math.round(k.rps / 2)} pairs/s, RSS ${rss.toFixed(0)} MB\n`);
    await stop(big.proc);
  } finally {
    await stop(base.proc);
    rmSync(fresh, { recursive: true, force: true });
    rmSync(seeded, { recursive: true, force: true });
  }
  report(rows);
}

function report(rows: Row[]): void {
  const emptyPairs = rows.find((r) => r.workload.includes('empty store'));
  const lines = rows.map((r) => {
    const d = r.divisor ?? 1;
    const ratio = r.kmsd.rps / r.baseline.rps;
    const vsEmpty = r.workload.includes('stored') && emptyPairs ? `; ${(r.kmsd.rps / emptyPairs.kmsd.rps).toFixed(2)} × the empty-store rate` : '';
    const bad = r.kmsd.non2xx + r.kmsd.errors + r.kmsd.timeouts;
    return `| ${r.workload} | ${Math.round(r.kmsd.rps / d)} ${r.unit ?? 'req/s'} | ${r.kmsd.p50} | ${r.kmsd.p99} | ${Math.round(r.baseline.rps / d)} | ${ratio.toFixed(2)} | ${bad} | ${[r.extra, vsEmpty.slice(2)].filter(Boolean).join('; ')} |`;
  });
  const table = [
    '| workload | kmsd | p50 ms | p99 ms | baseline | ratio | non-2xx/errors | notes |',
    '|---|---|---|---|---|---|---|---|',
    ...lines,
  ].join('\n');
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
  const header = `Run ${new Date().toISOString().slice(0, 10)} on ${machine}, Node ${process.version}, ${quick ? 'quick' : 'full'} mode ` +
    `(${DURATION} s per workload after ${WARMUP} s of warm-up, ${CONNECTIONS} connections, autocannon in its own process).`;
  process.stdout.write(`\n${header}\n\n${table}\n`);
  if (only !== null) return;
  const path = here('../BENCHMARKS.md');
  const doc = readFileSync(path, 'utf8');
  const marker = quick ? 'QUICK' : 'FULL';
  const begin = `<!-- ${marker} RESULTS BEGIN -->`;
  const end = `<!-- ${marker} RESULTS END -->`;
  const updated = doc.replace(new RegExp(`${begin}[\\s\\S]*?${end}`), `${begin}\n${header}\n\n${table}\n${end}`);
  writeFileSync(path, updated);
}

await main();
