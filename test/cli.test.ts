import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/kmsd.js', import.meta.url));

function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env, KMSD_LOG_LEVEL: 'warn' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  // 'close', not 'exit': the output is all read only once the child's stdio has ended.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

async function waitFor(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (predicate()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('kmsd serve with no identities prints the endpoint and a development account whose token works', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-cli-'));
  const server = run(['serve', '--port', '0', '--data-dir', dir]);
  try {
    await waitFor(() => server.out().includes('AK / SK'), 'the credentials');
    const field = (name: string) => new RegExp(`^  ${name}\\s+(\\S+)`, "m").exec(server.out())?.[1] as string;
    const endpoint = field('endpoint');
    assert.match(endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(field('project id'), /^[0-9a-f]{32}$/);
    const token = await fetch(`${endpoint}/v3/auth/tokens`, {
      method: 'POST',
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: field('user'), password: field('password'), domain: { name: field('account') } } } }, scope: { project: { name: 'cn-north-4' } } } }),
    });
    assert.equal(token.status, 201);
    const keys = await fetch(`${endpoint}/v1.0/${field('project id')}/kms/list-keys`, { method: 'POST', headers: { 'X-Auth-Token': token.headers.get('x-subject-token') as string }, body: '{}' });
    assert.equal(keys.status, 200);
  } finally {
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('flags come from the environment too; a malformed identities file stops the start with exit code 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-cli-'));
  try {
    writeFileSync(join(dir, 'ids.json'), JSON.stringify({ accounts: [{ name: 'acme', users: [{ name: 'admin', password: '' }] }] }));
    const r = run(['serve', '--port', '0'], { KMSD_DATA_DIR: dir, KMSD_IDENTITIES: join(dir, 'ids.json') });
    assert.equal(await r.exited, 2);
    assert.equal(r.err(), `kmsd: identities file ${join(dir, 'ids.json')}: accounts[0].users[0].password: must be a string of 1-256 characters\n`);
    const bad = run(['serve', '--port', 'eighty']);
    assert.equal(await bad.exited, 2);
    assert.equal(bad.err(), 'kmsd: --port must be a whole number from 0 to 65535, got "eighty"\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
