import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The installed command is bin/kmsd.js run directly (npm links node_modules/.bin/kmsd to it),
 * whatever `node` is first on PATH. The file is a sh script as well as JavaScript: sh finds
 * the Node 24 of the `node` package and execs it, so kmsd is the only process. Run by an older
 * Node as JavaScript (`node bin/kmsd.js`), it starts kmsd again through its sh part.
 */
const BIN = fileURLToPath(new URL('../bin/kmsd.js', import.meta.url));
const NODE24 = realpathSync(fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url)));
const OLD_NODE = ['/usr/bin/node', '/usr/local/bin/node', '/bin/node'].find((path) => {
  if (!existsSync(path)) return false;
  const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
  return Number(version.slice(1).split('.')[0]) < 24;
});
const skip = OLD_NODE === undefined ? 'no Node older than 24 on this machine' : false;
// PATH whose first node is the old one.
const env = () => ({ ...process.env, PATH: `${dirname(OLD_NODE as string)}:${process.env.PATH}`, KMSD_LOG_LEVEL: 'warn' });

/** Runs a command to its end: exit code, signal, stdout, stderr (read once both pipes closed). */
function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
  const child = spawn(command, args, { env: options.env ?? env(), cwd: options.cwd });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

/** The pids whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).filter((name) => {
    try {
      // The parent pid is the 2nd field after the parenthesised command name.
      return Number(readFileSync(`/proc/${name}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]) === pid;
    } catch {
      return false;
    }
  }).map(Number);
}

test('bin/kmsd.js run by an old Node on PATH prints the usage through Node 24', { skip }, async () => {
  const r = await run(BIN, ['help']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^usage: kmsd <command>/);
});

test('bin/kmsd.js --version, with an old Node first on PATH', { skip }, async () => {
  const version = JSON.parse(readFileSync(join(dirname(BIN), '..', 'package.json'), 'utf8')).version;
  assert.deepEqual(await run(BIN, ['--version']), { code: 0, out: `kmsd ${version}\n`, err: '' });
});

test('bin/kmsd.js serve with an old Node first on PATH is ONE process, Node 24, stopped by SIGTERM with exit code 0', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-bin-'));
  const proc = spawn(BIN, ['serve', '--port', '0', '--data-dir', dir, '--workers', '1'], { env: env() });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      proc.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      proc.stdout.on('data', () => {
        const m = /API at (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
    });
    const versions = await (await fetch(`${url}/`)).json();
    assert.ok(Array.isArray(versions.versions));
    // The spawned pid is kmsd itself: sh replaced itself with Node 24 (no wrapper stays as its parent).
    assert.equal(readlinkSync(`/proc/${proc.pid}/exe`), NODE24);
    assert.deepEqual(childrenOf(proc.pid as number), [], 'kmsd started no process of its own');
    const exited = new Promise<[number | null, string | null]>((resolve) => proc.once('exit', (code, signal) => resolve([code, signal])));
    proc.kill('SIGTERM');
    assert.deepEqual(await exited, [0, null]);
    await assert.rejects(fetch(`${url}/`), 'nothing serves on the port any more');
  } finally {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bin/kmsd.js exits with kmsd's own exit code (2 for a bad flag)", { skip }, async () => {
  const r = await run(BIN, ['serve', '--port', 'eighty']);
  assert.equal(r.code, 2);
  assert.match(r.err, /^kmsd: .*port/);
});

test('bin/kmsd.js through a node_modules/.bin/kmsd symlink, as npm installs it, finds Node 24 from the real file', { skip }, async () => {
  const project = mkdtempSync(join(tmpdir(), 'kmsd-bin-project-'));
  try {
    mkdirSync(join(project, 'node_modules/.bin'), { recursive: true });
    symlinkSync(BIN, join(project, 'node_modules/.bin/kmsd'));
    const r = await run('node_modules/.bin/kmsd', ['--version'], { cwd: project });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^kmsd \d+\.\d+\.\d+\n$/);
    // Named without a directory, from the link's own directory (sh kmsd): $0 has no slash.
    const here = await run('sh', ['kmsd', '--version'], { cwd: join(project, 'node_modules/.bin') });
    assert.equal(here.code, 0, here.err);
    assert.match(here.out, /^kmsd \d+\.\d+\.\d+\n$/);
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});

test('bin/kmsd.js run as JavaScript by the old Node (`node bin/kmsd.js`) still starts kmsd on Node 24', { skip }, async () => {
  const r = await run(OLD_NODE as string, [BIN, '--version']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^kmsd \d+\.\d+\.\d+\n$/);
});

test('bin/kmsd.js run as JavaScript by Node 24 runs kmsd in that process', async () => {
  const r = await run(process.execPath, [BIN, '--version'], { env: process.env });
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^kmsd \d+\.\d+\.\d+\n$/);
});

test('bin/kmsd.js without any Node 24 (no node package, only an old Node on PATH) says so in one line and exits 1', { skip }, async () => {
  const lonely = mkdtempSync(join(tmpdir(), 'kmsd-bin-lonely-'));
  try {
    mkdirSync(join(lonely, 'bin'));
    copyFileSync(BIN, join(lonely, 'bin/kmsd.js'));
    const r = await run('/bin/sh', [join(lonely, 'bin/kmsd.js'), 'serve'], { env: { PATH: `${dirname(OLD_NODE as string)}:/usr/bin:/bin` } });
    assert.deepEqual(r, {
      code: 1,
      out: '',
      err: 'kmsd: needs Node 24 or later and found none: install kmsd with its dependencies (the node package), or put Node 24 first on PATH\n',
    });
  } finally {
    rmSync(lonely, { recursive: true, force: true });
  }
});
