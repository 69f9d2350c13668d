import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Agent } from 'node:https';
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KmsClient } from '../src/client/client.ts';
import { KmsConnectionError } from '../src/client/errors.ts';
import { worldIdentities, type TestUser } from './harness.ts';
import { startKmsd, type Node } from './support/cluster.ts';

/**
 * `kmsd serve --tls-cert/--tls-key` (and --tls-self-signed) on real processes with two event
 * loops. The certificates come from the openssl CLI (an implementation independent of the one
 * kmsd serves with): a private CA, server certificates it signs, an expired one. Every client
 * is given the private CA, as an operator would give it: the official SDK core (an https.Agent
 * with `ca`), the typed client (`ca`) and the CLI (--ca-file).
 */
const BIN = fileURLToPath(new URL('../bin/kmsd.js', import.meta.url));
const require = createRequire(import.meta.url);
const { ClientBuilder } = require('@huaweicloud/huaweicloud-sdk-core/ClientBuilder');
const { BasicCredentials } = require('@huaweicloud/huaweicloud-sdk-core/auth/BasicCredentials');
require('log4js').configure({ appenders: { out: { type: 'stdout' } }, categories: { default: { appenders: ['out'], level: 'off' } } });

let dir: string;
let users: Record<string, TestUser>;
let identities: string;
let node: Node;
const rootKey = randomBytes(32).toString('base64');
const ca = () => readFileSync(join(dir, 'ca.crt'), 'utf8');
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** A server certificate for localhost and 127.0.0.1 signed by the private CA; `days` -1 makes an expired one. */
function serverCertificate(name: string, days = 2): { cert: string; key: string } {
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=localhost');
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', String(days), '-extfile', 'san.ext');
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

const fingerprintOf = (path: string) => openssl('x509', '-in', path, '-noout', '-fingerprint', '-sha256').trim().replace(/^sha256 Fingerprint=/i, '');

/** The SHA-256 fingerprint of the certificate a new TLS connection to the node is served. */
function servedFingerprint(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: hostname, port: Number(port), ca: ca(), servername: 'localhost' }, () => {
      const fingerprint = socket.getPeerX509Certificate()?.fingerprint256 ?? '';
      socket.end();
      resolve(fingerprint);
    });
    socket.on('error', reject);
  });
}

