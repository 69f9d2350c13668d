import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { combine } from 'shamir-secret-sharing';
import { CANARY_CONTEXT, RootKey } from '../src/core/sealing.ts';
import { DECISIONS } from '../src/core/decisions.ts';
import { ERR, worldIdentities, type TestUser } from './harness.ts';
import { startKmsd, type Node } from './support/cluster.ts';
import { freshDatabase, POSTGRES_SKIP } from './support/postgres.ts';

/**
 * A sealed start: `kmsd seal init` on a new store, then real `kmsd serve` processes (two event
 * loops each) that serve nothing until `kmsd unseal` (or POST /_kmsd/unseal) has given them the
 * threshold of shares; on PostgreSQL every node is unsealed on its own.
 */
const BIN = fileURLToPath(new URL('../bin/kmsd.js', import.meta.url));
const SEALED_KMS = ERR(DECISIONS.sealedKmsError, 'A system exception occurred. Contact technical support.');
const SEALED_IAM = { error: { code: 503, title: 'Service Unavailable', message: 'The service is unavailable: this kmsd node is sealed.' } };

let dir: string;
let users: Record<string, TestUser>;
let identities: string;

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function kmsd(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KMSD_')));
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...clean, KMSD_LOG_FORMAT: 'json', ...options.env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  child.stdin.end(options.stdin ?? '');
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

/** `kmsd seal init` that must succeed: its shares, read from its output (which is checked line by line). */
async function sealInit(storeArgs: string[], shares: number, threshold: number, where: string): Promise<string[]> {
  const run = await kmsd(['seal', 'init', ...storeArgs, '--shares', String(shares), '--threshold', String(threshold)]);
  assert.equal(run.err, '');
  assert.equal(run.code, 0);
  const lines = run.out.split('\n');
  assert.equal(lines[0], `${where} is sealed: ${shares} shares, any ${threshold} of which unseal it. They are printed this once and kept nowhere:`);
  const found = lines.slice(1, 1 + shares).map((line, i) => {
    const m = new RegExp(`^share ${i + 1}: ([A-Za-z0-9+/]{44})$`).exec(line);
    assert.ok(m, line);
    return m[1];
  });
  assert.deepEqual(lines.slice(1 + shares), [`Give each share to its keeper. kmsd serve on this store starts sealed; unseal every node with kmsd unseal --url URL (${threshold} shares each).`, '']);
  assert.equal(new Set(found).size, shares);
  return found;
}

/** One request over a connection of its own (the kernel spreads those over the event loops). */
function call(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request(`${url}${path}`, { method, agent: false, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let data = '';
      res.on('data', (d) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data === '' ? undefined : JSON.parse(data), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

const unsealHttp = (node: Node, share: unknown) => call(node.url, 'POST', '/_kmsd/unseal', { share });
const status = (threshold: number, shares: number, progress: number, sealed = true) => ({ sealed, threshold, shares, progress });

/** A sealed node answers nothing of the KMS or IAM API, on any of its loops. */
async function assertSealed(node: Node, user: TestUser): Promise<void> {
  assert.deepEqual(await call(node.url, 'GET', '/_kmsd/health').then((r) => [r.status, r.body]), [200, { status: 'sealed' }]);
  const store = node.output().includes(', store sqlite)') ? 'sqlite' : 'postgres';
  assert.deepEqual(await call(node.url, 'GET', '/_kmsd/ready').then((r) => [r.status, r.body]), [503, { status: 'sealed', store, reason: 'the node is sealed: give it its unseal shares (kmsd unseal)' }]);
  for (let i = 0; i < 4; i++) {
    const kmsAnswer = await call(node.url, 'POST', `/v1.0/${user.projectId}/kms/create-key`, { key_alias: 'never' });
    assert.deepEqual([kmsAnswer.status, kmsAnswer.body], [503, SEALED_KMS]);
    assert.match(String(kmsAnswer.headers['x-request-id']), /^[0-9a-f]{32}$/);
    const iamAnswer = await call(node.url, 'POST', '/v3/auth/tokens', { auth: {} });
    assert.deepEqual([iamAnswer.status, iamAnswer.body], [503, SEALED_IAM]);
    assert.deepEqual(await call(node.url, 'GET', '/v1.0').then((r) => [r.status, r.body]), [503, SEALED_KMS]);
  }
}

/** Every loop of the node serves: requests over new connections, with a token, succeed. */
async function assertServes(node: Node, user: string): Promise<void> {
  assert.deepEqual(await call(node.url, 'GET', '/_kmsd/health').then((r) => r.body), { status: 'ok' });
  assert.equal((await call(node.url, 'GET', '/_kmsd/ready')).status, 200);
  const token = await node.as(user).getToken();
  for (let i = 0; i < 8; i++) {
    const listed = await call(node.url, 'POST', `/v1.0/${node.as(user).user.projectId}/kms/list-keys`, {}, { 'X-Auth-Token': token });
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
  }
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kmsd-seal-'));
  ({ users, path: identities } = worldIdentities(dir));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('kmsd seal init', () => {
  test('splits a new root key into shares any threshold of which rebuild it; the store keeps only its check value', async () => {
    const dataDir = join(dir, 'init');
    const shares = await sealInit(['--data-dir', dataDir], 5, 3, `the SQLite store ${join(dataDir, 'kmsd.db')}`);
    assert.deepEqual(readdirSync(dataDir).sort(), ['kmsd.db', 'kmsd.lock']); // the lock's file stays (store/data-dir-lock.ts)
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    const { DatabaseSync } = await import('node:sqlite');
    const db = new DatabaseSync(join(dataDir, 'kmsd.db'), { readOnly: true });
    const canary = Buffer.from(String(db.prepare('SELECT value FROM settings WHERE name = ?').get(CANARY_CONTEXT)?.value), 'base64');
    const seal = JSON.parse(String(db.prepare('SELECT value FROM settings WHERE name = ?').get('seal')?.value));
    db.close();
    assert.deepEqual({ ...seal, salt: typeof seal.salt, digests: seal.digests.length }, { version: 1, shares: 5, threshold: 3, salt: 'string', digests: 5 });
    const bytes = shares.map((s) => new Uint8Array(Buffer.from(s, 'base64')));
    const keyOf = async (picked: Uint8Array[]) => Buffer.from(await combine(picked));
    const key = await keyOf([bytes[0], bytes[2], bytes[4]]);
    assert.deepEqual(await keyOf([bytes[3], bytes[1], bytes[0]]), key);
    assert.equal(new RootKey(key).open(canary, CANARY_CONTEXT).toString(), 'kmsd-root-key-check');
    // Fewer than the threshold rebuild something else.
    // An independent reconstruction (Lagrange at x = 0 over GF(2^8) with the AES polynomial, as
    // Vault's shares; the x coordinate is each share's last byte) gives the same key.
    assert.deepEqual(interpolateAtZero([bytes[1], bytes[2], bytes[4]]), key);
    const wrong = await keyOf(bytes.slice(0, 2));
    assert.notDeepEqual(wrong, key);
    assert.throws(() => new RootKey(wrong).open(canary, CANARY_CONTEXT));
  });

  test('refuses a store that is not new, bad counts and a root key of its own, in one line with exit code 2', async () => {
    const dataDir = join(dir, 'init-refusals');
    await sealInit(['--data-dir', dataDir], 2, 2, `the SQLite store ${join(dataDir, 'kmsd.db')}`);
    const cases: Array<[string[], Record<string, string>, string]> = [
      [['--data-dir', dataDir, '--shares', '3', '--threshold', '2'], {}, `${join(dataDir, 'kmsd.db')} exists: kmsd seal init makes a new store (choose an empty --data-dir)`],
      [['--data-dir', join(dir, 'x'), '--shares', '3', '--threshold', '4'], {}, '--threshold must be from 2 to --shares (3), got 4'],
      [['--data-dir', join(dir, 'x'), '--shares', '1', '--threshold', '1'], {}, '--shares must be from 2 to 255, got 1'],
      [['--data-dir', join(dir, 'x'), '--shares', '256', '--threshold', '2'], {}, '--shares must be from 2 to 255, got 256'],
      [['--data-dir', join(dir, 'x'), '--threshold', '2'], {}, '--shares is required'],
      [['--data-dir', join(dir, 'x'), '--shares', '3', '--threshold', '2'], { KMSD_ROOT_KEY: randomBytes(32).toString('base64') }, 'kmsd seal init makes the root key itself: unset KMSD_ROOT_KEY and KMSD_ROOT_KEY_FILE'],
    ];
    for (const [args, env, line] of cases) assert.deepEqual(await kmsd(['seal', 'init', ...args], { env }), { code: 2, out: '', err: `kmsd: ${line}\n` }, line);
    assert.equal(existsSync(join(dir, 'x')), false);
  });
});

describe('a node on a sealed SQLite store', () => {
  let dataDir: string;
  let shares: string[];
  let node: Node;
  before(async () => {
    dataDir = join(dir, 'sqlite');
    shares = await sealInit(['--data-dir', dataDir], 3, 2, `the SQLite store ${join(dataDir, 'kmsd.db')}`);
    node = await startKmsd({ store: 'sqlite', dataDir, identities, rootKey: '', users, env: { KMSD_LOG_LEVEL: 'info' } });
  });
  after(() => node?.stop());

  test('starts sealed: health "sealed", ready 503, every KMS and IAM request 503 in its own error shape; no root key file', async () => {
    assert.match(node.output(), /\n {2}sealed {6}2 of its 3 shares unseal it: kmsd unseal --url http:\/\/127\.0\.0\.1:\d+\n/);
    await assertSealed(node, users.admin);
    assert.equal(existsSync(join(dataDir, 'root.key')), false);
    assert.deepEqual(await kmsd(['seal', 'status', '--url', node.url]), { code: 0, out: 'sealed: 0 of 2 shares given (3 made)\n', err: '' });
    // The gate answers before the route's own hook runs, yet each answer is counted and logged
    // under the operation its path names (src/api/app.ts operationOf), an unknown path as unknown.
    assert.equal((await call(node.url, 'POST', `/v1.0/${users.admin.projectId}/kms/no-such-operation`, {})).status, 503);
    assert.equal((await call(node.url, 'GET', `/v1/${users.admin.projectId}/secrets/s1`)).status, 503);
    const metrics = await (await fetch(`${node.url}/_kmsd/metrics`)).text();
    const sealed = [...metrics.matchAll(/^kmsd_requests_total\{operation="([^"]*)",status="503",code="([^"]*)"\} (\d+)$/gm)].map(([, operation, code, n]) => `${operation} ${code} ${n}`);
    for (const counted of ['create-key KMS.0104 4', 'unknown KMS.0104 1', 'show-secret KMS.0104 1']) assert.ok(sealed.includes(counted), `${counted} in ${sealed.join('; ')}`);
    assert.deepEqual(sealed.filter((line) => /^[A-Z]+ \/v[0-9.]+\/:project_id/.test(line)), [], 'an operations route\'s template as a label');
    const lines = node.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((l) => l.msg === 'request' && l.status === 503);
    assert.deepEqual([...new Set(lines.filter((l) => l.path.startsWith('/v1') && l.path !== '/v1.0').map((l) => `${l.path.split('/').at(-1)} ${l.operation}`))].sort(), ['create-key create-key', 'no-such-operation undefined', 's1 show-secret']);
  });

  test('malformed, foreign and repeated shares do not count; the threshold of distinct shares unseals every loop', async () => {
    const foreign = (await sealInit(['--data-dir', join(dir, 'foreign')], 2, 2, `the SQLite store ${join(dir, 'foreign', 'kmsd.db')}`))[0];
    const malformed = await unsealHttp(node, 'not a share');
    assert.deepEqual([malformed.status, malformed.body], [400, { ...status(2, 3, 0), error: 'not a share: a share is 44 characters of base64, as kmsd seal init printed it' }]);
    assert.deepEqual((await call(node.url, 'POST', '/_kmsd/unseal', 'just text')).body, { ...status(2, 3, 0), error: 'not a share: a share is 44 characters of base64, as kmsd seal init printed it' });
    const other = await unsealHttp(node, foreign);
    assert.deepEqual([other.status, other.body], [400, { ...status(2, 3, 0), error: 'not one of the shares of this store' }]);
    const first = await kmsd(['unseal', '--url', node.url, shares[0]]);
    assert.deepEqual(first, { code: 0, out: 'share counted: 1 of 2 shares given (3 made); still sealed\n', err: '' });
    const again = await kmsd(['unseal', '--url', node.url, '-'], { stdin: `${shares[0]}\n` });
    assert.deepEqual(again, { code: 3, out: '', err: 'kmsd: share not counted: this share was given already: it counts once; 1 of 2 shares given (3 made)\n' });
    assert.deepEqual(await kmsd(['seal', 'status', '--url', node.url, '-o', 'json']), { code: 0, out: `${JSON.stringify(status(2, 3, 1))}\n`, err: '' });
    await assertSealed(node, users.admin);
    // The last share from stdin: the answer leaves once every loop has the key.
    assert.deepEqual(await kmsd(['unseal', '--url', node.url], { stdin: shares[2] }), { code: 0, out: 'unsealed: the node serves\n', err: '' });
    await assertServes(node, 'alice');
    assert.deepEqual((await unsealHttp(node, shares[1])).body, status(2, 3, 0, false));
    assert.match(node.output(), /kmsd: unsealed: serving\naccounts \(from /);
  });

  test('attempts are in the audit trail without the share; no share is in the log or the metrics', async () => {
    const audit = await kmsd(['audit', '--data-dir', dataDir, '-o', 'json']);
    assert.equal(audit.code, 0, audit.err);
    const records = audit.out.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.operation === 'unseal');
    assert.deepEqual(records.map((e) => [e.outcome, e.status, e.error_code, e.source, e.user_id]), [
      ['denied', 400, 'SEAL.MALFORMED', '127.0.0.1', null],
      ['denied', 400, 'SEAL.MALFORMED', '127.0.0.1', null],
      ['denied', 400, 'SEAL.UNKNOWN_SHARE', '127.0.0.1', null],
      ['allowed', 200, null, '127.0.0.1', null],
      ['denied', 400, 'SEAL.REPEATED', '127.0.0.1', null],
      ['allowed', 200, null, '127.0.0.1', null],
    ]);
    const metrics = await new Promise<string>((resolve) => request(`${node.url}/_kmsd/metrics`, (res) => {
      let t = '';
      res.on('data', (d) => (t += d));
      res.on('end', () => resolve(t));
    }).end());
    for (const share of shares) {
      assert.ok(!audit.out.includes(share), 'a share in the audit trail');
      assert.ok(!node.output().includes(share), 'a share in the log');
      assert.ok(!metrics.includes(share), 'a share in the metrics');
    }
  });

  test('an unsealed node answers unseal posts with its status within the per-address limit, and writes nothing', async () => {
    const before = await kmsd(['audit', '--data-dir', dataDir]);
    assert.equal(before.code, 0, before.err);
    const { perSourcePerMinute } = DECISIONS.unsealAttempts;
    for (let a = 0; a < 10; a++) {
      const answers: Array<[number, unknown]> = [];
      for (let i = 0; i < 30; i++) {
        const answer = await rawPost(node.url, JSON.stringify({ share: i % 2 ? shares[0] : 'x' }), `127.0.0.${60 + a}`);
        answers.push([answer.status, JSON.parse(answer.text)]);
      }
      assert.deepEqual(answers, Array.from({ length: 30 }, (_, i) => i < perSourcePerMinute
        ? [200, status(2, 3, 0, false)]
        : [429, { ...status(2, 3, 0, false), error: 'too many unseal attempts: try again in 60 s' }]));
    }
    assert.deepEqual(await kmsd(['audit', '--data-dir', dataDir]), before);
  });

  test('a restart is sealed again; too many attempts from one address are refused with 429', async () => {
    await node.stop();
    node = await startKmsd({ store: 'sqlite', dataDir, identities, rootKey: '', users });
    await assertSealed(node, users.admin);
    const { perSourcePerMinute } = DECISIONS.unsealAttempts;
    for (let i = 0; i < perSourcePerMinute; i++) assert.equal((await unsealHttp(node, 'x')).status, 400);
    const throttled = await unsealHttp(node, shares[0]);
    assert.deepEqual([throttled.status, throttled.headers['retry-after'], throttled.body], [429, '60', { ...status(2, 3, 0), error: 'too many unseal attempts: try again in 60 s' }]);
  });

  test('generated bad bodies to /_kmsd/unseal get 400 with the seal status and why, never a 5xx, and do not count', async () => {
    const bodies = fc.sample(fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.json({ maxDepth: 2 }),
      fc.record({ share: fc.oneof(fc.string({ maxLength: 60 }), fc.integer(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 })) }),
      fc.base64String({ minLength: 40, maxLength: 48 }).map((share) => JSON.stringify({ share })),
    ), 40);
    // Each from an address of its own (127.0.0.0/8 is all loopback): the per-address limit stays out of the way.
    for (const [i, body] of bodies.entries()) {
      const answer = await rawPost(node.url, typeof body === 'string' ? body : JSON.stringify(body), `127.0.0.${20 + Math.floor(i / 8)}`);
      assert.equal(answer.status, 400, `${JSON.stringify(body)} -> ${answer.status} ${answer.text}`);
      const parsed = JSON.parse(answer.text);
      assert.deepEqual({ ...parsed, error: typeof parsed.error }, { ...status(2, 3, 0), error: 'string' });
    }
    const huge = await rawPost(node.url, JSON.stringify({ share: 'A'.repeat(70_000) }), '127.0.0.30');
    assert.equal(huge.status, 400);
    assert.deepEqual((await call(node.url, 'GET', '/_kmsd/seal-status')).body, status(2, 3, 0));
  });

  test('a deeply nested share (array or object) is not a share: 400 from every loop, nothing crosses to the main thread', async () => {
    const deepArray = `{"share":${'['.repeat(15_000)}${']'.repeat(15_000)}}`;
    const deepObject = `{"share":${'{"a":'.repeat(6_000)}1${'}'.repeat(6_000)}}`;
    const notAShare = { ...status(2, 3, 0), error: 'not a share: a share is 44 characters of base64, as kmsd seal init printed it' };
    // Six connections each (the kernel spreads them over both loops), from addresses of their own.
    for (const [i, body] of [deepArray, deepObject].entries()) {
      const answers = await Promise.all(Array.from({ length: 6 }, () => rawPost(node.url, body, `127.0.0.${40 + i}`)));
      assert.deepEqual(answers.map((a) => [a.status, JSON.parse(a.text)]), answers.map(() => [400, notAShare]));
    }
    assert.deepEqual((await call(node.url, 'GET', '/_kmsd/seal-status')).body, status(2, 3, 0));
  });

  test("refusals from many addresses spend the node's budget, but a keeper's share still counts", async () => {
    // Bad shares from fresh addresses (fewer than the per-address limit each) until the node's budget is spent.
    let throttled = false;
    for (let a = 0; a < 40 && !throttled; a++) {
      for (let i = 0; i < 5 && !throttled; i++) throttled = (await rawPost(node.url, '{"share":"x"}', `127.0.2.${a + 1}`)).status === 429;
    }
    assert.ok(throttled, "the node's budget for refused attempts was never spent");
    // A fresh address is throttled too. The budget refills continuously (one attempt every 0.6 s):
    // on a busy machine one refused attempt (400) may slip in before the next is throttled.
    let refused = { status: 0, text: '' };
    for (let a = 1; a <= 3; a++) {
      refused = await rawPost(node.url, '{"share":"x"}', `127.0.3.${a}`);
      if (refused.status === 429) break;
      assert.equal(refused.status, 400, refused.text);
    }
    assert.deepEqual([refused.status, JSON.parse(refused.text)], [429, { ...status(2, 3, 0), error: 'too many unseal attempts: try again in 60 s' }]);
    const keeper = await rawPost(node.url, JSON.stringify({ share: shares[1] }), '127.0.3.10');
    assert.deepEqual([keeper.status, JSON.parse(keeper.text)], [200, status(2, 3, 1)]);
  });

  test('a sealed store refuses a root key given to it, in one line with exit code 2', async () => {
    await node.stop();
    const run = await kmsd(['serve', '--port', '0', '--data-dir', dataDir, '--identities', identities], { env: { KMSD_ROOT_KEY: randomBytes(32).toString('base64') } });
    assert.deepEqual(run, {
      code: 2, out: '',
      err: 'kmsd: this store is sealed (kmsd seal init): it takes no root key file or KMSD_ROOT_KEY; start it without one and unseal it with its shares (kmsd unseal)\n',
    });
    assert.equal(existsSync(join(dataDir, 'root.key')), false);
  });
});

describe('sealed nodes over one PostgreSQL database', { skip: POSTGRES_SKIP }, () => {
  test('every node is unsealed on its own', async () => {
    const db = await freshDatabase();
    const nodes: Node[] = [];
    try {
      const where = `the PostgreSQL store at ${new URL(db.url).hostname}:${new URL(db.url).port}${new URL(db.url).pathname}`;
      const shares = await sealInit(['--store', db.url], 3, 2, where);
      for (let i = 0; i < 2; i++) {
        nodes.push(await startKmsd({ store: db.url, dataDir: join(dir, `pg-${i}`), identities, rootKey: '', users }));
      }
      const [a, b] = nodes;
      await assertSealed(a, users.admin);
      await assertSealed(b, users.admin);
      assert.deepEqual((await unsealHttp(a, shares[1])).body, status(2, 3, 1));
      assert.deepEqual((await unsealHttp(a, shares[2])).body, status(2, 3, 0, false));
      await assertServes(a, 'alice');
      // The other node still has none of the shares.
      await assertSealed(b, users.admin);
      assert.deepEqual((await unsealHttp(b, shares[0])).body, status(2, 3, 1));
      assert.deepEqual((await unsealHttp(b, shares[1])).body, status(2, 3, 0, false));
      await assertServes(b, 'alice');
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
      await db.drop();
    }
  });
});

/** A raw POST to /_kmsd/unseal from a given loopback address. */
function rawPost(url: string, text: string, localAddress: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/_kmsd/unseal`, { method: 'POST', agent: false, localAddress, headers: { 'content-type': 'application/json' } }, (res) => {
      let data = '';
      res.on('data', (d) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: data }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** GF(2^8) multiplication modulo x^8 + x^4 + x^3 + x + 1, bit by bit (for the test's own check only). */
function gfMul(a: number, b: number): number {
  let product = 0;
  for (let i = 0; i < 8; i++) {
    if (b & 1) product ^= a;
    const carry = a & 0x80;
    a = (a << 1) & 0xff;
    if (carry) a ^= 0x1b;
    b >>= 1;
  }
  return product;
}

/** a^254 = a^-1 in GF(2^8). */
function gfInverse(a: number): number {
  let result = 1;
  for (let i = 0; i < 254; i++) result = gfMul(result, a);
  return result;
}

/** The secret the shares' polynomials take at x = 0. */
function interpolateAtZero(shares: Uint8Array[]): Buffer {
  const xs = shares.map((s) => s[s.length - 1]);
  const secret = Buffer.alloc(shares[0].length - 1);
  for (let byte = 0; byte < secret.length; byte++) {
    let sum = 0;
    shares.forEach((share, i) => {
      let basis = 1;
      xs.forEach((xj, j) => {
        if (j !== i) basis = gfMul(basis, gfMul(xj, gfInverse(xj ^ xs[i])));
      });
      sum ^= gfMul(share[byte], basis);
    });
    secret[byte] = sum;
  }
  return secret;
}
