import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
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

describe('kmsd serve --workers 2', () => {
  test('the start banner is printed once, after every worker listens', () => {
    assert.equal(node.output().match(/serving the Huawei Cloud KMS v1\.0 API/g)?.length, 1);
    const listening = node.output().split('\n').filter((l) => l.includes('Server listening')).map((l) => JSON.parse(l).worker);
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