function waitFor(predicate: () => boolean, what: string): Promise<void> {
  return (async () => {
    for (let i = 0; i < 200; i++) {
      if (predicate()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  })();
}

/** Runs the real binary to its end. */
function run(args: string[], env: Record<string, string | undefined> = {}, stdin = ''): Promise<{ code: number | null; out: string; err: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KMSD_') && !k.startsWith('HUAWEICLOUD_')));
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...clean, KMSD_LOG_FORMAT: 'json', HOME: dir, KMSD_PROFILES_FILE: join(dir, 'none.json'), ...env } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kmsd-tls-'));
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=kmsd test CA', '-days', '2');
  openssl('version');
  require('node:fs').writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  const first = serverCertificate('first');
  copyFileSync(first.cert, join(dir, 'server.crt'));
  copyFileSync(first.key, join(dir, 'server.key'));
  ({ users, path: identities } = worldIdentities(dir));
  node = await startKmsd({
    store: 'sqlite', dataDir: join(dir, 'data'), identities, rootKey, users,
    env: { KMSD_TLS_CERT: join(dir, 'server.crt'), KMSD_TLS_KEY: join(dir, 'server.key') },
  });
});
after(async () => {
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('kmsd serves HTTPS only, with the certificate it is given', () => {
  test('the banner, the version document and the token catalog say https://', async () => {
    assert.match(node.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(node.output(), new RegExp(`  tls         ${join(dir, 'server.crt')}\n  sha-256     ${fingerprintOf(join(dir, 'first.crt'))}\n`));
    const agent = new Agent({ ca: ca() });
    const client = new KmsClient({ endpoint: node.url, ak: users.admin.ak, sk: users.admin.sk, ca: ca() });
    assert.equal(client.endpoint, node.url);
    const version = await fetchJson(`${node.url}/v1.0`, agent);
    assert.deepEqual(version.version.links, [{ href: `${node.url}/v1.0/`, rel: 'self' }]);
    const token = await fetchJson(`${node.url}/v3/auth/tokens`, agent, {
      auth: { identity: { methods: ['password'], password: { user: { name: 'admin', password: users.admin.password, domain: { name: 'acme' } } } }, scope: { project: { name: 'cn-north-4' } } },
    });
    const urls = token.token.catalog.flatMap((s: { endpoints: Array<{ url: string }> }) => s.endpoints.map((e) => e.url));
    assert.ok(urls.length > 0 && urls.every((u: string) => u.startsWith(`${node.url}`)), JSON.stringify(urls));
    agent.destroy();
  });

  test('the official SDK core, given the private CA, signs and sends over TLS; without it, it refuses the certificate', async () => {
    const send = (agent: Agent | undefined) => {
      const credentials = new BasicCredentials().withAk(users.admin.ak).withSk(users.admin.sk).withProjectId(users.admin.projectId);
      const builder = new ClientBuilder((client: unknown) => client).withEndpoint(node.url).withCredential(credentials);
      if (agent) builder.withOptions({ axiosRequestConfig: { httpsAgent: agent } });
      return builder.build().sendRequest({
        method: 'POST', url: '/v1.0/{project_id}/kms/create-key', contentType: 'application/json;charset=UTF-8',
        queryParams: {}, pathParams: {}, headers: {}, data: { key_alias: `tls-${randomBytes(4).toString('hex')}` },
      });
    };
    const created = await send(new Agent({ ca: ca() }));
    assert.equal(created.httpStatusCode, 200);
    assert.match(created.key_info.key_id, /^[0-9a-f-]{36}$/);
    await assert.rejects(send(undefined), (error: { errorMsg?: string; message?: string }) => /self[- ]signed|unable to (verify|get)/i.test(String(error.errorMsg ?? error.message)));
  });

  test('the typed client with `ca` works; without it the connection fails on the certificate', async () => {
    const client = new KmsClient({ endpoint: node.url, ak: users.alice.ak, sk: users.alice.sk, ca: ca() });
    const alias = `tls-client-${randomBytes(4).toString('hex')}`;
    const keyId = (await client.createKey({ key_alias: alias })).key_info?.key_id as string;
    assert.equal((await client.describeKey({ key_id: keyId })).key_info?.key_alias, alias);
    const password = new KmsClient({ endpoint: node.url, username: 'alice', password: users.alice.password, domain: 'acme', ca: ca() });
    assert.equal((await password.describeKey({ key_id: keyId })).key_info?.key_alias, alias);
    const untrusting = new KmsClient({ endpoint: node.url, ak: users.alice.ak, sk: users.alice.sk, retries: 0 });
    await assert.rejects(untrusting.listKeys({}), (error: KmsConnectionError) =>
      error instanceof KmsConnectionError && /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(VERIFY|GET)/.test(error.message));
  });

  test('the CLI with --ca-file (or KMSD_CA_FILE); without it, exit 4 naming the certificate problem', async () => {
    const env = { KMSD_ENDPOINT: node.url, HUAWEICLOUD_SDK_AK: users.admin.ak, HUAWEICLOUD_SDK_SK: users.admin.sk };
    const listed = await run(['keys', 'list', '-o', 'json', '--ca-file', join(dir, 'ca.crt')], env);
    assert.equal(listed.err, '');
    assert.equal(listed.code, 0);
    // The key the SDK test created, among the account's keys.
    assert.ok(JSON.parse(listed.out).some((k: { key_alias: string }) => k.key_alias.startsWith('tls-')), listed.out);
    assert.equal((await run(['keys', 'list', '-o', 'json'], { ...env, KMSD_CA_FILE: join(dir, 'ca.crt') })).code, 0);
    const refused = await run(['keys', 'list'], env);
    assert.equal(refused.code, 4);
    assert.match(refused.err, new RegExp(`^kmsd: cannot reach ${node.url.replace(/\./g, '\\.')}: (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\n$`));
    const missing = await run(['keys', 'list', '--ca-file', join(dir, 'nope.crt')], env);
    assert.deepEqual(missing, { code: 2, out: '', err: `kmsd: cannot read the CA file ${join(dir, 'nope.crt')}: ENOENT\n` });
  });

  test('plain HTTP to the port gets no KMS answer, and TLS below 1.2 is refused', async () => {
    const { port } = new URL(node.url);
    const answer = await new Promise<Buffer>((resolve) => {
      const socket = tcpConnect(Number(port), '127.0.0.1', () => socket.write('GET /v1.0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
      const chunks: Buffer[] = [];
      socket.on('data', (d) => chunks.push(d));
      socket.on('error', () => resolve(Buffer.concat(chunks)));
      socket.on('close', () => resolve(Buffer.concat(chunks)));
    });
    assert.ok(!answer.toString('latin1').includes('HTTP/1.'), `plain HTTP got an HTTP answer: ${answer.toString('latin1')}`);
    assert.ok(!answer.toString('latin1').includes('error_code'));
    const protocol = (maxVersion: 'TLSv1.1' | 'TLSv1.2') => new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: Number(port), ca: ca(), servername: 'localhost', minVersion: 'TLSv1', maxVersion }, () => {
        resolve(socket.getProtocol() ?? '');
        socket.end();
      });
      socket.on('error', reject);
    });
    assert.equal(await protocol('TLSv1.2'), 'TLSv1.2');
    await assert.rejects(protocol('TLSv1.1'));
  });

  test('SIGHUP serves a new pair to new connections on every event loop; a broken pair changes nothing and says why', async () => {
    const second = serverCertificate('second');
    copyFileSync(second.cert, join(dir, 'server.crt'));
    copyFileSync(second.key, join(dir, 'server.key'));
    const expected = fingerprintOf(second.cert);
    node.process.kill('SIGHUP');
    await waitFor(() => node.output().includes(`kmsd: TLS certificate reloaded (sha-256 ${expected})\n`), 'the reload');
    // Connections of their own: the kernel spreads them over both event loops.
    const seen = await Promise.all(Array.from({ length: 12 }, () => servedFingerprint(node.url)));
    assert.deepEqual(new Set(seen), new Set([expected]));

    // The first certificate with the second key: refused, the second pair stays.
    copyFileSync(join(dir, 'first.crt'), join(dir, 'server.crt'));
    node.process.kill('SIGHUP');
    const line = `kmsd: TLS certificate not reloaded (the one in force stays): the TLS key in ${join(dir, 'server.key')} does not belong to the certificate in ${join(dir, 'server.crt')}\n`;
    await waitFor(() => node.output().includes(line), 'the refusal');
    const still = await Promise.all(Array.from({ length: 6 }, () => servedFingerprint(node.url)));
    assert.deepEqual(new Set(still), new Set([expected]));

    // An expired pair is served (as at a start), with a warning.
    const expired = serverCertificate('expired-reload', -1);
    copyFileSync(expired.cert, join(dir, 'server.crt'));
    copyFileSync(expired.key, join(dir, 'server.key'));
    node.process.kill('SIGHUP');
    const notAfter = new Date(new X509Certificate(readFileSync(expired.cert)).validTo).toISOString();
    const warning = `kmsd: the TLS certificate ${join(dir, 'server.crt')} expired on ${notAfter}: clients will refuse it; replace it and send SIGHUP\n`;
    const reloaded = `kmsd: TLS certificate reloaded (sha-256 ${fingerprintOf(expired.cert)})\n`;
    await waitFor(() => node.output().includes(reloaded) && node.output().includes(warning), 'the reload with its warning');

    copyFileSync(second.cert, join(dir, 'server.crt'));
    copyFileSync(second.key, join(dir, 'server.key'));
    node.process.kill('SIGHUP');
    await waitFor(() => node.output().split(`reloaded (sha-256 ${expected})`).length === 3, 'the second pair again');
  });
});

describe('a slow TLS handshake', () => {
  test('a connection that sends nothing, or half a ClientHello, is closed within the header deadline on every loop', async () => {
    const slow = await startKmsd({
      store: 'sqlite', dataDir: join(dir, 'slow-data'), identities, rootKey, users,
      env: { KMSD_TLS_CERT: join(dir, 'first.crt'), KMSD_TLS_KEY: join(dir, 'first.key'), KMSD_HEADER_TIMEOUT: '1000' },
    });
    try {
      const { port } = new URL(slow.url);
      // A TLS record header announcing 512 bytes of handshake, then the start of a ClientHello only.
      const half = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]), randomBytes(32)]);
      /** Milliseconds until the server closes a connection that sent `bytes`; Infinity if still open after 8 s. */
      const closedAfter = (bytes: Buffer) => new Promise<number>((resolve) => {
        const started = Date.now();
        const socket = tcpConnect(Number(port), '127.0.0.1', () => {
          if (bytes.length > 0) socket.write(bytes);
        });
        const timer = setTimeout(() => {
          socket.destroy();
          resolve(Infinity);
        }, 8000);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          clearTimeout(timer);
          resolve(Date.now() - started);
        });
        socket.resume();
      });
      // Connections of their own: the kernel spreads them over both event loops.
      const times = await Promise.all([...Array.from({ length: 4 }, () => closedAfter(Buffer.alloc(0))), ...Array.from({ length: 4 }, () => closedAfter(half))]);
      for (const ms of times) assert.ok(ms >= 900 && ms < 3000, `closed after ${ms} ms, not within about the 1000 ms header deadline: ${times.join(', ')}`);
    } finally {
      await slow.stop();
    }
  });
});

