import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../support/built-client.ts';
import { VERSION, artifact, exec, skipWithout, start, statusOf, waitFor } from './support.ts';

/**
 * kmsd-<version>.tgz as a user installs it: `npm install ./kmsd-<version>.tgz` in an empty
 * project, then `npx kmsd --version`, `npx kmsd serve` and `import … from 'kmsd/client'`.
 */
const TARBALL = `kmsd-${VERSION}.tgz`;
const project = mkdtempSync(join(tmpdir(), 'kmsd-npm-user-'));
after(() => rmSync(project, { recursive: true, force: true }));

/** Every file under dir, relative to it. */
const walk = (dir: string, prefix = ''): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? walk(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]);

test('the npm package installs into an empty project and serves, with every file time in 1970', { skip: skipWithout(TARBALL), timeout: 300_000 }, async () => {
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'npm-user', private: true, type: 'module' }));
  const started = Date.now();
  const installed = await exec('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', artifact(TARBALL)], { cwd: project });
  assert.equal(installed.status, 0, installed.stderr);
  process.stdout.write(`# npm install ${TARBALL}: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

  // What ships: the command, the build, the client's declarations, the console; no sources or tests.
  const pkgDir = join(project, 'node_modules/kmsd');
  const files = walk(pkgDir);
  assert.ok(files.includes('bin/kmsd.js') && files.includes('dist/main.js') && files.includes('dist/worker.js'));
  assert.ok(files.includes('dist/client/index.js') && files.includes('dist/client/index.d.ts'));
  assert.ok(files.includes('console/dist/index.html'));
  assert.deepEqual(files.filter((f) => /^(src|test|bench|scripts)\//.test(f) || f.endsWith('.ts') && !f.endsWith('.d.ts') || f.endsWith('.map')), []);
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  assert.equal(pkg.private, undefined);
  // The checkout's scripts (prepare: the build) stay behind: npm has nothing to run or warn about.
  assert.equal(pkg.scripts, undefined);
  // npm 11 names every package with install scripts: only the `node` dependency's (its preinstall
  // fetches the platform's Node binary), never kmsd.
  const scripted = [...installed.stderr.matchAll(/^npm warn install-scripts {3}(\S+)@/gm)].map((m) => m[1]);
  assert.ok(scripted.every((name) => name === 'node'), installed.stderr);
  assert.equal(pkg.version, VERSION);

  // npm unpacks with fresh times; nothing may depend on them: every file made as old as can be.
  for (const f of files) utimesSync(join(pkgDir, f), 0, 0);
  assert.equal(statSync(join(pkgDir, 'dist/main.js')).mtimeMs, 0);

  const version = await exec('npx', ['--no-install', 'kmsd', '--version'], { cwd: project });
  assert.deepEqual(version, { status: 0, stdout: `kmsd ${VERSION}\n`, stderr: '' });

  const endpointFile = join(project, 'kmsd-endpoint.json');
  // The command npx runs, started directly: a signal reaches kmsd itself (npx would stand between).
  const server = start(join(project, 'node_modules/.bin/kmsd'), ['serve', '--port', '0', '--data-dir', join(project, 'data'), '--endpoint-file', endpointFile, '--workers', '2', '--log-level', 'warn'], { cwd: project });
  const { exited, output } = server;
  try {
    const described = await waitFor('the endpoint file', () => (existsSync(endpointFile) ? JSON.parse(readFileSync(endpointFile, 'utf8')) : undefined));
    assert.equal(statSync(endpointFile).mode & 0o777, 0o600);
    assert.match(described.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(described.accounts_from, 'development');
    const [{ users: [user], project_id }] = described.accounts;
    const [{ ak, sk }] = user.access_keys;
    assert.equal(await statusOf(`${described.endpoint}/_kmsd/health`), 200);
    assert.equal(await statusOf(`${described.endpoint}/_kmsd/console/`), 200);

    // The client, as the package exports it, on the package's own Node 24.
    writeFileSync(join(project, 'use.mjs'), `
import { KmsClient } from 'kmsd/client';
const client = new KmsClient({ endpoint: process.env.EP, ak: process.env.AK, sk: process.env.SK });
const { key_info } = await client.createKey({ key_alias: 'npm-user' });
const { cipher_text } = await client.encryptData({ key_id: key_info.key_id, plain_text: 'from the npm package' });
const { plain_text } = await client.decryptData({ cipher_text });
console.log(JSON.stringify({ plain_text, project: await client.projectId() }));
`);
    const used = await exec(join(project, 'node_modules/.bin/node'), ['use.mjs'], { cwd: project, env: { ...process.env, EP: described.endpoint, AK: ak, SK: sk } });
    assert.equal(used.stderr, '');
    assert.deepEqual(JSON.parse(used.stdout), { plain_text: 'from the npm package', project: project_id });
  } finally {
    server.child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, output());
  assert.equal(existsSync(endpointFile), false, 'a clean stop removes the endpoint file');
});

test('a SQLite node of the package serves without loading PostgreSQL\'s driver or node:tls (docs/start-and-memory.md, "The start")', { skip: skipWithout(TARBALL), timeout: 120_000 }, async () => {
  assert.ok(existsSync(join(project, 'node_modules/kmsd')), 'installed by the test above');
  // A module Node runs before kmsd (NODE_OPTIONS reaches the node that bin/kmsd.js execs): at
  // exit it writes what the process loaded, Node's own modules and every file (ES modules and
  // CommonJS alike, through Node's module hooks).
  const report = join(project, 'loaded.json');
  writeFileSync(join(project, 'loaded.mjs'), `
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
const files = [];
registerHooks({ load(url, context, nextLoad) { files.push(url); return nextLoad(url, context); } });
process.on('exit', () => writeFileSync(process.env.KMSD_LOADED_REPORT, JSON.stringify({
  builtins: process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length)),
  files,
})));
`);

  const endpointFile = join(project, 'loaded-endpoint.json');
  const server = start(join(project, 'node_modules/.bin/kmsd'), ['serve', '--port', '0', '--data-dir', join(project, 'data-loaded'), '--endpoint-file', endpointFile, '--workers', '1', '--log-level', 'warn'], {
    cwd: project, env: { ...process.env, NODE_OPTIONS: `--import=${pathToFileURL(join(project, 'loaded.mjs')).href}`, KMSD_LOADED_REPORT: report },
  });
  try {
    const described = await waitFor('the endpoint file', () => (existsSync(endpointFile) ? JSON.parse(readFileSync(endpointFile, 'utf8')) : undefined));
    const [{ project_id }] = described.accounts;
    assert.equal(await statusOf(`${described.endpoint}/_kmsd/health`), 200);
    // An operation's path reaches its route (401 without credentials), a known path with another
    // method is 405, an unknown path 400 (the routes that serve several operations: src/api/route-groups.ts).
    assert.equal(await statusOf(`${described.endpoint}/v1.0/${project_id}/kms/user-instances`), 401);
    assert.equal(await statusOf(`${described.endpoint}/v1.0/${project_id}/kms/list-keys`), 405);
    assert.equal(await statusOf(`${described.endpoint}/v1.0/${project_id}/kms/no-such-operation`), 400);
  } finally {
    server.child.kill('SIGTERM');
  }
  assert.equal(await server.exited, 0, server.output());
  const loaded = JSON.parse(readFileSync(report, 'utf8')) as { builtins: string[]; files: string[] };
  // The check is worth something only if the report is real: Node's http and sqlite were loaded, and kmsd's file.
  assert.ok(loaded.builtins.includes('http') && loaded.builtins.includes('sqlite'), loaded.builtins.join(' '));
  assert.ok(loaded.files.some((url) => url.endsWith('/node_modules/kmsd/dist/main.js')), loaded.files.join(' '));
  assert.deepEqual(loaded.builtins.filter((name) => name === 'tls' || name === 'https' || name === 'http2'), []);
  assert.deepEqual(loaded.files.filter((file) => /[\\/]node_modules[\\/](pg|pg-[a-z-]+|@peculiar|@noble)[\\/]/.test(file)), []);
});

for (const [doc, heading] of [['docs/install.md', '### A Node.js test that starts kmsd as a child']]) {
  test(`${doc}'s Node test, which starts kmsd as a child through --endpoint-file, passes as written`, { skip: skipWithout(TARBALL), timeout: 120_000 }, async () => {
    assert.ok(existsSync(join(project, 'node_modules/kmsd')), 'installed by the test above');
    const docs = readFileSync(join(ROOT, doc), 'utf8');
    const section = docs.slice(docs.indexOf(heading));
    const example = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    assert.match(example ?? '', /^(\/\/ kmsd\.test\.mjs.*\n)?import \{ test, before, after \} from 'node:test';/);
    writeFileSync(join(project, 'kmsd.test.mjs'), example ?? '');
    // Not as a subtest of this run (NODE_TEST_CONTEXT would make it report to us instead of printing).
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const r = await exec(join(project, 'node_modules/.bin/node'), ['--test', '--test-reporter=tap', 'kmsd.test.mjs'], { cwd: project, env });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /^# pass 1$/m);
  });
}
