import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn, type SpawnOptions } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The start explains itself: every start mistake ends with one line on stderr and exit code 2,
 * before anything is written. Each case runs the real `bin/kmsd.js serve` on Node 24
 * (node_modules/.bin/node), as `npx kmsd` does.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NODE = join(ROOT, 'node_modules/.bin/node');
const BIN = join(ROOT, 'bin/kmsd.js');
const ROOT_KEY = randomBytes(32).toString('base64');
// Root ignores file modes: as root, the "not writable" cases run kmsd as the unprivileged user nobody.
const AS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;
// That needs a checkout nobody may reach (a clone inside a 0700 temporary directory is not):
// then the two cases are skipped, saying why.
const NOBODY_RUNS_NODE = !AS_ROOT || spawnSync(NODE, ['-e', '0'], { uid: NOBODY, gid: NOBODY }).status === 0;
const needsNobody = NOBODY_RUNS_NODE ? false : `running as root, and user ${NOBODY} cannot reach ${NODE} to run kmsd unprivileged`;

interface Run {
  child: ReturnType<typeof spawn>;
  exited: Promise<number | null>;
  out(): string;
  err(): string;
}

function kmsd(args: string[], env: Record<string, string> = {}, options: SpawnOptions = {}): Run {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KMSD_')));
  const child = spawn(NODE, [BIN, ...args], { ...options, cwd: ROOT, env: { ...clean, KMSD_LOG_FORMAT: 'json', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  // 'close', not 'exit': the output is all read only once the child's stdio has ended.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

async function waitFor(predicate: () => boolean, what: string, seconds = 15): Promise<void> {
  for (let i = 0; i < seconds * 20; i++) {
    if (predicate()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Every file under a directory with its mode and a hash of its content (null when absent). */
function snapshot(dir: string): Record<string, string> | null {
  if (!existsSync(dir)) return null;
  if (!statSync(dir).isDirectory()) return { '': createHash('sha256').update(readFileSync(dir)).digest('hex') };
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    const st = statSync(path);
    out[name] = st.isDirectory() ? `dir ${st.mode}` : `${st.mode} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
  }
  return out;
}

/** A start that must fail: exit code 2, exactly this one line on stderr, the data directory unchanged. */
async function refused(args: string[], line: string, dataDir: string, env: Record<string, string> = {}, options: SpawnOptions = {}): Promise<void> {
  const before = snapshot(dataDir);
  const run = kmsd(args, env, options);
  const code = await run.exited;
  assert.equal(run.err(), `kmsd: ${line}\n`);
  assert.equal(code, 2);
  assert.deepEqual(snapshot(dataDir), before, 'the data directory changed');
}

/** SIGINT stops it within 15 s, exit 0, nothing on standard error. */
async function stopsQuietlyAtSigint(run: Run): Promise<void> {
  run.child.kill('SIGINT');
  const code = await Promise.race([run.exited, new Promise((r) => setTimeout(() => r('still running after 15 s'), 15_000))]);
  assert.equal(code, 0);
  assert.equal(run.err(), '');
}

function base(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-start-'));
  chmodSync(dir, 0o755);
  return dir;
}

function identities(dir: string): string {
  const path = join(dir, 'identities.json');
  writeFileSync(path, JSON.stringify({ accounts: [{ name: 'acme', users: [{ name: 'admin', password: 'pw-admin', access_keys: [{ ak: 'AKACME', sk: 'SKACME' }] }] }] }));
  chmodSync(path, 0o644);
  return path;
}

/** Starts kmsd once and stops it, leaving a store in dataDir. */
async function createStore(args: string[], env: Record<string, string> = {}): Promise<void> {
  const run = kmsd(['serve', '--port', '0', ...args], env);
  await waitFor(() => run.out().includes('  endpoint'), `the start (${run.err()})`);
  run.child.kill('SIGTERM');
  assert.equal(await run.exited, 0);
}

function listen(host: string): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen({ host, port: 0 }, () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

describe('start mistakes end with one line and exit code 2, before anything is written', () => {
  test('the port is in use', async () => {
    const dir = base();
    const { server, port } = await listen('127.0.0.1');
    try {
      const data = join(dir, 'data');
      await refused(['serve', '--port', String(port), '--data-dir', data],
        `port ${port} on 127.0.0.1 is already in use (another kmsd?): stop it or choose another with --port`, data);
      assert.equal(existsSync(data), false);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a second npm start on the same port and data directory is refused and leaves the first one\'s files alone', async () => {
    const dir = base();
    const data = join(dir, 'data');
    const first = kmsd(['serve', '--port', '0', '--data-dir', data]);
    try {
      await waitFor(() => first.out().includes('  endpoint'), 'the first start');
      const port = /^  endpoint\s+http:\/\/127\.0\.0\.1:(\d+)$/m.exec(first.out())?.[1] as string;
      const kept = () => ({ names: readdirSync(data).sort(), rootKey: readFileSync(join(data, 'root.key'), 'utf8'), dev: readFileSync(join(data, 'dev-identities.json'), 'utf8') });
      const before = kept();
      const second = kmsd(['serve', '--port', port, '--data-dir', data]);
      assert.equal(await second.exited, 2);
      assert.equal(second.err(), `kmsd: port ${port} on 127.0.0.1 is already in use (another kmsd?): stop it or choose another with --port\n`);
      assert.deepEqual(kept(), before);
    } finally {
      first.child.kill('SIGTERM');
      assert.equal(await first.exited, 0);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the address is not available on this machine', async () => {
    const dir = base();
    try {
      const data = join(dir, 'data');
      await refused(['serve', '--host', '192.0.2.1', '--port', '0', '--data-dir', data],
        'address 192.0.2.1 is not available on this machine: choose another with --host', data);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the data directory is a file', async () => {
    const dir = base();
    try {
      const data = join(dir, 'data');
      writeFileSync(data, 'not a directory');
      await refused(['serve', '--port', '0', '--data-dir', data], `the data directory ${data} is a file, not a directory (choose another with --data-dir)`, data);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the data directory is not writable, or cannot be created', { skip: needsNobody }, async () => {
    const dir = base();
    const as = AS_ROOT ? { uid: NOBODY, gid: NOBODY } : {};
    try {
      const data = join(dir, 'data');
      mkdirSync(data, { mode: 0o755 });
      if (!AS_ROOT) chmodSync(data, 0o555);
      await refused(['serve', '--port', '0', '--data-dir', data], `the data directory ${data} is not writable by this user (choose another with --data-dir)`, data, {}, as);
      const deeper = join(data, 'sub', 'data');
      await refused(['serve', '--port', '0', '--data-dir', deeper], `cannot create the data directory ${deeper}: ${data} is not writable by this user`, data, {}, as);
    } finally {
      chmodSync(dir, 0o755);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the database file is read-only', { skip: needsNobody }, async () => {
    const dir = base();
    const data = join(dir, 'data');
    const ids = identities(dir);
    try {
      await createStore(['--data-dir', data, '--identities', ids], { KMSD_ROOT_KEY: ROOT_KEY });
      const db = join(data, 'kmsd.db');
      if (AS_ROOT) {
        // The directory is nobody's, the database file stays root's (0644): nobody may read it, not write it.
        chownSync(data, NOBODY, NOBODY);
        chmodSync(db, 0o644);
      } else {
        chmodSync(db, 0o444);
      }
      await refused(['serve', '--port', '0', '--data-dir', data, '--identities', ids],
        `the database file ${db} is read-only for this user: kmsd must write to its store (fix its owner or mode)`, data,
        { KMSD_ROOT_KEY: ROOT_KEY }, AS_ROOT ? { uid: NOBODY, gid: NOBODY } : {});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the endpoint file cannot be written: its directory is missing, or it is a directory', async () => {
    const dir = base();
    try {
      const data = join(dir, 'data');
      const missing = join(dir, 'nowhere', 'endpoint.json');
      await refused(['serve', '--port', '0', '--data-dir', data, '--endpoint-file', missing],
        `cannot write the endpoint file ${missing}: the directory ${join(dir, 'nowhere')} does not exist (create it, or choose another --endpoint-file)`, data);
      const folder = join(dir, 'endpoint.json');
      mkdirSync(folder);
      await refused(['serve', '--port', '0', '--data-dir', data], `cannot write the endpoint file ${folder}: it is a directory (choose another --endpoint-file)`, data,
        { KMSD_ENDPOINT_FILE: folder });
      assert.equal(existsSync(data), false);
      assert.deepEqual(readdirSync(folder), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the endpoint file cannot be written: its directory is not writable, or another user\'s file sits in a sticky directory', { skip: needsNobody }, async () => {
    const dir = base();
    const as = AS_ROOT ? { uid: NOBODY, gid: NOBODY } : {};
    try {
      const data = join(dir, 'data');
      mkdirSync(data, { mode: 0o700 });
      if (AS_ROOT) chownSync(data, NOBODY, NOBODY);
      const closed = join(dir, 'closed');
      mkdirSync(closed, { mode: 0o755 });
      if (!AS_ROOT) chmodSync(closed, 0o555);
      const file = join(closed, 'endpoint.json');
      await refused(['serve', '--port', '0', '--data-dir', data, '--endpoint-file', file],
        `cannot write the endpoint file ${file}: the directory ${closed} is not writable by this user (choose another --endpoint-file)`, data, {}, as);
      if (AS_ROOT) {
        // /tmp's kind of directory: anyone may create, only a file's owner may replace it.
        const shared = join(dir, 'shared');
        mkdirSync(shared);
        chmodSync(shared, 0o1777);
        const planted = join(shared, 'kmsd.json');
        writeFileSync(planted, '{"endpoint":"http://attacker.example"}');
        await refused(['serve', '--port', '0', '--data-dir', data, '--endpoint-file', planted],
          `cannot write the endpoint file ${planted}: it belongs to another user (uid 0) and ${shared} lets only its owner replace it (choose another --endpoint-file)`, data, {}, as);
        assert.equal(readFileSync(planted, 'utf8'), '{"endpoint":"http://attacker.example"}');
      }
    } finally {
      chmodSync(dir, 0o755);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('PostgreSQL cannot be reached (and its password is never printed)', async () => {
    const dir = base();
    try {
      const data = join(dir, 'data');
      const { server, port } = await listen('127.0.0.1');
      server.close(); // a port nobody listens on
      await new Promise((r) => server.once('close', r));
      await refused(['serve', '--port', '0', '--data-dir', data, '--store', `postgres://kmsd:pg-secret-pw@127.0.0.1:${port}/kmsd`],
        `cannot connect to PostgreSQL at 127.0.0.1:${port}/kmsd: connect ECONNREFUSED 127.0.0.1:${port}`, data);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a root key file that does not exist, or a malformed KMSD_ROOT_KEY', async () => {
    const dir = base();
    try {
      const data = join(dir, 'data');
      await refused(['serve', '--port', '0', '--data-dir', data, '--root-key-file', join(dir, 'nope.key')], `root key file ${join(dir, 'nope.key')} does not exist`, data);
      await refused(['serve', '--port', '0', '--data-dir', data], 'KMSD_ROOT_KEY must hold 32 bytes in base64 (44 characters)', data, { KMSD_ROOT_KEY: 'short' });
      assert.equal(existsSync(data), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a --native-crypto addon that does not load (missing, not an addon); the package\'s own copy named there starts', async () => {
    const dir = base();
    try {
      const data = join(dir, 'data');
      const missing = join(dir, 'nope.node');
      await refused(['serve', '--port', '0', '--data-dir', data, '--native-crypto', missing], `--native-crypto: ${missing} does not exist`, data);
      const notAddon = identities(dir);
      await refused(['serve', '--port', '0', '--data-dir', data], `--native-crypto: ${notAddon} is not a kmsd-crypto addon for this Node`, data, { KMSD_NATIVE_CRYPTO: notAddon });
      assert.equal(existsSync(data), false);
      // A real addon that others could replace (its file, or a directory above it, writable by them) is refused.
      const built = join(ROOT, 'dist', 'native', `kmsd-crypto-${process.platform}-${process.arch}.node`);
      const open = join(dir, 'open');
      mkdirSync(open, { mode: 0o700 });
      const exposed = join(open, 'kmsd-crypto.node');
      writeFileSync(exposed, readFileSync(built));
      chmodSync(exposed, 0o666);
      await refused(['serve', '--port', '0', '--data-dir', data, '--native-crypto', exposed], `--native-crypto: ${exposed} is writable by other users: an addon there could be replaced; make it writable by its owner only`, data);
      chmodSync(exposed, 0o600);
      chmodSync(open, 0o777);
      await refused(['serve', '--port', '0', '--data-dir', data, '--native-crypto', exposed], `--native-crypto: ${open} is writable by other users: an addon there could be replaced; make it writable by its owner only`, data);
      await createStore(['--data-dir', data, '--native-crypto', built]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a lost root.key beside an existing store: refused, and no new root.key is written', async () => {
    const dir = base();
    const data = join(dir, 'data');
    try {
      await createStore(['--data-dir', data]);
      rmSync(join(data, 'root.key'));
      await refused(['serve', '--port', '0', '--data-dir', data],
        `the store ${join(data, 'kmsd.db')} already holds data sealed under a root key, but ${join(data, 'root.key')} is missing: ` +
          'restore it (or give it as KMSD_ROOT_KEY or --root-key-file); refusing to start, nothing was written', data);
      assert.equal(existsSync(join(data, 'root.key')), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the start banner and the log', () => {
  test('with --identities: endpoint, region, store, console, every account and project id, users with ids and AKs, never SK or password', async () => {
    const dir = base();
    const ids = identities(dir);
    const run = kmsd(['serve', '--port', '0', '--data-dir', join(dir, 'data'), '--identities', ids, '--log-level', 'warn']);
    try {
      await waitFor(() => run.out().includes('  AK '), 'the banner');
      const out = run.out();
      const endpoint = /^  endpoint\s+(\S+)$/m.exec(out)?.[1] as string;
      assert.match(endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(out, /^  region      cn-north-4$/m);
      assert.ok(out.includes(`  store       sqlite (${join(dir, 'data', 'kmsd.db')})\n`));
      assert.ok(out.includes(`  console     ${endpoint}/_kmsd/console/\n`));
      assert.ok(out.includes(`accounts (from ${ids}):\n`));
      assert.match(out, /^  account     acme \(id [0-9a-f]{32}\)$/m);
      assert.match(out, /^  project id  [0-9a-f]{32}$/m);
      assert.match(out, /^  user        admin \(id [0-9a-f]{32}\)$/m);
      assert.match(out, /^  AK          AKACME$/m);
      assert.equal(out.includes('SKACME'), false);
      assert.equal(out.includes('pw-admin'), false);
      // The user id printed is the one the API knows: a token for admin validates to it.
      const userId = /^  user        admin \(id ([0-9a-f]{32})\)$/m.exec(out)?.[1];
      const token = await fetch(`${endpoint}/v3/auth/tokens`, {
        method: 'POST',
        body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', password: 'pw-admin', domain: { name: 'acme' } } } }, scope: { project: { name: 'cn-north-4' } } } }),
      });
      assert.equal(((await token.json()) as { token: { user: { id: string } } }).token.user.id, userId);
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('request lines carry the KMS error code and message of a refusal; json and pretty formats', async () => {
    const dir = base();
    for (const format of ['json', 'pretty']) {
      const run = kmsd(['serve', '--port', '0', '--data-dir', join(dir, format), '--log-format', format]);
      try {
        await waitFor(() => run.out().includes('  endpoint'), 'the banner');
        const endpoint = /^  endpoint\s+(\S+)$/m.exec(run.out())?.[1] as string;
        const r = await fetch(`${endpoint}/v1.0/${'0'.repeat(32)}/kms/list-keys`, { method: 'POST', body: '{}' });
        assert.equal(r.status, 401);
        await waitFor(() => run.out().includes('APIGW.0301'), 'the request line');
        const line = run.out().split('\n').find((l) => l.includes('APIGW.0301')) as string;
        if (format === 'json') {
          const entry = JSON.parse(line);
          assert.equal(entry.msg, 'request');
          assert.equal(entry.status, 401);
          assert.equal(entry.code, 'APIGW.0301');
          assert.equal(entry.reason, 'Incorrect IAM authentication information: x-auth-token not found');
          assert.equal(entry.path, `/v1.0/${'0'.repeat(32)}/kms/list-keys`);
          assert.equal(entry.operation, 'list-keys');
          assert.equal(entry.method, 'POST');
          assert.equal(entry.caller, undefined);
        } else {
          assert.equal(line.startsWith('{'), false);
          assert.match(line, /INFO.*request.*"path":"\/v1.0\/0{32}\/kms\/list-keys","status":401.*"operation":"list-keys","code":"APIGW.0301","reason":"Incorrect IAM authentication information: x-auth-token not found"/);
        }
        // A caller's request: user@account and the operation; a favicon: its own path, no operation.
        const dev = JSON.parse(readFileSync(join(dir, format, 'dev-identities.json'), 'utf8')).accounts[0].users[0];
        const login = await fetch(`${endpoint}/v3/auth/tokens`, {
          method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', password: dev.password, domain: { name: 'dev' } } } }, scope: { project: { name: 'cn-north-4' } } } }),
        });
        const project = (await login.json()).token.project.id;
        await fetch(`${endpoint}/v1.0/${project}/kms/list-keys`, { method: 'POST', headers: { 'X-Auth-Token': login.headers.get('x-subject-token') as string, 'Content-Type': 'application/json' }, body: '{}' });
        await fetch(`${endpoint}/favicon.ico`);
        await waitFor(() => run.out().includes('favicon.ico'), 'the favicon line');
        const lines = run.out().split('\n');
        const ok = lines.find((l) => l.includes(`/v1.0/${project}/kms/list-keys`)) as string;
        const favicon = lines.find((l) => l.includes('favicon.ico')) as string;
        if (format === 'json') {
          assert.deepEqual([JSON.parse(ok).caller, JSON.parse(ok).operation, JSON.parse(ok).status], ['admin@dev', 'list-keys', 200]);
          assert.deepEqual([JSON.parse(favicon).path, JSON.parse(favicon).operation], ['/favicon.ico', undefined]);
        } else {
          assert.match(ok, /<admin@dev>: request .*"status":200.*"operation":"list-keys"/);
          assert.match(favicon, /"path":"\/favicon.ico"/);
        }
      } finally {
        run.child.kill('SIGTERM');
        assert.equal(await run.exited, 0);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('on a terminal every event loop writes the same pretty lines (no JSON from the worker threads)', { skip: !existsSync('/usr/bin/script') && 'no script(1) to give kmsd a terminal' }, async () => {
    const dir = base();
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KMSD_')));
    // script(1) gives kmsd a pseudo-terminal, as a person's shell would; the log format is left to kmsd (auto).
    const command = `${NODE} ${BIN} serve --port 0 --data-dir ${join(dir, 'data')} --workers 2 --loop-start-load 0`;
    const child = spawn('/usr/bin/script', ['-qefc', command, '/dev/null'], { cwd: ROOT, env: clean });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise((resolve) => child.on('close', resolve));
    try {
      await waitFor(() => out.includes('all 2 event loops are serving'), 'both loops', 60);
      const endpoint = /endpoint\s+(http\S+)/.exec(out)?.[1] as string;
      // Fresh connections land on both loops (SO_REUSEPORT spreads them).
      for (let i = 0; i < 40; i++) await fetch(`${endpoint}/v1.0/x/kms/list-keys`, { method: 'POST', body: '{}', headers: { Connection: 'close' } });
      await waitFor(() => out.split('/v1.0/x/kms/list-keys').length > 40, 'the request lines', 60);
      const lines = out.split(/\r?\n/).filter((l) => l.includes('/v1.0/x/kms/list-keys'));
      assert.equal(lines.filter((l) => l.trimStart().startsWith('{')).length, 0, lines.join('\n'));
      assert.ok(lines.some((l) => /worker\D{1,12}1\b/.test(l)), `a pretty line from the worker thread:\n${lines.join('\n')}`);
    } finally {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('SIGTERM with half-sent requests: stops within the grace period, and says so', async () => {
    const dir = base();
    const run = kmsd(['serve', '--port', '0', '--data-dir', join(dir, 'data'), '--shutdown-grace', '700', '--header-timeout', '20000', '--request-timeout', '30000']);
    try {
      await waitFor(() => run.out().includes('  endpoint'), 'the banner');
      const port = Number(/^  endpoint\s+http:\/\/127\.0\.0\.1:(\d+)$/m.exec(run.out())?.[1]);
      // One request with half its headers, one with its headers and half its body.
      const sockets = [
        'POST /v1.0/x/kms/list-keys HTTP/1.1\r\nHost: 127.0.0.1\r\n',
        'POST /v1.0/x/kms/list-keys HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"li',
      ].map((text) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(text));
        socket.on('error', () => {});
        return socket;
      });
      await new Promise((r) => setTimeout(r, 300));
      const started = Date.now();
      run.child.kill('SIGTERM');
      assert.equal(await run.exited, 0);
      const took = Date.now() - started;
      assert.ok(took >= 600 && took < 700 + 5000, `stopped after ${took} ms`); // the grace, then closing: generous for a loaded machine
      const messages = run.out().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l).msg as string);
      assert.ok(messages.includes('SIGTERM received: shutting down; 2 connection(s) open, requests in flight get up to 700 ms to finish'), messages.join('\n'));
      assert.ok(messages.includes('shutdown grace period of 700 ms is over: closing 2 connection(s) still open'), messages.join('\n'));
      assert.equal(messages.at(-1), 'kmsd stopped');
      for (const s of sockets) s.destroy();
    } finally {
      run.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the reader of its output gone before the banner (`kmsd serve | head -2`): the lines are dropped, it goes on serving, and SIGINT stops it with exit 0, printing nothing', async () => {
    const dir = base();
    const file = join(dir, 'endpoint.json');
    const run = kmsd(['serve', '--port', '0', '--data-dir', join(dir, 'data'), '--endpoint-file', file]);
    try {
      // Closed before kmsd wrote anything there: the start's log line (a new root key) and the
      // banner fail with EPIPE. Node raised the banner's as an uncaught error (a stack trace, exit 1).
      run.child.stdout?.destroy();
      await waitFor(() => existsSync(file), 'the endpoint file');
      // The banner is written right after the endpoint file: its failure has come by now.
      await new Promise((r) => setTimeout(r, 300));
      const { health } = JSON.parse(readFileSync(file, 'utf8')) as { health: string };
      assert.equal((await fetch(health)).status, 200);
      assert.equal(run.child.exitCode, null);
      await stopsQuietlyAtSigint(run);
    } finally {
      run.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('SIGINT after the reader of its output went away (`kmsd serve | tee log`, the pipeline ended with Ctrl-C): stops and exits 0, never hangs, prints no error', async () => {
    const dir = base();
    const run = kmsd(['serve', '--port', '0', '--data-dir', join(dir, 'data')]);
    try {
      await waitFor(() => run.out().includes('  endpoint'), 'the banner');
      // The reading end of its standard output closed (standard error stays the terminal's, as
      // with `| tee`): every write kmsd makes there from here fails (EPIPE), the shutdown's log
      // lines included. pino's sonic-boom 4 retried such a write forever at exit (SIGINT and
      // SIGTERM ignored): package.json overrides it to 5, which gives up; and the stop waits
      // for the log's last write to fail before it exits, or 5 throws that EPIPE from its exit flush.
      run.child.stdout?.destroy();
      await new Promise((r) => setTimeout(r, 100));
      await stopsQuietlyAtSigint(run);
    } finally {
      run.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
