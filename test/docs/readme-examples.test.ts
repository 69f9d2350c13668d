import { DECISIONS } from '../../src/core/decisions.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPERATIONS } from '../../src/api/routes.ts';
import { ROOT, run } from '../support/built-client.ts';
import { examples, fences, kmsdForTests, readPage, readmeSession, runBlocks } from './examples.ts';

/**
 * The README's examples, as a new user meets them: kmsd started as the quick start starts it
 * (`bin/kmsd.js serve` in a fresh directory, the development account in ./data), then the
 * grant/retire walk-through with exactly what dev-identities.json and the banner say.
 */
const world = kmsdForTests('kmsd-readme-');

test("the quick start's two commands are the README's first block, and CI runs that test command", () => {
  const [quick] = fences('README.md');
  assert.match(quick.body, /^npm install && bin\/kmsd\.js serve +#[^\n]*\nnpm test +#[^\n]*\n$/);
  // .ci/run runs the README's test command (npm test), with PostgreSQL (within a bound of its own).
  assert.match(readFileSync(join(ROOT, '.ci/run'), 'utf8'), /\nKMSD_RELEASE_TESTS_DONE=1 (timeout [^\n]* )?scripts\/test-postgres\.sh npm test\n/);
  assert.ok(readPage('README.md').split('\n').length < 400, 'the README stays under 400 lines');
});

/**
 * The README's `run` blocks in one shell, as a reader pastes them into the second terminal: the
 * walk-through, then the client example (saved as the page says, importing kmsd/client as it
 * resolves in the checkout), then the command line. The only change is the port: kmsd serves on a
 * free one here, given as the page's default endpoint (KMSD_ENDPOINT) and in place of the page's 8080.
 */
async function runReadme() {
  const { blocks, env } = readmeSession(world.dir, world.kmsd.endpoint);
  assert.equal(blocks.length, 3);
  return runBlocks(blocks, world.kmsd.endpoint, world.dir, env);
}

test('the README runs as written against the quick start\'s kmsd: the walk-through, the client example, the command line', { timeout: 120_000 }, async () => {
  const r = await runReadme();
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  const lines = r.outputs[0].trimEnd().split('\n');
  assert.equal(lines.length, 4, r.outputs[0]);
  const [dev] = world.kmsd.described.accounts;
  const app = dev.users.find((u: { name: string }) => u.name === 'app');
  const encrypted = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(encrypted), ['key_id', 'cipher_text']);
  assert.match(encrypted.cipher_text, /^AgE/);
  const retirable = JSON.parse(lines[1]);
  assert.equal(retirable.total, 1);
  assert.equal(retirable.grants[0].grantee_principal, app.id);
  assert.equal(retirable.grants[0].key_id, encrypted.key_id);
  assert.deepEqual(retirable.grants[0].operations, ['encrypt-data', 'retire-grant']);
  assert.equal(lines[2], '{}');
  assert.equal(lines[3], '{"error":{"error_code":"KMS.0306","error_msg":"No access permissions."}}');

  // The client example: as its comment says.
  assert.match(r.outputs[1], /^card 4111\n[0-9a-f]{64} \[ 'describe-key', 'retire-grant' \]\n404 KMS\.0207 The key does not exist\.\n$/);

  // The command line: the key it names, decrypted text, pending deletion, and kmsd audit's table.
  const cli = r.outputs[2];
  assert.match(cli, /^card 4111$/m);
  const alias = /^key_alias +(orders-cli-\d+)$/m.exec(cli)?.[1];
  assert.ok(alias, cli);
  assert.match(cli, /^key_state +4 \(pending-deletion\)$/m);
  assert.match(cli, new RegExp(`^\\d+ +\\S+ +admin@dev +create-key +${alias} +allowed 200 +\\S+$`, 'm'));
  assert.match(cli, new RegExp(`^\\d+ +\\S+ +admin@dev +create-grant +${alias} +allowed 200 +\\S+ +[0-9a-f]{64}$`, 'm'));
});

test('the README runs again against the same kmsd (each run names its keys anew)', { timeout: 120_000 }, async () => {
  await new Promise((r) => setTimeout(r, 1100));
  const r = await runReadme();
  assert.deepEqual([r.status, r.stderr], [0, '']);
  assert.equal(r.outputs[0].trimEnd().split('\n')[3], '{"error":{"error_code":"KMS.0306","error_msg":"No access permissions."}}');
});

