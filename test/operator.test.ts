import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { ERR, newGrant, newKey, raw, startWorld, type World } from './harness.ts';

/**
 * The operator's endpoints: /_kmsd/health, /_kmsd/ready and /_kmsd/metrics. The metrics are
 * read back with a real Prometheus text-format parser (parse-prometheus-text-format, whose
 * output is that of Prometheus' own prom2json), never with a regular expression of ours.
 */
interface Family {
  name: string;
  help: string;
  type: string;
  metrics: Array<{ labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; count?: string; sum?: string }>;
}

const require = createRequire(import.meta.url);
let parsePrometheus: ((text: string) => Family[]) | null = null;
try {
  parsePrometheus = require('parse-prometheus-text-format');
} catch {
  parsePrometheus = null;
}
// Without the parser the metrics suite cannot run; that is a failure in CI, never a silent skip.
const PARSER_SKIP = parsePrometheus === null && !process.env.CI
  ? 'the dev dependency parse-prometheus-text-format is not installed (npm install)'
  : false;

async function scrape(world: World): Promise<Map<string, Family>> {
  const r = await raw(world.url, 'GET', '/_kmsd/metrics');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  if (!parsePrometheus) throw new Error('parse-prometheus-text-format is not installed');
  return new Map(parsePrometheus(r.text).map((f) => [f.name, f]));
}

/**
 * One series of a labelled histogram, parsed on its own: the parser (as prom2json) flattens a
 * histogram family into one sample, so a family with several label sets is read series by series.
 */
function histogramSeries(text: string, name: string, labels: string): Family['metrics'][number] | undefined {
  const lines = text.split('\n').filter((l) => l.startsWith(`# HELP ${name} `) || l.startsWith(`# TYPE ${name} `) || (l.startsWith(`${name}_`) && l.includes(labels)));
  return (parsePrometheus as (text: string) => Family[])(`${lines.join('\n')}\n`)[0]?.metrics[0];
}

const sample = (family: Family | undefined, labels: Record<string, string>) =>
  family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));

describe('health and readiness', () => {
  let world: World;
  before(async () => {
    world = await startWorld();
  });
  after(async () => world.close());

  test('GET /_kmsd/health answers 200 {"status":"ok"} without credentials', async () => {
    const r = await raw(world.url, 'GET', '/_kmsd/health');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { status: 'ok' });
  });

  test('GET /_kmsd/ready answers 200 while the store answers', async () => {
    const r = await raw(world.url, 'GET', '/_kmsd/ready');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { status: 'ready', store: 'sqlite' });
  });

  test('the prefix cannot clash with the KMS API: other /_kmsd paths are unknown paths', async () => {
    const r = await raw(world.url, 'GET', '/_kmsd/nothing');
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, ERR('KMS.0201', 'Invalid request URL.'));
  });

  test('GET /_kmsd/ready answers 503 once the store no longer answers; health still 200', async () => {
    const w = await startWorld();
    try {
      await w.server.store.close();
      const r = await raw(w.url, 'GET', '/_kmsd/ready');
      assert.equal(r.status, 503);
      assert.deepEqual(r.body, { status: 'unavailable', store: 'sqlite', reason: 'the store does not answer' });
      assert.equal((await raw(w.url, 'GET', '/_kmsd/health')).status, 200);
    } finally {
      await w.close();
    }
  });
});

describe('each operator endpoint can be switched off', () => {
  test('--health false --ready false --metrics false: the paths are unknown paths (400 KMS.0201), /_kmsd/audit-verification with /_kmsd/health', async () => {
    const world = await startWorld({ config: { health: false, ready: false, metrics: false } });
    try {
      for (const path of ['/_kmsd/health', '/_kmsd/ready', '/_kmsd/metrics', '/_kmsd/audit-verification']) {
        const r = await raw(world.url, 'GET', path);
        assert.equal(r.status, 400, path);
        assert.equal(r.body.error.error_code, 'KMS.0201', path);
      }
    } finally {
      await world.close();
    }
  });
});

