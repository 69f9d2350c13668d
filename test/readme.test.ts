import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument } from '../src/api/openapi.ts';
import { startWorld, type World } from './harness.ts';
import { ROOT, buildClient, consumerProject, run, systemNode, tsc } from './support/built-client.ts';

/**
 * The README's client example on Node 20 and under tsc --strict (test/docs/readme-examples.test.ts runs it,
 * and the CLI example, as written in the walk-through's shell), and the profiles file
 * (docs/client-and-cli.md) and OpenAPI (docs/operations.md) examples (endpoint and credentials filled in).
 */
let world: World;
let consumer: string;
let shims: string;
before(async () => {
  buildClient();
  consumer = consumerProject();
  // `npx kmsd` in the examples is this checkout's binary.
  shims = join(consumer, 'bin');
  mkdirSync(shims);
  writeFileSync(join(shims, 'kmsd'), `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin/kmsd.js')}" "$@"\n`);
  chmodSync(join(shims, 'kmsd'), 0o755);
  world = await startWorld();
});
after(async () => {
  await world.close();
  rmSync(consumer, { recursive: true, force: true });
});

/** The code blocks of one section of a page (README.md by default), in order. */
function blocks(heading: string, lang: string, page = 'README.md'): string[] {
  const text = readFileSync(join(ROOT, page), 'utf8');
  const start = text.indexOf(`\n## ${heading}`);
  assert.ok(start >= 0, `${page}: ${heading}`);
  const end = text.indexOf('\n## ', start + 1);
  const section = end < 0 ? text.slice(start) : text.slice(start, end);
  return [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}

const shell = (script: string, env: Record<string, string> = {}) =>
  run('/bin/bash', ['-e', '-o', 'pipefail', '-c', script.replaceAll('npx kmsd', 'kmsd')], { PATH: `${shims}:${process.env.PATH}`, HOME: consumer, KMSD_PROFILES_FILE: join(consumer, 'none.json'), ...env }, consumer);

test('the client example runs on Node 20 against kmsd (with the variables the README exports)', async () => {
  const [example] = blocks('The TypeScript client', 'js');
  const alice = world.users.alice;
  writeFileSync(join(consumer, 'example.mjs'), example);
  const r = await run(systemNode() ?? process.execPath, [join(consumer, 'example.mjs')], {
    KMSD_ENDPOINT: world.url, HUAWEICLOUD_SDK_AK: alice.ak, HUAWEICLOUD_SDK_SK: alice.sk, GRANTEE: world.users.gina.id,
  });
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^card 4111\n[0-9a-f]{64} \[ 'describe-key', 'retire-grant' \]\n404 KMS\.0207 The key does not exist\.\n$/);
});

test('the client example compiles under tsc --strict with only @types/node beside it; a refusal prints as KmsError', async () => {
  const [example] = blocks('The TypeScript client', 'js');
  const dir = join(consumer, 'strict');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'example.ts'), example);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, types: ['node'] }, files: ['example.ts'],
  }));
  assert.equal(tsc(dir), '');
  writeFileSync(join(consumer, 'print.mjs'), `import { KmsError } from 'kmsd/client';
console.log(String(KmsError.from(404, '{"error":{"error_code":"KMS.0207","error_msg":"The key does not exist."}}', 'r')));
console.error(KmsError.from(404, '', 'r'));`);
  const r = await run(systemNode() ?? process.execPath, [join(consumer, 'print.mjs')]);
  assert.equal(r.stdout, 'KmsError: The key does not exist.\n');
  assert.match(r.stderr, /^KmsError: HTTP 404\n/);
});

test('the profiles file example works with kmsd', async () => {
  const [example] = blocks('The command line', 'json', 'docs/client-and-cli.md');
  const alice = world.users.alice;
  const text = example.replaceAll('http://127.0.0.1:8080', world.url).replace('<AK>', alice.ak).replace('<SK>', alice.sk)
    .replace('"admin"', JSON.stringify(alice.name)).replace('<password>', alice.password).replace('"dev"', JSON.stringify(alice.account));
  writeFileSync(join(consumer, 'profiles.json'), text);
  assert.deepEqual(Object.keys(JSON.parse(text)), ['default', 'cloud', 'login']);
  for (const args of ['kmsd keys list -o json', 'kmsd keys list -o json --profile login']) {
    const r = await shell(args, { KMSD_PROFILES_FILE: join(consumer, 'profiles.json') });
    assert.deepEqual([r.status, r.stderr, Array.isArray(JSON.parse(r.stdout))], [0, '', true], args);
  }
});

test('the OpenAPI example: the served document and kmsd openapi', async () => {
  const [example] = blocks('OpenAPI', 'sh', 'docs/operations.md');
  const r = await shell(example.replaceAll('http://127.0.0.1:8080', world.url));
  assert.equal(r.stderr, '');
  const doc = openApiDocument() as { paths: Record<string, unknown> };
  assert.equal(r.stdout, `${Object.keys(doc.paths).length}\n`);
  assert.equal(readFileSync(join(consumer, 'openapi.json'), 'utf8'), `${JSON.stringify(doc, null, 2)}\n`);
});
