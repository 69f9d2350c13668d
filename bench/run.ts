import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testConfig } from '../src/config.ts';
import { RootKey } from '../src/core/sealing.ts';
import { applyIdentities, parseIdentities } from '../src/identities.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import { signedHeaders } from '../test/support/sdk-signer.ts';
import type { Job } from './load.ts';
import { seedGrants } from './seed.ts';
import { createDatabase, postgresBin, startOwnPostgres, type OwnPostgres } from '../test/support/own-postgres.ts';
import { buildFirst, call, child, identities, spawnUntilServing, startKmsd, stop, token, type User } from './kmsd.ts';

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
// Every workload runs on one event loop and on the default number of workers (`--workers`,
// the machine's available parallelism), side by side.
const WORKER_COUNTS = process.env.KMSD_BENCH_WORKERS ? [Number(process.env.KMSD_BENCH_WORKERS)] : [...new Set([1, availableParallelism()])];
// Every workload runs on a SQLite node and on a PostgreSQL node (a throw-away server on this
// machine, started and removed by the bench as the tests start theirs; skipped, and said so,
// where PostgreSQL is not installed). PostgreSQL rows are named "PostgreSQL: <workload>".
// KMSD_BENCH_STORES=sqlite: the SQLite rows only (no PostgreSQL started).
const STORES = (['sqlite', 'postgres'] as const).filter((st) => !process.env.KMSD_BENCH_STORES || process.env.KMSD_BENCH_STORES.split(',').includes(st));
const PG_PREFIX = 'PostgreSQL: ';
const SIGNING = [
  { spec: 'EC_P256', algorithm: 'ECDSA_SHA_256', hash: 'sha256', types: ['DIGEST', 'RAW'] },
  { spec: 'RSA_2048', algorithm: 'RSASSA_PSS_SHA_256', hash: 'sha256', types: ['DIGEST'] },
  { spec: 'SM2', algorithm: 'SM2DSA_SM3', hash: 'sm3', types: ['DIGEST'] },
] as const;
const signWorkload = (op: string, spec: string, algorithm: string, type: string) => `${op} ${spec} ${algorithm} ${type}, owner, AK/SK`;
/** Every workload a node runs, by name (without the store's prefix). */
const WORKLOADS = [
  'encrypt-data 1 KiB, grantee, token', 'encrypt-data 1 KiB, grantee, token, beside grant writes', 'encrypt-data 1 KiB, grantee, AK/SK', 'describe-key, grantee, token',
  'create-grant + retire-grant pairs, empty store', 'list-grants, page of 100',
  ...SIGNING.flatMap(({ spec, algorithm, types }) => types.flatMap((type) => ['sign', 'verify'].map((op) => signWorkload(op, spec, algorithm, type)))),
];
const START_ROUNDS = quick ? 3 : 7;
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

interface Figures {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** kmsd only: cores used during the measured run, in all and per event loop (main thread, then each worker thread). */
  cores?: number;
  loops?: number[];
  /** kmsd only: largest resident memory sampled during the measured run, MiB. */
  rssPeak?: number;
  /** Pairs a second the job's churn wrote beside it (Job.churn). */
  churnPairs?: number;
}

async function load(job: Job): Promise<Figures> {
  const c = child([here('./load.ts'), JSON.stringify(job)]);
  const m = await c.line(/^(\{.*\})$/m);
  return JSON.parse(m[1]) as Figures;
}

/** Warms up with `warmup` (by default the same job), then measures `job`; with `pid`, also that process's CPU and memory. */
async function measure(job: Omit<Job, 'duration' | 'connections'>, warmup = job, pid?: number): Promise<Figures> {
  await load({ ...warmup, duration: WARMUP, connections: CONNECTIONS });
  if (pid === undefined) return load({ ...job, duration: DURATION, connections: CONNECTIONS });
  const before = threadTimes(pid);
  const started = performance.now();
  let rssPeak = rssOf(pid);
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssOf(pid))), 100);
  const figures = await load({ ...job, duration: DURATION, connections: CONNECTIONS });
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  const after = threadTimes(pid);
  const used = (name: string) => ((after.get(name) ?? 0) - (before.get(name) ?? 0)) / seconds;
  const loops = [...after.keys()].filter((name) => /^(MainThread|WorkerThread)/.test(name)).map(used);
  const cores = [...after.keys()].reduce((sum, name) => sum + used(name), 0);
  return { ...figures, cores, loops, rssPeak };
}

