import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hex, startWorld, type World } from '../harness.ts';
import { ROOT, systemNode, tsc } from '../support/built-client.ts';
import { VERSION, artifact, exec, skipWithout } from './support.ts';

/**
 * kmsd-client-<version>.tgz as a user installs it: no dependencies, at most 1 MiB unpacked,
 * used from the machine's Node 20 against a real kmsd, and its types strict-clean.
 */
const TARBALL = `kmsd-client-${VERSION}.tgz`;
const skip = skipWithout(TARBALL);
const project = mkdtempSync(join(tmpdir(), 'kmsd-client-user-'));
let world: World | undefined;
before(async () => {
  if (skip) return;
  world = await startWorld();
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'client-user', private: true, type: 'module' }));
  const installed = await exec('npm', ['install', '--no-audit', '--no-fund', '--offline', artifact(TARBALL)], { cwd: project });
  if (installed.status !== 0) throw new Error(`npm install ${TARBALL} failed: ${installed.stderr}`);
});
after(async () => {
  await world?.close();
  rmSync(project, { recursive: true, force: true });
});

const du = (dir: string): number => readdirSync(dir, { withFileTypes: true }).reduce((sum, e) =>
  sum + (e.isDirectory() ? du(join(dir, e.name)) : statSync(join(dir, e.name)).size), 0);

test('kmsd-client installs with no dependency (offline), is at most 1 MiB unpacked and asks for Node 20 or later', { skip }, () => {
  const dir = join(project, 'node_modules/kmsd-client');
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  assert.equal(pkg.name, 'kmsd-client');
  assert.equal(pkg.version, VERSION);
  assert.equal(pkg.dependencies, undefined);
  assert.deepEqual(pkg.engines, { node: '>=20' });
  assert.deepEqual(readdirSync(join(project, 'node_modules')).sort(), ['.package-lock.json', 'kmsd-client']);
  assert.ok(du(dir) <= 1024 * 1024, `${du(dir)} bytes`);
  // One source: the same bundle as kmsd/client.
  assert.equal(readFileSync(join(dir, 'dist/client/index.js'), 'utf8'), readFileSync(join(ROOT, 'dist/client/index.js'), 'utf8'));
});

test('kmsd-client on the machine\'s Node 20 creates a key, encrypts and decrypts against a real kmsd', { skip: skip || (systemNode() === null && 'no Node 20 on this machine') }, async () => {
  const node = systemNode() as string;
  assert.match((await exec(node, ['-v'])).stdout, /^v20\./);
  writeFileSync(join(project, 'use.mjs'), `
import { KmsClient, KmsError } from 'kmsd-client';
const client = new KmsClient({ endpoint: process.env.EP, ak: process.env.AK, sk: process.env.SK });
const { key_info } = await client.createKey({ key_alias: process.env.ALIAS });
const { cipher_text } = await client.encryptData({ key_id: key_info.key_id, plain_text: 'from kmsd-client on node ' + process.versions.node.split('.')[0] });
const { plain_text } = await client.decryptData({ cipher_text });
let refused;
try { await client.describeKey({ key_id: '00000000-0000-0000-0000-000000000000' }); } catch (e) { refused = [e instanceof KmsError, e.status, e.code, e.message]; }
console.log(JSON.stringify({ plain_text, refused }));
`);
  const alice = world!.users.alice;
  const r = await exec(node, ['use.mjs'], { cwd: project, env: { ...process.env, EP: world!.url, AK: alice.ak, SK: alice.sk, ALIAS: `client-${hex(4)}` } });
  assert.equal(r.stderr, '');
  assert.deepEqual(JSON.parse(r.stdout), { plain_text: 'from kmsd-client on node 20', refused: [true, 404, 'KMS.0207', 'The key does not exist.'] });
});

test('kmsd-client\'s types are strict-clean for a TypeScript user (tsc --strict, nodenext)', { skip }, () => {
  mkdirSync(join(project, 'node_modules/@types'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules/@types/node'), join(project, 'node_modules/@types/node'), 'dir');
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, types: ['node'] }, files: ['use.ts'],
  }));
  writeFileSync(join(project, 'use.ts'), `
import { KmsClient, KmsError, type Operations } from 'kmsd-client';
const client = new KmsClient({ ak: 'AK', sk: 'SK' });
export async function main(): Promise<void> {
  const created = await client.createKey({ key_alias: 'a', key_spec: 'AES_256' });
  const keyId: string | undefined = created.key_info?.key_id;
  const viaCall: Operations['gen-random']['response'] = await client.call('gen-random', { random_data_length: '256' });
  // @ts-expect-error key_alias is required
  await client.createKey({});
  try { await client.describeKey({ key_id: keyId ?? '' }); } catch (e) { if (e instanceof KmsError) { const c: string = e.code; void c; } }
  void viaCall;
}
`);
  assert.equal(tsc(project), '');
});

test('kmsd-client\'s types need no @types/node: strict-clean with ES2022\'s library alone, and with the DOM\'s fetch', { skip }, () => {
  const bare = join(project, 'bare');
  mkdirSync(bare, { recursive: true });
  writeFileSync(join(bare, 'use.ts'), `
import { KmsClient, KmsError } from 'kmsd-client';
const client = new KmsClient({ ak: 'AK', sk: 'SK', endpoint: 'http://127.0.0.1:8080' });
export async function main(): Promise<string | undefined> {
  try { return (await client.createKey({ key_alias: 'a' })).key_info?.key_id; } catch (e) { if (e instanceof KmsError) return e.code; throw e; }
}
`);
  for (const lib of [['es2022'], ['es2022', 'dom']]) {
    // types: [] — no @types package at all, even though the project's node_modules has @types/node.
    writeFileSync(join(bare, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'es2022', lib, module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, types: [] }, files: ['use.ts'],
    }));
    assert.equal(tsc(bare), '', lib.join(' '));
  }
});
