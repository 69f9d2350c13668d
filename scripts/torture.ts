/**
 * `npm run torture`: the reliability suites of issue #6 in full, on SQLite and PostgreSQL
 * (scripts/test-postgres.sh provides the database), then their figures into RELIABILITY.md.
 *
 *   crash:  25 SIGKILL cycles per store (CI runs 5)
 *   fuzz:   4,000 generated bad requests per operation, 108,000 in all (CI runs 120 each)
 *   auth:   the whole matrix (the same in CI)
 *   limits: rate limit, timeouts, 1,000 idle connections (the same in CI)
 *   outage: two nodes under write load through 3 rounds of PostgreSQL restart -m fast,
 *           stop -m immediate + start and pg_terminate_backend (CI runs 1 round)
 *
 * Flags: --cycles N, --fuzz-runs N (per operation), --outage-rounds N, --no-write (leave RELIABILITY.md alone).
 * The kmsd processes the suites start run KMSD_TEST_WORKERS event loops each (default 2).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '25' }, 'fuzz-runs': { type: 'string', default: '4000' }, 'outage-rounds': { type: 'string', default: '3' },
    'no-write': { type: 'boolean', default: false },
  },
});
if (!process.env.KMSD_TEST_POSTGRES_URL) {
  process.stderr.write('torture needs PostgreSQL: run it as `npm run torture` (scripts/test-postgres.sh provides one)\n');
  process.exit(2);
}

const SUITES = [
  'test/crash.test.ts', 'test/fuzz.test.ts', 'test/auth-matrix.test.ts', 'test/limits.test.ts', 'test/attacks.test.ts', 'test/identities-removed.test.ts',
  'test/outage.test.ts',
];
const started = Date.now();
const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...SUITES], {
  env: { ...process.env, KMSD_CRASH_CYCLES: values.cycles, KMSD_FUZZ_RUNS: values['fuzz-runs'], KMSD_OUTAGE_ROUNDS: values['outage-rounds'] },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let output = '';
child.stdout.on('data', (d: Buffer) => {
  output += d;
  process.stdout.write(d);
});
const code: number = await new Promise((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
const minutes = ((Date.now() - started) / 60_000).toFixed(1);

const line = (pattern: RegExp) => output.split('\n').filter((l) => pattern.test(l)).map((l) => l.replace(/^\s*ℹ\s*/, '').trim());
const reports = line(/^\s*ℹ \{"cycles"/).map((l) => JSON.parse(l) as Record<string, number>);
const [sqlite, postgres] = reports;
const passed = /ℹ pass (\d+)/.exec(output)?.[1];
const failed = /ℹ fail (\d+)/.exec(output)?.[1];
const crash = (name: string, r?: Record<string, number>) =>
  r ? `| ${name} | ${r.cycles} | ${r.requests.toLocaleString('en')} | ${r.answered200.toLocaleString('en')} | ${r.refused} | ${r.unanswered} | ${r.keys} | ${r.liveGrants} |` : `| ${name} | not run | | | | | | |`;

// The outage suite's figures, one JSON line per fault and round, summed by fault.
const outages = new Map<string, { rounds: number; requests: number; answered200: number; refused: number; unavailable: number; unanswered: number; recovery: number; slowest503: number; inTx: number }>();
for (const l of line(/^\s*ℹ \{"fault"/)) {
  const r = JSON.parse(l) as { fault: string; requests: number; answered200: number; refused: number; unavailable: number; unanswered: number; recoveryMs: number[]; slowest503Ms: number; endedInTransaction: number };
  const o = outages.get(r.fault) ?? { rounds: 0, requests: 0, answered200: 0, refused: 0, unavailable: 0, unanswered: 0, recovery: 0, slowest503: 0, inTx: 0 };
  outages.set(r.fault, {
    rounds: o.rounds + 1, requests: o.requests + r.requests, answered200: o.answered200 + r.answered200, refused: o.refused + r.refused,
    unavailable: o.unavailable + r.unavailable, unanswered: o.unanswered + r.unanswered, recovery: Math.max(o.recovery, ...r.recoveryMs),
    slowest503: Math.max(o.slowest503, r.slowest503Ms), inTx: o.inTx + r.endedInTransaction,
  });
}
const outageRows = [...outages].map(([fault, o]) =>
  `| ${fault} | ${o.rounds} | ${o.requests.toLocaleString('en')} | ${o.answered200.toLocaleString('en')} | ${o.refused} | ${o.unavailable.toLocaleString('en')} | ${o.unanswered} | ${o.recovery} | ${fault.startsWith('stop') ? o.slowest503 : '—'} | ${fault.startsWith('pg_terminate') ? o.inTx : '—'} |`);

const section = `<!-- TORTURE RESULTS BEGIN -->
## Last full run (\`npm run torture\`)

${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${minutes} minutes,
tests passed ${passed}, failed ${failed}, exit code ${code}.

### Crash cycles (SIGKILL at a random moment under 16 concurrent clients)

| store | crashes survived | requests | answered 200 | refused | unanswered (in flight at the kill) | keys at the end | live grants at the end |
|---|---|---|---|---|---|---|---|
${crash('SQLite', sqlite)}
${crash('PostgreSQL (kmsd node killed)', postgres)}

### Database outages (two nodes under write load; PostgreSQL restarted, stopped, its sessions ended)

| fault | rounds | requests | answered 200 | refused | 503 KMS.0104 | unanswered | slowest node back to writes (ms) | slowest 503 while stopped (ms) | sessions ended mid-transaction |
|---|---|---|---|---|---|---|---|---|---|
${outageRows.join('\n') || '| not run | | | | | | | | | |'}

### Generated bad input

${line(/generated requests/).join('\n') || 'not run'}

### Auth matrix and limits

${line(/operations$/).length} refusal kinds × ${line(/operations$/)[0] ?? '? operations'} each, store unchanged and one denied record each.
${line(/^\s*ℹ RSS/).join('\n')}

### Attacks of issue #11, replayed

${line(/^\s*ℹ attack:/).map((l) => `- ${l.replace(/^attack:\s*/, '')}`).join('\n') || 'not run'}
<!-- TORTURE RESULTS END -->`;

if (!values['no-write']) {
  const file = 'RELIABILITY.md';
  const text = readFileSync(file, 'utf8');
  const updated = text.replace(/<!-- TORTURE RESULTS BEGIN -->[\s\S]*<!-- TORTURE RESULTS END -->/, section);
  writeFileSync(file, updated === text && !text.includes('TORTURE RESULTS BEGIN') ? `${text}\n${section}\n` : updated);
  process.stdout.write(`\nfigures written to ${file}\n`);
}
process.exit(code);
