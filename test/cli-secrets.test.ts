import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../src/core/runtime.ts';
import { hex, startWorld, type World } from './harness.ts';

/** `kmsd secrets …` (issue #26), spawned through the real binary against a real kmsd. */
const BIN = fileURLToPath(new URL('../bin/kmsd.js', import.meta.url));
const clock = new ManualClock(Date.now());
let world: World;
let dir: string;
before(async () => {
  world = await startWorld({ clock });
  dir = mkdtempSync(join(tmpdir(), 'kmsd-cli-secrets-'));
});
after(async () => {
  await world.close();
  rmSync(dir, { recursive: true, force: true });
});

function kmsd(args: string[], as = 'boss', stdin?: string | Buffer): Promise<{ code: number | null; out: string; err: string }> {
  const user = world.users[as];
  const env = {
    PATH: process.env.PATH, HOME: dir, KMSD_PROFILES_FILE: join(dir, 'none.json'),
    KMSD_ENDPOINT: world.url, HUAWEICLOUD_SDK_AK: user.ak, HUAWEICLOUD_SDK_SK: user.sk,
  };
  const child = spawn(process.execPath, [BIN, ...args], { env: env as NodeJS.ProcessEnv });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

describe('kmsd secrets', () => {
  test('create, get-value, put-value, versions, stage, list, delete and restore, password', async () => {
    const name = `cli-${hex(4)}`;
    const created = await kmsd(['secrets', 'create', name, '--value', 'first', '--output', 'json']);
    assert.equal(created.code, 0, created.err);
    assert.equal(JSON.parse(created.out).secret.name, name);
    assert.deepEqual(await kmsd(['secrets', 'get-value', name]), { code: 0, out: 'first\n', err: '' });
    const file = join(dir, 'blob');
    writeFileSync(file, Buffer.from([0, 1, 2]));
    assert.equal((await kmsd(['secrets', 'put-value', name, '--binary-file', file])).code, 0);
    assert.deepEqual(await kmsd(['secrets', 'get-value', name]), { code: 0, out: 'AAEC\n', err: '' });
    assert.deepEqual(await kmsd(['secrets', 'get-value', name, '--version', 'v1']), { code: 0, out: 'first\n', err: '' });
    assert.equal((await kmsd(['secrets', 'stage', name, 'canary', 'v1'])).code, 0);
    const versions = await kmsd(['secrets', 'versions', name, '--output', 'json']);
    assert.deepEqual(JSON.parse(versions.out).map((v: { id: string; version_stages: string[] }) => [v.id, v.version_stages]), [['v1', ['SYSPREVIOUS', 'canary']], ['v2', ['SYSCURRENT']]]);
    const listed = await kmsd(['secrets', 'list']);
    assert.match(listed.out, new RegExp(`^NAME +ID +STATE +KMS KEY +CREATED\\n${name} `));
    const scheduled = await kmsd(['secrets', 'delete', name, '--recovery-days', '7', '--output', 'json']);
    assert.equal(JSON.parse(scheduled.out).secret.state, 'PENDING_DELETE');
    assert.equal(JSON.parse((await kmsd(['secrets', 'restore', name, '--output', 'json'])).out).secret.state, 'ENABLED');
    assert.equal((await kmsd(['secrets', 'delete', name, '--now'])).code, 0);
    const gone = await kmsd(['secrets', 'show', name]);
    assert.equal(gone.code, 3);
    assert.match(gone.err, /CSMS\.0005/);
    const password = await kmsd(['secrets', 'password', '--length', '40', '--no-punctuation']);
    assert.match(password.out, /^[A-Za-z0-9]{40}\n$/);
  });

  test('--value-file reads a file or stdin (-), keeping the value out of argv; --binary-file - reads stdin', async () => {
    const name = `cli-${hex(4)}`;
    const piped = await kmsd(['secrets', 'create', name, '--value-file', '-', '--output', 'json'], 'boss', 'from stdin\n');
    assert.equal(piped.code, 0, piped.err);
    const stored = await kmsd(['secrets', 'get-value', name, '--output', 'json']);
    assert.equal(JSON.parse(stored.out).version.secret_string, 'from stdin\n');
    const file = join(dir, 'value.txt');
    writeFileSync(file, 'from a file: é');
    assert.equal((await kmsd(['secrets', 'put-value', name, '--value-file', file])).code, 0);
    assert.deepEqual(await kmsd(['secrets', 'get-value', name]), { code: 0, out: 'from a file: é\n', err: '' });
    assert.equal((await kmsd(['secrets', 'put-value', name, '--binary-file', '-'], 'boss', Buffer.from([9, 8, 7]))).code, 0);
    assert.deepEqual(await kmsd(['secrets', 'get-value', name]), { code: 0, out: 'CQgH\n', err: '' });
  });

  test('usage mistakes exit 2', async () => {
    const both = await kmsd(['secrets', 'create', 'x']);
    assert.equal(both.code, 2);
    assert.match(both.err, /exactly one of --value-file, --value and --binary-file/);
    const two = await kmsd(['secrets', 'create', 'x', '--value', 'a', '--value-file', '-'], 'boss', 'b');
    assert.deepEqual([two.code, /exactly one of/.test(two.err)], [2, true]);
    assert.equal((await kmsd(['secrets', 'nope'])).code, 2);
    // A file that is not there: one line naming it, no stack.
    const missing = join(dir, 'no-such-value.txt');
    assert.deepEqual(await kmsd(['secrets', 'create', 'x', '--value-file', missing]), { code: 2, out: '', err: `kmsd: cannot read ${missing}: ENOENT\n` });
    assert.deepEqual(await kmsd(['secrets', 'put-value', 'x', '--binary-file', missing]), { code: 2, out: '', err: `kmsd: cannot read ${missing}: ENOENT\n` });
  });
});
