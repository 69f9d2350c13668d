import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The installed command is bin/kmsd.js run directly, by whatever `node` is first on PATH (a
 * project that depends on kmsd runs it so). On a Node older than 24 it starts kmsd again with
 * the Node 24 of the `node` package.
 */
const BIN = fileURLToPath(new URL('../bin/kmsd.js', import.meta.url));
const OLD_NODE = ['/usr/bin/node', '/usr/local/bin/node', '/bin/node'].find((path) => {
  if (!existsSync(path)) return false;
  const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
  return Number(version.slice(1).split('.')[0]) < 24;
});
const skip = OLD_NODE === undefined ? 'no Node older than 24 on this machine' : false;
// PATH whose first node is the old one.
const env = () => ({ ...process.env, PATH: `${dirname(OLD_NODE as string)}:${process.env.PATH}`, KMSD_LOG_LEVEL: 'warn' });

test('bin/kmsd.js run by an old Node on PATH prints the usage through Node 24', { skip }, () => {
  const run = spawn(BIN, ['help'], { env: env() });
  let out = '';
  let err = '';
  run.stdout.on('data', (d) => (out += d));
  run.stderr.on('data', (d) => (err += d));
  return new Promise<void>((resolve) => run.on('exit', (code) => {
    assert.equal(code, 0, err);
    assert.match(out, /^usage: kmsd <command>/);
    resolve();
  }));
});

test('bin/kmsd.js run by an old Node on PATH serves, and SIGTERM stops it and the Node 24 process under it', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-bin-'));
  const run = spawn(BIN, ['serve', '--port', '0', '--data-dir', dir, '--workers', '1'], { env: env() });
  let out = '';
  run.stdout.on('data', (d) => (out += d));
  run.stderr.on('data', (d) => (out += d));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      run.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      run.stdout.on('data', () => {
        const m = /API at (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
    });
    const versions = await (await fetch(`${url}/`)).json();
    assert.ok(Array.isArray(versions.versions));
    const exited = new Promise<number | null>((resolve) => run.once('exit', (code) => resolve(code)));
    run.kill('SIGTERM');
    assert.equal(await exited, 0);
    await assert.rejects(fetch(`${url}/`), 'nothing serves on the port any more');
  } finally {
    run.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