describe('TLS start mistakes are one line and exit code 2; an expired certificate only warns', () => {
  const serve = (args: string[]) => run(['serve', '--port', '0', '--data-dir', join(dir, `start-${randomBytes(4).toString('hex')}`), '--workers', '1', ...args], { KMSD_ROOT_KEY: rootKey });

  test('a missing file, a key of another certificate, a file with no certificate, only one of the two flags', async () => {
    const cases: Array<[string[], string]> = [
      [['--tls-cert', join(dir, 'nope.crt'), '--tls-key', join(dir, 'first.key')], `cannot read the TLS certificate file ${join(dir, 'nope.crt')}: ENOENT`],
      [['--tls-cert', join(dir, 'first.crt'), '--tls-key', join(dir, 'second.key')], `the TLS key in ${join(dir, 'second.key')} does not belong to the certificate in ${join(dir, 'first.crt')}`],
      [['--tls-cert', join(dir, 'first.key'), '--tls-key', join(dir, 'first.key')], `the TLS certificate file ${join(dir, 'first.key')} holds no PEM certificate`],
      [['--tls-cert', join(dir, 'first.crt'), '--tls-key', join(dir, 'first.crt')], `the TLS key file ${join(dir, 'first.crt')} holds no PEM private key`],
      [['--tls-cert', join(dir, 'first.crt')], '--tls-cert and --tls-key go together: give both (or --tls-self-signed)'],
      [['--tls-self-signed', '--tls-cert', join(dir, 'first.crt'), '--tls-key', join(dir, 'first.key')], '--tls-self-signed makes its own certificate: give it or --tls-cert/--tls-key, not both'],
    ];
    for (const [args, line] of cases) assert.deepEqual(await serve(args), { code: 2, out: '', err: `kmsd: ${line}\n` }, line);
  });

  test('an expired certificate: kmsd starts and warns', async () => {
    const expired = serverCertificate('expired', -1);
    const dataDir = join(dir, 'expired-data');
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-dir', dataDir, '--workers', '1', '--tls-cert', expired.cert, '--tls-key', expired.key], {
      env: { ...process.env, KMSD_ROOT_KEY: rootKey, KMSD_LOG_FORMAT: 'json', KMSD_IDENTITIES: identities },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      await waitFor(() => out.includes('serving the Huawei Cloud KMS v1.0 API at https://'), 'the start');
      const warning = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((l) => l.level === 40);
      const notAfter = new Date(new X509Certificate(readFileSync(expired.cert)).validTo).toISOString();
      assert.equal(warning?.msg, `the TLS certificate ${expired.cert} expired on ${notAfter}: clients will refuse it; replace it and send SIGHUP`);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    }
  });
});

