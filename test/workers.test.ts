import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERR, hex, newGrant, newKey, worldIdentities, type Client, type TestUser } from './harness.ts';
import { startKmsd, type Node } from './support/cluster.ts';

/**
 * `kmsd serve --workers 2` on SQLite: every request below goes over a connection of its own,
 * so the kernel spreads them over both workers; the access log says which worker answered
 * each request id, and every test checks that both workers took part.
 */
const WORKERS = 2;
const BIN = fileURLToPath(new URL('../bin/kmsd.js', import.meta.url));
let dir: string;
let node: Node;
let users: Record<string, TestUser>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kmsd-workers-'));
  const world = worldIdentities(dir);
  users = world.users;
  node = await startKmsd({
    store: 'sqlite', dataDir: dir, identities: world.path, rootKey: randomBytes(32).toString('base64'), users,
    env: { KMSD_WORKERS: String(WORKERS), KMSD_LOG_LEVEL: 'info' },
  });
});
after(async () => {
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: any;
  requestId: string;
}

/** The workers whose access lines name these request ids (lines still being written are skipped). */
function workersOf(server: Node, requestIds: Set<string>): Set<number> {
  const workers = new Set<number>();
  for (const line of server.output().split('\n')) {
    if (!line.startsWith('{"level"')) continue;
    try {
      const entry = JSON.parse(line);
      if (entry.msg === 'request' && requestIds.has(entry.reqId)) workers.add(entry.worker);
    } catch {
      // the last line, half written
    }
  }
  return workers;
}

/** POSTs a KMS operation over a new connection (no keep-alive), as a token caller. */
async function fresh(client: Client, operation: string, body: unknown, server = node): Promise<Answer> {
  const token = await client.getToken();
  const url = new URL(`${server.url}/v1.0/${client.user.projectId}/kms/${operation}`);
  const text = JSON.stringify(body);
  const { status, requestId, reply } = await new Promise<{ status: number; requestId: string; reply: string }>((resolve, reject) => {
    const req = request(url, {
      method: 'POST', agent: false,
      headers: { 'content-type': 'application/json', 'x-auth-token': token, 'content-length': Buffer.byteLength(text), connection: 'close' },
    }, (res) => {
      let data = '';
      res.on('data', (d) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode as number, requestId: res.headers['x-request-id'] as string, reply: data }));
    });
    req.on('error', reject);
    req.end(text);
  });
  return { status, body: JSON.parse(reply), requestId };
}

