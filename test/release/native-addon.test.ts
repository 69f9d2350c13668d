import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { writeExecutable } from '../../scripts/release/executable.ts';
import { ROOT } from '../support/built-client.ts';
import { RAN_BEFORE, exec } from './support.ts';

/**
 * A native addon travels inside the single executable and loads from there: the way an
 * in-process signer (a Node-API addon) joins the executable. The addon is built here with the
 * machine's C compiler against Node-API's headers (ABI-stable: those of any Node will do),
 * placed where the release takes addons from (dist/addons/<name>.node), and loaded by a small
 * executable through src/single-executable/native-addon.ts, with no file of it left behind.
 */
const HEADERS = ['/usr/include/node', '/usr/local/include/node'].find((d) => existsSync(join(d, 'node_api.h')));
const CC = ['/usr/bin/cc', '/usr/bin/gcc'].find((p) => existsSync(p));
const skip = RAN_BEFORE || (!process.env.CI && (!HEADERS || !CC) && 'no C compiler or Node-API headers (node_api.h)');
const work = mkdtempSync(join(tmpdir(), 'kmsd-addon-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('a native addon carried as an asset loads in the single executable from a private temporary file, removed at once', { skip, timeout: 180_000 }, async () => {
  const pkg = join(work, 'package');
  mkdirSync(join(pkg, 'dist/addons'), { recursive: true });
  mkdirSync(join(pkg, 'console/dist'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ version: '0.0.0-addon-test' }));
  // The executable takes Node's flags from the package's bin/kmsd.js (scripts/bin-settings.ts).
  mkdirSync(join(pkg, 'bin'));
  copyFileSync(join(ROOT, 'bin/kmsd.js'), join(pkg, 'bin/kmsd.js'));
  const addon = join(pkg, 'dist/addons/hello.node');
  execFileSync(CC!, ['-shared', '-fPIC', '-O2', `-I${HEADERS}`, '-o', addon, fileURLToPath(new URL('./fixtures/hello-addon.c', import.meta.url))]);

  // Outside the executable: required from its path.
  const plain = await exec(process.execPath, [fileURLToPath(new URL('./fixtures/addon-entry.ts', import.meta.url))], { env: { ...process.env, HELLO_ADDON: addon } });
  assert.deepEqual(plain, { status: 0, stdout: 'hello from a native addon\n', stderr: '' });

  const sea = join(work, 'sea');
  mkdirSync(sea);
  await build({
    entryPoints: [fileURLToPath(new URL('./fixtures/addon-entry.ts', import.meta.url))], outfile: join(sea, 'main.cjs'),
    bundle: true, format: 'cjs', platform: 'node', target: 'node24', logLevel: 'error',
    define: { 'import.meta.url': '"file:///kmsd-single-executable/main.js"' },
  });
  writeFileSync(join(sea, 'worker.cjs'), '');
  const exe = join(work, 'hello');
  writeExecutable({ root: pkg, work: sea, node: join(ROOT, 'node_modules/node/bin/node'), output: exe, codeCache: false });

  // No Node, no addon file anywhere it could find: only the executable, and a temporary directory watched.
  rmSync(addon);
  const temp = join(work, 'tmp');
  mkdirSync(temp);
  const ran = await exec(exe, [], { env: { PATH: '', TMPDIR: temp }, cwd: work });
  assert.deepEqual(ran, { status: 0, stdout: 'hello from a native addon\n', stderr: '' });
  assert.deepEqual(readdirSync(temp), []);
});