describe('a sealed node over HTTPS', () => {
  test('kmsd seal status and kmsd unseal with --ca-file', async () => {
    const dataDir = join(dir, 'sealed-tls');
    const init = await run(['seal', 'init', '--data-dir', dataDir, '--shares', '2', '--threshold', '2']);
    assert.equal(init.code, 0, init.err);
    const shares = [...init.out.matchAll(/^share \d: (\S+)$/gm)].map((m) => m[1]);
    const sealed = await startKmsd({
      store: 'sqlite', dataDir, identities, rootKey: '', users,
      env: { KMSD_TLS_CERT: join(dir, 'server.crt'), KMSD_TLS_KEY: join(dir, 'server.key') },
    });
    try {
      const flags = ['--url', sealed.url, '--ca-file', join(dir, 'ca.crt')];
      assert.deepEqual(await run(['seal', 'status', ...flags]), { code: 0, out: 'sealed: 0 of 2 shares given (2 made)\n', err: '' });
      assert.deepEqual(await run(['unseal', ...flags, shares[0]]), { code: 0, out: 'share counted: 1 of 2 shares given (2 made); still sealed\n', err: '' });
      const untrusting = await run(['unseal', '--url', sealed.url, shares[1]]);
      assert.equal(untrusting.code, 4);
      assert.match(untrusting.err, /^kmsd: cannot reach https:\/\/127\.0\.0\.1:\d+: (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\n$/);
      assert.deepEqual(await run(['unseal', ...flags, shares[1]]), { code: 0, out: 'unsealed: the node serves\n', err: '' });
      const client = new KmsClient({ endpoint: sealed.url, ak: users.alice.ak, sk: users.alice.sk, ca: ca() });
      assert.ok(Array.isArray((await client.listKeys({})).keys));
    } finally {
      await sealed.stop();
    }
  });

  test("with --tls-self-signed the banner's unseal command names the certificate; it works as printed, with lines pasted whole from seal init", async () => {
    const dataDir = join(dir, 'sealed-self-signed');
    const init = await run(['seal', 'init', '--data-dir', dataDir, '--shares', '2', '--threshold', '2']);
    assert.equal(init.code, 0, init.err);
    const lines = init.out.split('\n').filter((l) => l.startsWith('share '));
    assert.equal(lines.length, 2);
    const sealed = await startKmsd({ store: 'sqlite', dataDir, identities, rootKey: '', users, env: { KMSD_TLS_SELF_SIGNED: 'true' } });
    try {
      const certPath = join(dataDir, 'tls-self-signed.crt');
      const command = new RegExp(`\n {2}sealed {6}2 of its 2 shares unseal it: (kmsd unseal --url https://127\\.0\\.0\\.1:\\d+ --ca-file ${certPath})\n`).exec(sealed.output());
      assert.ok(command, sealed.output());
      const args = command[1].split(' ').slice(1);
      assert.deepEqual(await run(args, {}, `${lines[0]}\n`), { code: 0, out: 'share counted: 1 of 2 shares given (2 made); still sealed\n', err: '' });
      assert.deepEqual(await run([...args, lines[1]]), { code: 0, out: 'unsealed: the node serves\n', err: '' });
    } finally {
      await sealed.stop();
    }
  });
});

describe('--tls-self-signed', () => {
  test('makes a certificate for the listen address and localhost, prints its path and fingerprint, keeps it across restarts', async () => {
    const dataDir = join(dir, 'self-signed');
    const start = () => startKmsd({ store: 'sqlite', dataDir, identities, rootKey, users, env: { KMSD_TLS_SELF_SIGNED: 'true' } });
    const first = await start();
    const certPath = join(dataDir, 'tls-self-signed.crt');
    let fingerprint: string;
    try {
      fingerprint = fingerprintOf(certPath);
      assert.match(first.output(), new RegExp(`  tls         ${certPath} \\(self-signed, made now: none was made for this data directory yet\\)\n  sha-256     ${fingerprint}\n`));
      assert.equal(openssl('x509', '-in', certPath, '-noout', '-ext', 'subjectAltName').split('\n')[1].trim(), 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
      assert.equal((readFileSync(join(dataDir, 'tls-self-signed.key')).length > 0), true);
      assert.equal(require('node:fs').statSync(join(dataDir, 'tls-self-signed.key')).mode & 0o777, 0o600);
      // The certificate itself is what a client trusts; localhost is among its names.
      const client = new KmsClient({ endpoint: first.url.replace('127.0.0.1', 'localhost'), ak: users.admin.ak, sk: users.admin.sk, ca: readFileSync(certPath) });
      assert.ok(Array.isArray((await client.listKeys({})).keys));
    } finally {
      await first.stop();
    }
    const second = await start();
    try {
      assert.match(second.output(), new RegExp(`  tls         ${certPath} \\(self-signed, kept from an earlier start\\)\n  sha-256     ${fingerprint}\n`));
    } finally {
      await second.stop();
    }
  });
});

async function fetchJson(url: string, agent: Agent, body?: unknown): Promise<any> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(url, { method: body ? 'POST' : 'GET', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve(JSON.parse(text)));
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}