/** Sends a request over a new connection (no keep-alive), from `source` (a loopback address) when given. */
async function send(url: string, method: string, path: string, headers: Record<string, string>, body?: string, source?: string): Promise<Answer & { text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, {
      method, agent: false, ...(source && { localAddress: source }),
      headers: { ...headers, connection: 'close', ...(body !== undefined && { 'content-length': String(Buffer.byteLength(body)) }) },
    }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        let parsed: unknown;
        try {
          parsed = text === '' ? undefined : JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode as number, requestId: res.headers['x-request-id'] as string, body: parsed, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Waits for the access lines of these answers to show that every worker served some of them. */
async function bothWorkers(answers: Answer[], server = node): Promise<void> {
  const ids = new Set(answers.map((a) => a.requestId));
  let seen = new Set<number>();
  for (let i = 0; i < 200 && seen.size < WORKERS; i++) {
    seen = workersOf(server, ids);
    if (seen.size < WORKERS) await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual([...seen].sort(), Array.from({ length: WORKERS }, (_, i) => i), 'every worker answered some of the requests');
}

/** Another two-loop node on its own SQLite store under `dir`, with these budgets. */
function budgetsNode(name: string, env: Record<string, string>): Promise<Node> {
  return startKmsd({
    store: 'sqlite', dataDir: join(dir, name), identities: join(dir, 'identities.json'), rootKey: randomBytes(32).toString('base64'), users,
    env: { KMSD_WORKERS: String(WORKERS), KMSD_LOG_LEVEL: 'info', ...env },
  });
}

/** The audit trail of a node's SQLite store, read with `kmsd audit` (one JSON object a line). */
async function auditTrail(dataDir: string): Promise<Array<{ request_id: string; source: string; operation: string; outcome: string; status: number; error_code: string; count: number }>> {
  const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'audit', '--data-dir', dataDir, '-o', 'json']);
  return stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

describe('kmsd serve --workers 2', () => {
  test('the start banner is printed once, as soon as the main thread serves; the worker threads join the port after it', async () => {
    // A worker thread's log lines reach stdout through the main thread, and may follow its own
    // "all 2 event loops are serving" line: wait for both loops' "Server listening" (at most 5 s).
    for (let waited = 0; waited < 5000 && (node.output().match(/Server listening/g)?.length ?? 0) < 2; waited += 20) await new Promise((r) => setTimeout(r, 20));
    const out = node.output();
    assert.equal(out.match(/serving the Huawei Cloud KMS v1\.0 API/g)?.length, 1);
    assert.match(out, /\n {2}workers {5}2 event loops: the main thread serves now, 1 worker thread\(s\) join the port as they start\n/);
    assert.ok(out.indexOf('serving the Huawei Cloud KMS') < out.indexOf('kmsd: all 2 event loops are serving\n'));
    const listening = out.split('\n').filter((l) => l.includes('Server listening')).map((l) => JSON.parse(l).worker);
    assert.deepEqual(listening.sort(), [0, 1]);
  });

  test('a retired grant is refused on the very next request, whichever worker serves it', async () => {
    const keyId = await newKey(node.as('admin'));
    const grantId = await newGrant(node.as('admin'), keyId, users.greg.id, ['describe-key', 'retire-grant']);
    const before = await Promise.all(Array.from({ length: 12 }, () => fresh(node.as('greg'), 'describe-key', { key_id: keyId })));
    assert.deepEqual(before.map((a) => a.status), Array(12).fill(200));
    const retired = await fresh(node.as('greg'), 'retire-grant', { key_id: keyId, grant_id: grantId });
    assert.equal(retired.status, 200);
    // One at a time, each the very next request after the one before.
    const afterwards: Answer[] = [];
    for (let i = 0; i < 16; i++) afterwards.push(await fresh(node.as('greg'), 'describe-key', { key_id: keyId }));
    for (const a of afterwards) assert.deepEqual([a.status, a.body], [403, ERR('KMS.0306', 'No access permissions.')]);
    await bothWorkers([...before, ...afterwards]);
  });

  test('50 concurrent retires of one grant over both workers: exactly one 200, the others 400 KMS.2501', async () => {
    const keyId = await newKey(node.as('admin'));
    const grantId = await newGrant(node.as('admin'), keyId, users.greg.id, ['describe-key', 'retire-grant'], { retiring_principal: users.rita.id });
    // Each named by the grant and holding the retire action (greg, rita) or every action (admin).
    const retirers = ['greg', 'rita', 'admin'];
    const answers = await Promise.all(Array.from({ length: 48 }, (_, i) => fresh(node.as(retirers[i % 3]), 'retire-grant', { key_id: keyId, grant_id: grantId })));
    assert.equal(answers.filter((a) => a.status === 200).length, 1);
    for (const a of answers.filter((x) => x.status !== 200)) assert.deepEqual([a.status, a.body], [400, ERR('KMS.2501', 'Invalid grant ID.')]);
    await bothWorkers(answers);
  });

  test('concurrent create-grant over both workers never exceeds 100 grants on a key', async () => {
    const keyId = await newKey(node.as('admin'));
    const answers = await Promise.all(Array.from({ length: 130 }, (_, i) =>
      fresh(node.as(i % 2 ? 'admin' : 'alice'), 'create-grant', { key_id: keyId, grantee_principal: hex(8), operations: ['describe-key'] })));
    assert.equal(answers.filter((a) => a.status === 200).length, 100);
    for (const a of answers.filter((x) => x.status !== 200)) assert.deepEqual([a.status, a.body], [400, ERR('KMS.2404', 'Too many CMK grants.')]);
    assert.equal((await node.as('admin').kms('list-grants', { key_id: keyId })).body.total, 100);
    await bothWorkers(answers);
  });

  test('the rate limit is one budget per caller across the workers', async () => {
    // --rate-limit 20: twenty requests a second per caller, whichever worker counts them. Per
    // worker budgets would let through about twice as many.
    const limited = await startKmsd({
      store: 'sqlite', dataDir: join(dir, 'limited'), identities: join(dir, 'identities.json'), rootKey: randomBytes(32).toString('base64'), users,
      env: { KMSD_WORKERS: String(WORKERS), KMSD_LOG_LEVEL: 'info', KMSD_RATE_LIMIT: '20' },
    });
    try {
      const reader = limited.as('reader');
      await reader.getToken();
      await new Promise((r) => setTimeout(r, 1100));
      const started = Date.now();
      const answers = await Promise.all(Array.from({ length: 60 }, () => fresh(reader, 'list-keys', {}, limited)));
      const seconds = (Date.now() - started) / 1000;
      const allowed = answers.filter((a) => a.status === 200).length;
      assert.ok(allowed >= 20 && allowed <= 20 + Math.ceil(seconds * 20), `${allowed} allowed in ${seconds} s`);
      assert.equal(answers.filter((a) => a.status === 429).length, 60 - allowed);
      await bothWorkers(answers, limited);
    } finally {
      await limited.stop();
    }
  });

  test('failed logins are one budget per user across the workers: past the limit, 429 whichever worker answers', async () => {
    // --login-failures 6 (a minute's worth): the 7th failure for a user is refused, on any loop.
    // Per-loop budgets would allow up to 12 failures over two loops.
    const guarded = await budgetsNode('logins', { KMSD_LOGIN_FAILURES: '6' });
    try {
      const login = (password: string) => JSON.stringify({
        auth: { identity: { methods: ['password'], password: { user: { name: 'reader', password, domain: { name: 'acme' } } } } },
      });
      const json = { 'content-type': 'application/json' };
      // Issue #20 §3: 100 wrong passwords for another user at once, spread over both loops: exactly
      // the budget's 6 are checked (401), whatever is in flight; the rest 429.
      const burst = await Promise.all(Array.from({ length: 100 }, () => send(guarded.url, 'POST', '/v3/auth/tokens', json, JSON.stringify({
        auth: { identity: { methods: ['password'], password: { user: { id: users.alice.id, password: 'wrong' } } } },
      }), '127.0.0.7')));
      assert.deepEqual([burst.filter((a) => a.status === 401).length, burst.filter((a) => a.status === 429).length], [6, 94]);
      await bothWorkers(burst, guarded);
      const answers: Answer[] = [];
      // One at a time (each failure is counted before the next attempt), each on a new connection.
      for (let i = 0; i < 16; i++) answers.push(await send(guarded.url, 'POST', '/v3/auth/tokens', json, login('wrong'), '127.0.0.5'));
      assert.deepEqual(answers.map((a) => a.status), [...Array(6).fill(401), ...Array(10).fill(429)]);
      for (const a of answers.slice(6)) {
        assert.deepEqual(a.body, { error: { code: 429, title: 'Too Many Requests', message: 'The number of failed login attempts has reached the limit. Try again later.' } });
      }
      // The right password from another address: still refused (the user's budget is spent), on every loop.
      const right = await Promise.all(Array.from({ length: 8 }, () => send(guarded.url, 'POST', '/v3/auth/tokens', json, login(users.reader.password), '127.0.0.6')));
      assert.deepEqual(right.map((a) => a.status), Array(8).fill(429));
      await bothWorkers([...answers, ...right], guarded);
    } finally {
      await guarded.stop();
    }
  });

  test('right passwords wait for checks in flight on the other loop: 200 concurrent right logins of one user from one address all 201; 300 wrong ones still exactly 10 checks', async () => {
    // Issue #20 review: each loop saw only its own checks in flight, so 98 of 200 right logins got 429.
    const guarded = await budgetsNode('logins-in-flight', { KMSD_LOGIN_FAILURES: '10' });
    try {
      const json = { 'content-type': 'application/json' };
      const login = (password: string) => JSON.stringify({
        auth: { identity: { methods: ['password'], password: { user: { name: 'reader', password, domain: { name: 'acme' } } } } },
      });
      const right = await Promise.all(Array.from({ length: 200 }, () => send(guarded.url, 'POST', '/v3/auth/tokens', json, login(users.reader.password), '127.0.0.9')));
      assert.deepEqual([...new Set(right.map((a) => a.status))], [201]);
      await bothWorkers(right, guarded);
      const wrong = await Promise.all(Array.from({ length: 300 }, () => send(guarded.url, 'POST', '/v3/auth/tokens', json, JSON.stringify({
        auth: { identity: { methods: ['password'], password: { user: { id: users.alice.id, password: 'wrong' } } } },
      }), '127.0.0.10')));
      assert.deepEqual([wrong.filter((a) => a.status === 401).length, wrong.filter((a) => a.status === 429).length], [10, 290]);
      await bothWorkers(wrong, guarded);
    } finally {
      await guarded.stop();
    }
  });

  test('the audit bound on unknown callers is one per source across the workers: one record, then one summary counting every other refusal', async (t) => {
    // --audit-refusal-rate 1: one record a second from an address, then one summary a second
    // with the count, whichever loops refused them. Per-loop bounds would write a record and a
    // summary per loop.
    const bounded = await budgetsNode('refusals', { KMSD_AUDIT_REFUSAL_RATE: '1' });
    try {
      const path = `/v1.0/${users.alice.projectId}/kms/create-key`;
      const headers = { 'content-type': 'application/json', 'x-auth-token': 'not-a-token' };
      const started = Date.now();
      const answers = await Promise.all(Array.from({ length: 60 }, () => send(bounded.url, 'POST', path, headers, '{"key_alias":"x"}', '127.0.0.8')));
      const seconds = (Date.now() - started) / 1000;
      assert.deepEqual([...new Set(answers.map((a) => a.status))], [401]);
      await bothWorkers(answers, bounded);
      // A summary is written a second after the refusal that opened its count.
      await new Promise((r) => setTimeout(r, 1500));
      const flood = (await auditTrail(join(dir, 'refusals'))).filter((e) => e.source === '127.0.0.8');
      for (const e of flood) assert.deepEqual([e.operation, e.outcome, e.status, e.error_code], ['create-key', 'denied', 401, 'APIGW.0301']);
      const kinds = flood.map((e) => [e.request_id.startsWith('summary-') ? 'summary' : 'record', e.count]);
      t.diagnostic(`60 refusals in ${seconds} s: ${JSON.stringify(kinds)}`);
      if (seconds < 0.9) {
        // The whole flood within the second: the bucket's one token, then one count.
        assert.deepEqual(kinds, [['record', 1], ['summary', 59]]);
      } else {
        // A slow machine: the bucket refilled meanwhile, and a count may have closed; every refusal is still counted once.
        assert.ok(flood.length <= 2 * (Math.ceil(seconds) + 1), `${flood.length} records in ${seconds} s`);
        assert.equal(flood.reduce((n, e) => n + e.count, 0), 60);
      }
    } finally {
      await bounded.stop();
    }
  });

  test('/_kmsd/metrics answered by any worker reports the totals of the node, the requests of every loop counted once', async () => {
    const alice = node.as('alice');
    const token = await alice.getToken();
    const headers = { 'content-type': 'application/json', 'x-auth-token': token };
    const path = `/v1.0/${alice.user.projectId}/kms/describe-key`;
    // 40 answers 404 KMS.0207 (a label set no other test here produces), spread over both loops.
    const answers = await Promise.all(Array.from({ length: 40 }, () => send(node.url, 'POST', path, headers, JSON.stringify({ key_id: crypto.randomUUID() }))));
    assert.deepEqual([...new Set(answers.map((a) => a.status))], [404]);
    await bothWorkers(answers);
    const scrapes = [];
    for (let i = 0; i < 12; i++) scrapes.push(await send(node.url, 'GET', '/_kmsd/metrics', {}));
    for (const scrape of scrapes) {
      assert.equal(scrape.status, 200);
      const value = (line: string) => Number(scrape.text.split('\n').find((l) => l.startsWith(`${line} `))?.slice(line.length + 1));
      assert.equal(value('kmsd_requests_total{operation="describe-key",status="404",code="KMS.0207"}'), 40);
      // The latency histogram counts the same requests: every describe-key of this node.
      const describes = scrape.text.split('\n').filter((l) => l.startsWith('kmsd_requests_total{operation="describe-key",'));
      const total = describes.reduce((n, l) => n + Number(l.split(' ').pop()), 0);
      assert.equal(value('kmsd_request_duration_seconds_count{operation="describe-key"}'), total);
      assert.equal(value('kmsd_request_duration_seconds_bucket{le="+Inf",operation="describe-key"}'), total);
    }
    // Scrapes answered by every loop (a scrape is itself a request: the next one counts it).
    await bothWorkers(scrapes);
  });

  test('a second kmsd on the same port does not start (SO_REUSEPORT does not let it share the port)', async () => {
    const port = new URL(node.url).port;
    const second = spawn(process.execPath, [BIN, 'serve', '--port', port, '--data-dir', join(dir, 'second'), '--workers', '2', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    second.stdout.on('data', (d) => (out += d));
    second.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => second.on('exit', resolve));
    assert.notEqual(code, 0);
    assert.match(out, /port \d+ on 127\.0\.0\.1 is already in use/);
    assert.doesNotMatch(out, /serving the Huawei Cloud KMS/);
  });

  test('--workers must be a whole number from 1 to 256', async () => {
    for (const bad of ['0', '257', 'two']) {
      const run = spawn(process.execPath, [BIN, 'serve', '--workers', bad, '--data-dir', join(dir, 'bad')], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      run.stderr.on('data', (d) => (err += d));
      assert.equal(await new Promise((resolve) => run.on('exit', resolve)), 2);
      assert.equal(err, `kmsd: --workers must be a whole number from 1 to 256, got "${bad}"\n`);
    }
  });

  test('SIGTERM stops every worker and the process exits 0', async () => {
    const exited = new Promise<number | null>((resolve) => node.process.once('exit', (code) => resolve(code)));
    node.process.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