describe('Prometheus metrics at /_kmsd/metrics', { skip: PARSER_SKIP }, () => {
  let world: World;
  before(async () => {
    world = await startWorld();
  });
  after(async () => world.close());

  test('requests are counted by operation, status and KMS error code, with latency histograms', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    await alice.kms('describe-key', { key_id: keyId });
    await alice.kms('describe-key', { key_id: crypto.randomUUID() }); // 404 KMS.0207
    await world.as('nobody').kms('create-key', { key_alias: 'nope' }); // 403 KMS.0306
    const families = await scrape(world);
    assert.equal(families.get('process_cpu_user_seconds_total')?.type.toLowerCase(), 'counter');
    const requests = families.get('kmsd_requests_total');
    assert.equal(requests?.type.toLowerCase(), 'counter');
    assert.equal(sample(requests, { operation: 'create-key', status: '200', code: '' })?.value, '1');
    assert.equal(sample(requests, { operation: 'describe-key', status: '200', code: '' })?.value, '1');
    assert.equal(sample(requests, { operation: 'describe-key', status: '404', code: 'KMS.0207' })?.value, '1');
    assert.equal(sample(requests, { operation: 'create-key', status: '403', code: 'KMS.0306' })?.value, '1');
    assert.equal(families.get('kmsd_request_duration_seconds')?.type.toLowerCase(), 'histogram');
    const text = (await raw(world.url, 'GET', '/_kmsd/metrics')).text;
    const describe = histogramSeries(text, 'kmsd_request_duration_seconds', 'operation="describe-key"');
    assert.equal(describe?.buckets?.['+Inf'], '2');
    assert.equal(Object.keys(describe?.buckets ?? {}).length, 14);
  });

  test('store commits are timed and their group sizes counted; audit records written are counted', async () => {
    const before = await scrape(world);
    const commitsBefore = Number(before.get('kmsd_store_commit_duration_seconds')?.metrics[0].count);
    const unitsBefore = Number(before.get('kmsd_store_commit_batch_size')?.metrics[0].sum);
    const auditBefore = Number(before.get('kmsd_audit_records_written_total')?.metrics[0].value);
    const alice = world.as('alice');
    await Promise.all(Array.from({ length: 8 }, () => newKey(alice)));
    const families = await scrape(world);
    assert.equal(sample(families.get('kmsd_store_info'), { driver: 'sqlite' })?.value, '1');
    const commits = families.get('kmsd_store_commit_duration_seconds');
    assert.equal(commits?.type.toLowerCase(), 'histogram');
    const commitCount = Number(commits?.metrics[0].count);
    assert.ok(commitCount > commitsBefore && commitCount <= commitsBefore + 8, `${commitsBefore} -> ${commitCount}`);
    assert.ok(Number(commits?.metrics[0].sum) > 0);
    const batches = families.get('kmsd_store_commit_batch_size')?.metrics[0];
    // Every unit of work is in exactly one group: 8 keys, 8 units more (8 keys in fewer commits when grouped).
    assert.equal(Number(batches?.sum), unitsBefore + 8);
    assert.equal(Number(batches?.count), commitCount);
    assert.equal(Number(families.get('kmsd_audit_records_written_total')?.metrics[0].value), auditBefore + 8);
  });

  test('live grants and keys by state are read from the store at each scrape', async () => {
    const alice = world.as('alice');
    const before = await scrape(world);
    const enabled = Number(sample(before.get('kmsd_keys'), { state: 'enabled' })?.value);
    const disabled = Number(sample(before.get('kmsd_keys'), { state: 'disabled' })?.value);
    const grants = Number(before.get('kmsd_live_grants')?.metrics[0].value);
    const keyId = await newKey(alice);
    const other = await newKey(alice);
    await alice.kms('disable-key', { key_id: other });
    const grantId = await newGrant(alice, keyId, world.users.gus.id, ['describe-key']);
    await newGrant(alice, keyId, world.users.gina.id, ['describe-key']);
    let now = await scrape(world);
    assert.equal(Number(sample(now.get('kmsd_keys'), { state: 'enabled' })?.value), enabled + 1);
    assert.equal(Number(sample(now.get('kmsd_keys'), { state: 'disabled' })?.value), disabled + 1);
    assert.equal(Number(sample(now.get('kmsd_keys'), { state: 'pending_deletion' })?.value), 0);
    assert.equal(Number(now.get('kmsd_live_grants')?.metrics[0].value), grants + 2);
    await alice.kms('revoke-grant', { key_id: keyId, grant_id: grantId });
    now = await scrape(world);
    assert.equal(Number(now.get('kmsd_live_grants')?.metrics[0].value), grants + 1);
  });

  test('no label value is an identifier or a secret: only operation names, statuses, codes, states, drivers', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    await alice.kms('describe-key', { key_id: keyId });
    await raw(world.url, 'GET', `/v1.0/${world.users.alice.projectId}/kms/${keyId}/nothing-here`);
    const text = (await raw(world.url, 'GET', '/_kmsd/metrics')).text;
    const secrets = [keyId, ...Object.values(world.users).flatMap((u) => [u.id, u.accountId, u.projectId, u.ak, u.sk, u.password])];
    for (const s of secrets) assert.equal(text.includes(s), false, `the metrics reveal ${s}`);
    const families = await scrape(world);
    const allowed: Record<string, RegExp> = {
      operation: /^([a-z-]+|(GET|POST|PUT|DELETE) \/[A-Za-z0-9_/.:*-]*|unknown)$/,
      status: /^\d{3}$/,
      code: /^((KMS|APIGW)\.\d{4})?$/,
      state: /^(pending_activation|enabled|disabled|pending_deletion|pending_import)$/,
      driver: /^(sqlite|postgres)$/,
      le: /^(\+Inf|[0-9.e+-]+)$/,
    };
    for (const family of families.values()) {
      if (!family.name.startsWith('kmsd_')) continue;
      for (const m of family.metrics) {
        for (const [name, value] of Object.entries(m.labels ?? {})) {
          assert.match(value, allowed[name] ?? /^$/, `${family.name}{${name}="${value}"}`);
        }
      }
    }
    assert.equal(sample(families.get('kmsd_requests_total'), { operation: 'unknown', code: 'KMS.0201' })?.labels?.status, '400');
  });
});