test('the banner in the README shows what kmsd prints: both development users with their ids', () => {
  const banner = fences('README.md')[1].body;
  const printed = world.kmsd.output();
  for (const label of ['endpoint', 'region', 'store', 'console', 'operator', 'account', 'project id', 'user', 'password', 'AK / SK']) {
    assert.match(banner, new RegExp(`^  ${label} +\\S`, 'm'), label);
    assert.match(printed, new RegExp(`^  ${label} +\\S`, 'm'), label);
  }
  // The workers line (kmsd prints it with more than one event loop; here it serves on one), as serve.ts writes it.
  assert.match(banner, /^ {2}workers {5}(\d+) event loops: the main thread serves now, \d+ worker thread\(s\) start when the main thread is 50 % busy \(--loop-start-load\)$/m);
  const n = Number(/^ {2}workers {5}(\d+)/m.exec(banner)?.[1]);
  assert.match(banner, new RegExp(`, ${n - 1} worker thread`));
  // As serve.ts writes it, with the default --loop-start-load (50).
  const serve = readFileSync(join(ROOT, 'src/cli/serve.ts'), 'utf8');
  assert.match(serve, /`  workers     \$\{config\.workers\} event loops: the main thread serves now, \$\{config\.workers - 1\} worker thread\(s\) \$\{when\}`/);
  assert.match(serve, /`start when the main thread is \$\{config\.loopStartLoad\} % busy \(--loop-start-load\)`/);
  assert.equal(DECISIONS.loopsStartOnLoad.percent, 50);
  const users = (text: string) => [...text.matchAll(/^ {2}user +(\w+) \(id [0-9a-f]{32}\)$/gm)].map((m) => m[1]);
  assert.deepEqual(users(banner), ['admin', 'app']);
  assert.deepEqual(users(printed), ['admin', 'app']);
});

/** The CI recipe's variables, as the README's SDK snippets read them. */
function sdkEnv(): Record<string, string> {
  const [dev] = world.kmsd.described.accounts;
  const [{ ak, sk }] = dev.users[0].access_keys;
  return { KMS_ENDPOINT: world.kmsd.endpoint, KMS_PROJECT_ID: dev.project_id, CLOUD_SDK_AK: ak, CLOUD_SDK_SK: sk };
}

test('the Node.js snippet, through @huaweicloud/huaweicloud-sdk-core, creates a key in kmsd', async () => {
  const [snippet] = examples('README.md').filter((e) => e.kind === 'node-sdk');
  writeFileSync(join(world.dir, 'node-sdk.cjs'), snippet.body);
  const r = await run(process.execPath, [join(world.dir, 'node-sdk.cjs')], { ...sdkEnv(), NODE_PATH: join(ROOT, 'node_modules') });
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n$/);
});

test('the Python, Go and Java snippets read the variables the CI recipe exports and name create-key\'s fields', () => {
  const readme = readPage('README.md');
  const recipe = /## Use kmsd in CI[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  const exported = [...recipe.matchAll(/^export (\w+)=/gm)].map((m) => m[1]).sort();
  assert.deepEqual(exported, Object.keys(sdkEnv()).sort());
  const createKey = OPERATIONS.find((op) => op.name === 'create-key')!;
  const snippets = Object.fromEntries(['python', 'go', 'java'].map((lang) => [lang, fences('README.md').find((f) => f.lang === lang)?.body ?? '']));
  for (const [lang, body] of Object.entries(snippets)) {
    const read = [...body.matchAll(/(?:environ\["|Getenv\("|getenv\(")(\w+)"/g)].map((m) => m[1]).sort();
    assert.deepEqual([...new Set(read)], Object.keys(sdkEnv()).sort(), lang);
  }
  // Each builds a create-key body with key_alias, the operation's one required field, in the SDK's spelling.
  assert.match(snippets.python, /CreateKeyRequestBody\(key_alias="from-python"\)/);
  assert.match(snippets.go, /model\.CreateKeyRequestBody\{KeyAlias: "from-go"\}/);
  assert.match(snippets.java, /new CreateKeyRequestBody\(\)\.withKeyAlias\("from-java"\)/);
  assert.deepEqual(createKey.required, ['key_alias']);
  // With a project id and an endpoint: no IAM lookup (docs/sdks.md has the variants without).
  assert.match(snippets.python, /BasicCredentials\([^)]*KMS_PROJECT_ID[^)]*\)[\s\S]*with_endpoint\(os\.environ\["KMS_ENDPOINT"\]\)/);
  assert.match(snippets.go, /WithProjectId\(os\.Getenv\("KMS_PROJECT_ID"\)\)[\s\S]*WithEndpoints\(\[\]string\{os\.Getenv\("KMS_ENDPOINT"\)\}\)/);
  assert.match(snippets.java, /withProjectId\(System\.getenv\("KMS_PROJECT_ID"\)\)[\s\S]*withEndpoints\(List\.of\(System\.getenv\("KMS_ENDPOINT"\)\)\)/);
});

test('the Terraform block declares the provider in required_providers and overrides only the kms endpoint', () => {
  const hcl = fences('README.md').find((f) => f.lang === 'hcl')?.body ?? '';
  assert.match(hcl, /^terraform \{\n {2}required_providers \{\n {4}huaweicloud = \{ source = "huaweicloud\/huaweicloud" \}\n {2}\}\n\}\n/);
  assert.match(hcl, /endpoints = \{\n {4}kms = "http:\/\/127\.0\.0\.1:8080\/"/);
  for (const setting of ['region', 'access_key', 'secret_key', 'project_id', 'domain_id', 'skip_check_website_type']) assert.match(hcl, new RegExp(`\\n  ${setting} +=`), setting);
});
