import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { worldIdentities } from './harness.ts';
import { exec, start, waitFor } from './release/support.ts';

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
    const port = /^  endpoint\s+http:\/\/127\.0\.0\.1:(\d+)$/m.exec(run.output())?.[1];
    const dev = JSON.parse(readFileSync(join(dir, 'data/dev-identities.json'), 'utf8'));
    const user = dev.accounts[0].users[0];
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
        users: [{ name: user.name, id: described.accounts[0].users[0].id, password: user.password, access_keys: user.access_keys }],
      }],
    });
    assert.match(described.accounts[0].id, /^[0-9a-f]{32}$/);
    assert.ok(run.output().includes(`  project id  ${described.accounts[0].project_id}\n`));
    assert.deepEqual(await exec(NODE, [BIN, 'health', '--endpoint', endpoint], { env: clean() }), { status: 0, stdout: 'ok\n', stderr: '' });
    assert.deepEqual(await exec(NODE, [BIN, 'health'], { env: { ...clean(), KMSD_ENDPOINT: endpoint } }), { status: 0, stdout: 'ok\n', stderr: '' });
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