/** Resident memory of a process, MiB. */
function rssOf(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/**
 * CPU seconds of each thread of a process (Linux /proc), by thread name: node names its
 * event loops MainThread and WorkerThread (numbered here in thread-id order); V8's GC and
 * compiler helpers and libuv's pool are summed under their names.
 */
function threadTimes(pid: number): Map<string, number> {
  const times = new Map<string, number>();
  let workers = 0;
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`).sort((a, b) => Number(a) - Number(b));
  } catch {
    return times;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / 100;
      const key = name === 'WorkerThread' ? `WorkerThread ${++workers}` : name;
      times.set(key, (times.get(key) ?? 0) + seconds);
    } catch {
      // the thread ended
    }
  }
  return times;
}

interface StartFigures {
  workers: number;
  /** Milliseconds from spawn to the first 2xx, median and range, on an existing and on a fresh data directory. */
  existing: number[];
  fresh: number[];
  /** Resident memory of the idle server 2 s after its first 2xx, MiB (medians). */
  idleRss: number;
}

/**
 * Cold start as a user meets it: `bin/kmsd.js serve` spawned (with the node flags and env its sh part sets) on a
 * data directory without identities (the development account), then GET / polled every
 * 2 ms until it answers 200. "fresh" is an empty directory (root key, schema and account
 * created), "existing" one that served before.
 */
async function coldStarts(workers: number): Promise<StartFigures> {
  const once = async (dir: string) => {
    const { proc, ms } = await spawnUntilServing(dir, workers);
    await new Promise((r) => setTimeout(r, 2000));
    const rss = rssOf(proc.pid as number);
    await stop(proc);
    return { ms, rss };
  };
  const existing: number[] = [];
  const fresh: number[] = [];
  const rss: number[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-bench-start-'));
  try {
    for (let i = 0; i < START_ROUNDS; i++) {
      const f = await once(mkdtempSync(join(dir, 'fresh-')));
      const e = await once(join(dir, readdirSync(dir)[0]));
      fresh.push(f.ms);
      existing.push(e.ms);
      rss.push(e.rss);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { workers, existing, fresh, idleRss: median(rss) };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

interface Row {
  workload: string;
  workers: number;
  kmsd: Figures;
  baseline: Figures;
  unit?: string;
  divisor?: number;
  extra?: string;
  idleRss?: number;
}

async function main(): Promise<void> {
  await buildFirst();
  const rootKey = randomBytes(32).toString('base64');
  const dirs: string[] = [];
  const base = child([here('./baseline.ts')]);
  const baseUrl = `http://127.0.0.1:${(await base.line(/listening (\d+)/))[1]}`;
  const rows: Row[] = [];
  const starts: StartFigures[] = [];
  // The baseline is measured once per workload and reused beside every worker count.
  const baselines = new Map<string, Figures>();
  let postgres: OwnPostgres | null = null;
  try {
    for (const [store, workers] of STORES.flatMap((st) => WORKER_COUNTS.map((w) => [st, w] as const))) {
      const label = store === 'postgres' ? PG_PREFIX : '';
      // Nothing of this store selected: no server started for it.
      if (only !== null && !WORKLOADS.some((w) => selected(label + w))) continue;
      if (store === 'postgres' && postgres === null) {
        if (postgresBin() === null) {
          process.stdout.write('PostgreSQL is not installed (/usr/lib/postgresql/*/bin): its workloads are skipped\n');
          continue;
        }
        postgres = await startOwnPostgres();
      }
      const fresh = mkdtempSync(join(tmpdir(), 'kmsd-bench-'));
      dirs.push(fresh);
      const ids = identities(fresh);
      const storeUrl = postgres !== null && store === 'postgres'
        ? await createDatabase(postgres.url, `kmsd_bench_${workers}_${randomBytes(4).toString('hex')}`)
        : 'sqlite';
      const kmsd = await startKmsd(fresh, rootKey, workers, profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [], storeUrl);
      const pid = kmsd.proc.pid as number;
      await new Promise((r) => setTimeout(r, 2000));
      const idleRss = rssOf(pid);
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
      const both = async (name: string, job: JobFor, extra: Partial<Row> = {}, warmup: JobFor = job) => {
        const workload = label + name;
        if (!selected(workload)) return;
        const k = await measure(job(kmsd.url), warmup(kmsd.url), pid);
        const b = baselines.get(name) ?? (await measure(job(baseUrl), warmup(baseUrl)));
        baselines.set(name, b);
        rows.push({ workload, workers, kmsd: k, baseline: b, idleRss, ...extra });
        process.stdout.write(`${workload}, ${workers} worker(s): ${Math.round(k.rps)} req/s, p99 ${k.p99} ms (baseline ${Math.round(b.rps)}), ${k.cores?.toFixed(2)} cores, RSS peak ${k.rssPeak?.toFixed(0)} MiB\n`);
      };
      await both('encrypt-data 1 KiB, grantee, token', (url) => ({
        url, kind: 'fixed', method: 'POST', path: encryptPath, body: encryptBody,
        headers: { 'content-type': 'application/json', 'x-auth-token': granteeToken },
      }));
      // The same reads while 2 connections create and retire grants on another key (a cluster's
      // writes elsewhere): what a node remembers of the caller and the key is checked against them.
      const churnKey = (await call(kmsd.url, ownerToken, ids.owner.projectId, 'create-key', { key_alias: 'bench-churn' })).key_info.key_id;
      await both('encrypt-data 1 KiB, grantee, token, beside grant writes', (url) => ({
        url, kind: 'fixed', method: 'POST', path: encryptPath, body: encryptBody,
        headers: { 'content-type': 'application/json', 'x-auth-token': granteeToken },
        churn: { connections: 2, pairs: pairJob(churnKey, ownerToken, granteeToken, ids.owner, ids.grantee)(url).pairs! },
      }));
      await both('encrypt-data 1 KiB, grantee, AK/SK', (url) => ({
        url, kind: 'fixed', method: 'POST', path: encryptPath, body: encryptBody,
        headers: signedHeaders(kmsd.url, 'POST', encryptPath, ids.grantee, { 'Content-Type': 'application/json' }, encryptBody),
      }));
      // sign / verify: IAM only (grants cannot name them), so the key owner signs, with AK/SK like encrypt-data.
      // DIGEST (the caller's digest, signed by OpenSSL's EVP_PKEY_sign in the kmsd-crypto addon) for
      // ECDSA P-256, RSASSA-PSS 2048 and SM2; RAW (node:crypto hashes and signs) for P-256 beside them.
      for (const { spec, algorithm, hash, types } of SIGNING) {
        if (!types.some((type) => selected(label + signWorkload('sign', spec, algorithm, type)) || selected(label + signWorkload('verify', spec, algorithm, type)))) continue;
        const signKey = (await call(kmsd.url, ownerToken, ids.owner.projectId, 'create-key', { key_alias: `bench-sign-${spec}-${workers}`, key_spec: spec, key_usage: 'SIGN_VERIFY' })).key_info.key_id;
        for (const messageType of types) {
          const message = messageType === 'DIGEST' ? createHash(hash).update('bench').digest('base64') : Buffer.from('bench').toString('base64');
          const signBody = JSON.stringify({ key_id: signKey, message, signing_algorithm: algorithm, message_type: messageType });
          const signature = (await call(kmsd.url, ownerToken, ids.owner.projectId, 'sign', JSON.parse(signBody))).signature;
          const verifyBody = JSON.stringify({ key_id: signKey, message, signature, signing_algorithm: algorithm, message_type: messageType });
          for (const [op, body] of [['sign', signBody], ['verify', verifyBody]] as const) {
            const path = `/v1.0/${ids.owner.projectId}/kms/${op}`;
            await both(signWorkload(op, spec, algorithm, messageType), (url) => ({
              url, kind: 'fixed', method: 'POST', path, body,
              headers: signedHeaders(kmsd.url, 'POST', path, ids.owner, { 'Content-Type': 'application/json' }, body),
            }));
          }
        }
      }
      await both('describe-key, grantee, token', (url) => ({
        url, kind: 'fixed', method: 'POST', path: `/v1.0/${ids.grantee.projectId}/kms/describe-key`,
        headers: { 'content-type': 'application/json', 'x-auth-token': granteeToken }, body: JSON.stringify({ key_id: keyId }),
      }));
      // A warm-up cut off between create and retire leaves grants behind: it gets a key of its own.
      const warmKey = (await call(kmsd.url, ownerToken, ids.owner.projectId, 'create-key', { key_alias: 'bench-warm' })).key_info.key_id;
      await both('create-grant + retire-grant pairs, empty store', pairJob(keyId, ownerToken, granteeToken, ids.owner, ids.grantee), { unit: 'pairs/s', divisor: 2 },
        pairJob(warmKey, ownerToken, granteeToken, ids.owner, ids.grantee));
      await both('list-grants, page of 100', (url) => ({
        url, kind: 'fixed', method: 'POST', path: `/v1.0/${ids.owner.projectId}/kms/list-grants`,
        headers: { 'content-type': 'application/json', 'x-auth-token': ownerToken }, body: JSON.stringify({ key_id: listKey, limit: 100 }),
      }));
      await stop(kmsd.proc);
    }
    if (selected('cold start')) {
      for (const workers of WORKER_COUNTS) {
        starts.push(await coldStarts(workers));
        process.stdout.write(`cold start, ${workers} worker(s): ${JSON.stringify(starts.at(-1))}\n`);
      }
    }
    const grants = SEED.keys * SEED.grantsPerKey;
    const seededWorkload = `create-grant + retire-grant pairs, ${grants.toLocaleString('en')} grants stored`;
    if (selected(seededWorkload)) await seededPairs(seededWorkload, rootKey, dirs, rows);
  } finally {
    await stop(base.proc);
    await postgres?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
  report(rows, starts);
}

const pairJob = (k: string, ot: string, gt: string, o: User, g: User) => (url: string): Omit<Job, 'duration' | 'connections'> => ({
  url, kind: 'pairs', pairs: { projectOwner: o.projectId, projectGrantee: g.projectId, keyId: k, granteeId: g.id, ownerToken: ot, granteeToken: gt },
});

/** The same pairs with a million grants already stored, on the default number of workers. */
async function seededPairs(workload: string, rootKey: string, dirs: string[], rows: Row[]): Promise<void> {
  const workers = WORKER_COUNTS.at(-1) as number;
  const seeded = mkdtempSync(join(tmpdir(), 'kmsd-bench-seeded-'));
  dirs.push(seeded);
  const seededIds = identities(seeded);
  writeFileSync(join(seeded, 'root.key'), rootKey);
  const store = new SqliteStore(join(seeded, 'kmsd.db'));
  const rk = new RootKey(Buffer.from(rootKey, 'base64'));
  await applyIdentities(store, parseIdentities(seededIds.file), testConfig().region, rk, Date.now());
  const t0 = Date.now();
  await seedGrants(store, rk, seededIds.owner.accountId, testConfig().region, seededIds.owner.id, SEED.keys, SEED.grantsPerKey);
  await store.close();
  const seedSeconds = (Date.now() - t0) / 1000;
  const big = await startKmsd(seeded, rootKey, workers);
  const ot = await token(big.url, seededIds.owner);
  const gt = await token(big.url, seededIds.grantee);
  const bigKey = (await call(big.url, ot, seededIds.owner.projectId, 'create-key', { key_alias: 'bench-pairs' })).key_info.key_id;
  const bigWarm = (await call(big.url, ot, seededIds.owner.projectId, 'create-key', { key_alias: 'bench-pairs-warm' })).key_info.key_id;
  const k = await measure(pairJob(bigKey, ot, gt, seededIds.owner, seededIds.grantee)(big.url), pairJob(bigWarm, ot, gt, seededIds.owner, seededIds.grantee)(big.url), big.proc.pid);
  const rss = rssOf(big.proc.pid as number);
  const baseline = rows.find((r) => r.workload.startsWith('create-grant'))?.baseline;
  rows.push({
    workload, workers, kmsd: k, baseline: baseline ?? k, unit: 'pairs/s', divisor: 2,
    extra: `resident memory ${rss.toFixed(0)} MiB; seeded in ${seedSeconds.toFixed(1)} s`,
  });
  process.stdout.write(`seeded pairs: ${Math.round(k.rps / 2)} pairs/s, RSS ${rss.toFixed(0)} MiB\n`);
  await stop(big.proc);
}

const range = (values: number[]): string => `${Math.round(median(values))} (${Math.round(Math.min(...values))}–${Math.round(Math.max(...values))})`;

function report(rows: Row[], starts: StartFigures[]): void {
  const lines = rows.map((r) => {
    const d = r.divisor ?? 1;
    const ratio = r.kmsd.rps / r.baseline.rps;
    const emptyPairs = rows.find((x) => x.workload.includes('empty store') && x.workers === r.workers);
    const vsEmpty = r.workload.includes('stored') && emptyPairs ? `${(r.kmsd.rps / emptyPairs.kmsd.rps).toFixed(2)} × the empty-store rate` : '';
    const churn = r.kmsd.churnPairs === undefined ? '' : `${Math.round(r.kmsd.churnPairs)} grant pairs/s written beside`;
    const bad = r.kmsd.non2xx + r.kmsd.errors + r.kmsd.timeouts;
    const cpu = r.kmsd.cores === undefined ? '' : `${r.kmsd.cores.toFixed(2)} (${(r.kmsd.loops ?? []).map((c) => c.toFixed(2)).join(' + ')})`;
    return `| ${r.workload} | ${r.workers} | ${Math.round(r.kmsd.rps / d)} ${r.unit ?? 'req/s'} | ${r.kmsd.p50} | ${r.kmsd.p99} | ${Math.round(r.baseline.rps / d)} | ${ratio.toFixed(2)} | ${cpu} | ${r.kmsd.rssPeak?.toFixed(0) ?? ''} | ${bad} | ${[r.extra, vsEmpty, churn].filter(Boolean).join('; ')} |`;
  });
  const table = [
    '| workload | workers | kmsd | p50 ms | p99 ms | baseline | ratio | CPU cores (per event loop) | RSS peak MiB | non-2xx/errors | notes |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...lines,
  ].join('\n');
  const idle = WORKER_COUNTS.map((w) => rows.find((r) => r.workers === w)?.idleRss).map((v, i) => (v === undefined ? '' : `${WORKER_COUNTS[i]} worker(s) ${v.toFixed(0)} MiB`)).filter(Boolean).join(', ');
  const startTable = starts.length === 0 ? '' : [
    '',
    '| workers | cold start to first 2xx, existing data dir, ms | fresh data dir, ms | idle RSS MiB |',
    '|---|---|---|---|',
    ...starts.map((s) => `| ${s.workers} | ${range(s.existing)} | ${range(s.fresh)} | ${s.idleRss.toFixed(0)} |`),
    '',
    `Cold start: \`bin/kmsd.js serve\` spawned with its node flags and malloc settings until GET / answers 200, ${START_ROUNDS} rounds each, median (range); idle RSS 2 s after the first 2xx.`,
  ].join('\n');
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
  const header = `Run ${new Date().toISOString().slice(0, 10)} on ${machine}, Node ${process.version}, ${quick ? 'quick' : 'full'} mode ` +
    `(${DURATION} s per workload after ${WARMUP} s of warm-up, ${CONNECTIONS} connections, autocannon in its own process).` +
    (idle ? ` Idle RSS before the load: ${idle}.` : '');
  process.stdout.write(`\n${header}\n\n${table}\n${startTable}\n`);
  if (only !== null) return;
  const path = here('../BENCHMARKS.md');
  const doc = readFileSync(path, 'utf8');
  const marker = quick ? 'QUICK' : 'FULL';
  const begin = `<!-- ${marker} RESULTS BEGIN -->`;
  const end = `<!-- ${marker} RESULTS END -->`;
  const updated = doc.replace(new RegExp(`${begin}[\\s\\S]*?${end}`), `${begin}\n${header}\n\n${table}\n${startTable}\n${end}`);
  writeFileSync(path, updated);
}

await main();
