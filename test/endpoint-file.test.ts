import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { worldIdentities } from './harness.ts';
import { writeFileWhole } from '../src/cli/endpoint-file.ts';
import { exec, start, statusOf, waitFor } from './release/support.ts';

/**
 * `kmsd serve --port 0 --endpoint-file FILE`: what a test harness in any language reads to find
 * kmsd (docs/install.md), and `kmsd health`, the image's health probe.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NODE = join(ROOT, 'node_modules/.bin/node');
const BIN = join(ROOT, 'bin/kmsd.js');
const clean = () => ({ ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KMSD_'))), KMSD_LOG_LEVEL: 'warn' });

const serve = (args: string[], env: Record<string, string> = {}) =>
  start(NODE, [BIN, 'serve', '--port', '0', '--workers', '1', ...args], { env: { ...clean(), ...env } });

test('the endpoint file holds the endpoint and the development account\'s secrets, mode 0600, and goes at a clean stop', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-endpoint-'));
  const file = join(dir, 'endpoint.json');
  writeFileSync(file, '{"endpoint":"http://stale"}');
  const run = serve(['--data-dir', join(dir, 'data')], { KMSD_ENDPOINT_FILE: file });
  try {
    const described = await waitFor('the endpoint file', () => {
      if (!existsSync(file)) return undefined;
      const d = JSON.parse(readFileSync(file, 'utf8'));
      return d.endpoint === 'http://stale' ? undefined : d;
    });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    // The file is written just before the banner: the banner's output can reach this test after it.
    const port = await waitFor('the banner', () => /^  endpoint\s+http:\/\/127\.0\.0\.1:(\d+)$/m.exec(run.output())?.[1]);
    const dev = JSON.parse(readFileSync(join(dir, 'data/dev-identities.json'), 'utf8'));
    const endpoint = `http://127.0.0.1:${port}`;
    assert.deepEqual(described, {
      endpoint,
      region: 'cn-north-4',
      store: 'sqlite',
      console: `${endpoint}/_kmsd/console/`,
      health: `${endpoint}/_kmsd/health`,
      accounts_from: 'development',
      accounts: [{
        name: 'dev', id: described.accounts[0].id, project_id: described.accounts[0].project_id,
        // admin and app, with their secrets (the development account's file holds them anyway).
        users: dev.accounts[0].users.map((user: { name: string; password: string; access_keys: unknown }, i: number) => ({
          name: user.name, id: described.accounts[0].users[i].id, password: user.password, access_keys: user.access_keys,
        })),
      }],
    });
    assert.match(described.accounts[0].id, /^[0-9a-f]{32}$/);
    assert.ok(run.output().includes(`  project id  ${described.accounts[0].project_id}\n`));
    assert.deepEqual(await exec(NODE, [BIN, 'health', '--endpoint', endpoint], { env: clean() }), { status: 0, stdout: 'ok\n', stderr: '' });
    assert.deepEqual(await exec(NODE, [BIN, 'health'], { env: { ...clean(), KMSD_ENDPOINT: endpoint } }), { status: 0, stdout: 'ok\n', stderr: '' });
    // The image's health check has no flags: it follows the port given as KMSD_PORT.
    assert.deepEqual(await exec(NODE, [BIN, 'health'], { env: { ...clean(), KMSD_PORT: String(port) } }), { status: 0, stdout: 'ok\n', stderr: '' });
  } finally {
    run.child.kill('SIGTERM');
  }
  assert.equal(await run.exited, 0, run.output());
  assert.equal(existsSync(file), false);
  rmSync(dir, { recursive: true, force: true });
});

test('with declared identities the endpoint file lists access keys without secrets', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-endpoint-'));
  const { path, users } = worldIdentities(dir);
  const file = join(dir, 'endpoint.json');
  const run = serve(['--data-dir', join(dir, 'data'), '--identities', path, '--endpoint-file', file], { KMSD_ROOT_KEY: Buffer.alloc(32, 7).toString('base64') });
  try {
    const described = await waitFor('the endpoint file', () => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined));
    assert.equal(described.accounts_from, 'identities');
    const everyone = described.accounts.flatMap((a: { users: unknown[] }) => a.users);
    assert.deepEqual(everyone.find((u: { name: string }) => u.name === 'alice'), { name: 'alice', id: users.alice.id, access_keys: [{ ak: users.alice.ak }] });
    assert.doesNotMatch(readFileSync(file, 'utf8'), new RegExp(`${users.alice.sk}|${users.alice.password}`));
  } finally {
    run.child.kill('SIGTERM');
  }
  assert.equal(await run.exited, 0, run.output());
  rmSync(dir, { recursive: true, force: true });
});

test('kmsd health: exit 4 when nothing answers, exit 2 for a bad flag', async () => {
  const down = await exec(NODE, [BIN, 'health', '--endpoint', 'http://127.0.0.1:9', '--timeout', '2000'], { env: clean() });
  assert.equal(down.status, 4);
  assert.match(down.stderr, /^kmsd: http:\/\/127\.0\.0\.1:9\/_kmsd\/health is unreachable: .+\n$/);
  assert.deepEqual(await exec(NODE, [BIN, 'health', '--timeout', 'soon'], { env: clean() }), { status: 2, stdout: '', stderr: 'kmsd: --timeout must be a whole number of milliseconds from 1 to 600000, got "soon"\n' });
  assert.deepEqual(await exec(NODE, [BIN, 'health', '--endpoint', 'not a url'], { env: clean() }), { status: 2, stdout: '', stderr: 'kmsd: --endpoint must be a URL, got "not a url"\n' });
});

test('the endpoint file is written through a new file of a random name: a file or link planted at a guessable name is never followed nor reused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-endpoint-'));
  chmodSync(dir, 0o1777); // a directory anyone may write, as /tmp
  try {
    const file = join(dir, 'kmsd.json');
    // The names an earlier kmsd wrote through (<file>.<pid>.part): a link to a file the
    // attacker wants overwritten, and a file of theirs, readable by all, to catch the secrets.
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, `${file}.${process.pid}.part`);
    const trap = `${file}.${process.pid + 1}.part`;
    writeFileSync(trap, '');
    chmodSync(trap, 0o666);
    writeFileSync(file, 'old', { mode: 0o644 });
    chmodSync(file, 0o644);
    writeFileWhole(file, '{"sk":"secret"}\n');
    assert.equal(readFileSync(file, 'utf8'), '{"sk":"secret"}\n');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(readFileSync(victim, 'utf8'), 'precious');
    assert.equal(readlinkSync(`${file}.${process.pid}.part`), victim);
    assert.equal(readFileSync(trap, 'utf8'), '');
    // A link at the file itself is replaced, not written through.
    rmSync(file);
    symlinkSync(victim, file);
    writeFileWhole(file, 'new\n');
    assert.equal(lstatSync(file).isFile(), true);
    assert.equal(readFileSync(victim, 'utf8'), 'precious');
    assert.deepEqual(readdirSync(dir).sort(), ['kmsd.json', `kmsd.json.${process.pid + 1}.part`, `kmsd.json.${process.pid}.part`, 'victim'].sort());
    // A failed write leaves no temporary file behind (here the rename: the path became a directory).
    rmSync(file);
    mkdirSync(join(file, 'inside'), { recursive: true });
    assert.throws(() => writeFileWhole(file, 'x'), { code: 'EISDIR' });
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an endpoint file that cannot be written once kmsd serves stops it cleanly, with one line and exit code 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-endpoint-'));
  const folder = join(dir, 'endpoint');
  mkdirSync(folder);
  const file = join(folder, 'endpoint.json');
  // The start checks pass; the directory goes once kmsd writes its data directory (after the
  // checks, well before it serves: the store is opened, the account applied, the app built).
  const watcher = watch(dir, (_event, name) => {
    if (name === 'data') rmSync(folder, { recursive: true, force: true });
  });
  const run = serve(['--data-dir', join(dir, 'data'), '--endpoint-file', file], { KMSD_LOG_FORMAT: 'json' });
  try {
    assert.equal(await run.exited, 2);
  } finally {
    watcher.close();
    run.child.kill('SIGKILL');
  }
  const lines = run.output().split('\n').filter((l) => l !== '' && !l.startsWith('{'));
  assert.equal(lines.length, 1, run.output());
  assert.match(lines[0]!, new RegExp(`^kmsd: cannot write the endpoint file ${file}: ENOENT: no such file or directory, open '${folder}/\\.endpoint\\.json\\.[0-9a-f]{16}\\.part'; stopping$`));
  assert.doesNotMatch(run.output(), /kmsd is serving|at .+\.ts:/);
  assert.equal(existsSync(folder), false);
  rmSync(dir, { recursive: true, force: true });
});

test('with --host 0.0.0.0 the banner and the endpoint file give a URL a client can connect to; --public-url replaces it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-endpoint-'));
  const file = join(dir, 'endpoint.json');
  const wildcard = serve(['--host', '0.0.0.0', '--data-dir', join(dir, 'data'), '--endpoint-file', file]);
  try {
    const { endpoint, console, health } = await waitFor('the endpoint file', () => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined));
    assert.match(endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual([console, health], [`${endpoint}/_kmsd/console/`, `${endpoint}/_kmsd/health`]);
    await waitFor('the banner', () => (wildcard.output().includes('  endpoint') ? true : undefined));
    assert.ok(wildcard.output().includes(`kmsd is serving the Huawei Cloud KMS v1.0 API at ${endpoint} (`));
    assert.ok(wildcard.output().includes(`  endpoint    ${endpoint}\n  region`));
    assert.equal(await statusOf(`${endpoint}/_kmsd/health`), 200);
  } finally {
    wildcard.child.kill('SIGTERM');
  }
  assert.equal(await wildcard.exited, 0, wildcard.output());
  const behind = serve(['--data-dir', join(dir, 'data'), '--endpoint-file', file, '--public-url', 'https://kms.example.test']);
  try {
    const described = await waitFor('the endpoint file', () => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined));
    assert.equal(described.endpoint, 'https://kms.example.test');
    await waitFor('the banner', () => (behind.output().includes('  listening') ? true : undefined));
    assert.match(behind.output(), /^ {2}endpoint {4}https:\/\/kms\.example\.test\n {2}listening {3}http:\/\/127\.0\.0\.1:\d+\n/m);
  } finally {
    behind.child.kill('SIGTERM');
  }
  assert.equal(await behind.exited, 0, behind.output());
  rmSync(dir, { recursive: true, force: true });
});
