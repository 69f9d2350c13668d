import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPERATIONS } from '../src/api/routes.ts';
import { methodName, renderClientModule } from '../src/client/generate.ts';
import { hex, startWorld, type World } from './harness.ts';
import { ROOT, buildClient, consumerProject, run, systemNode, tsc } from './support/built-client.ts';

/** kmsd/client as a user installs it: generated from OPERATIONS, built, imported from Node 20 and TypeScript. */
let world: World;
let consumer: string;
before(async () => {
  buildClient();
  consumer = consumerProject();
  world = await startWorld();
});
after(async () => {
  await world.close();
  rmSync(consumer, { recursive: true, force: true });
});

test('src/client/operations.ts is exactly what the operation definitions generate (npm run generate:client)', () => {
  assert.equal(readFileSync(join(ROOT, 'src/client/operations.ts'), 'utf8'), renderClientModule(OPERATIONS));
  const generated = readFileSync(join(ROOT, 'src/client/operations.ts'), 'utf8');
  for (const op of OPERATIONS) assert.ok(generated.includes(`"name":"${op.name}"`), op.name);
  // The built declarations are those of this module (build:client regenerates before building).
  const declared = readFileSync(join(ROOT, 'dist/client/operations.d.ts'), 'utf8');
  for (const op of OPERATIONS) assert.ok(declared.includes(`${methodName(op.name)}(input`), op.name);
});

test('the built client depends on nothing but node: modules (no server code, no Fastify)', () => {
  const bundle = readFileSync(join(ROOT, 'dist/client/index.js'), 'utf8');
  const imports = [...bundle.matchAll(/^import\s.*?from\s+["']([^"']+)["']/gm)].map((m) => m[1]);
  // node:https carries a client given its own certificate authorities (`ca`).
  assert.deepEqual([...new Set(imports)].sort(), ['node:crypto', 'node:https']);
  assert.doesNotMatch(bundle, /fastify|src\/api|src\/core|src\/store/);
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.deepEqual(pkg.exports['./client'], { types: './dist/client/index.d.ts', import: './dist/client/index.js' });
  assert.equal(pkg.scripts.prepare, 'npm run build');
  assert.match(pkg.scripts.build, /build:client/);
});

test("Node 20 imports 'kmsd/client' through the package exports and uses a real kmsd", { skip: systemNode() === null && 'no Node 20 on this machine' }, async () => {
  const node = systemNode() as string;
  assert.match((await run(node, ['-v'])).stdout, /^v2[0-3]\./);
  const script = join(consumer, 'use.mjs');
  writeFileSync(script, `
import { KmsClient, KmsError } from 'kmsd/client';
const client = new KmsClient({ endpoint: process.env.EP, ak: process.env.AK, sk: process.env.SK });
const { key_info } = await client.createKey({ key_alias: process.env.ALIAS });
const { cipher_text } = await client.encryptData({ key_id: key_info.key_id, plain_text: 'from node ' + process.versions.node.split('.')[0] });
const { plain_text } = await client.decryptData({ cipher_text });
let refused;
try { await client.describeKey({ key_id: '00000000-0000-0000-0000-000000000000' }); } catch (e) { refused = [e instanceof KmsError, e.status, e.code, e.message]; }
console.log(JSON.stringify({ key: key_info.key_id.length, plain_text, refused, project: await client.projectId() }));
`);
  const alice = world.users.alice;
  const r = await run(node, [script], { EP: world.url, AK: alice.ak, SK: alice.sk, ALIAS: `node20-${hex(4)}` });
  assert.equal(r.stderr, '');
  assert.deepEqual(JSON.parse(r.stdout), { key: 36, plain_text: 'from node 20', refused: [true, 404, 'KMS.0207', 'The key does not exist.'], project: alice.projectId });
});

test('TypeScript sees the request and answer types of every operation through kmsd/client', () => {
  writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, types: ['node'] }, files: ['use.ts'],
  }));
  writeFileSync(join(consumer, 'use.ts'), `
import { KmsClient, KmsError, type ListGrantsResponse, type Operations } from 'kmsd/client';
const client = new KmsClient({ ak: 'AK', sk: 'SK' });
export async function main(): Promise<void> {
  const created = await client.createKey({ key_alias: 'a', key_spec: 'AES_256' });
  const keyId: string | undefined = created.key_info?.key_id;
  const page: ListGrantsResponse = await client.listGrants({ key_id: keyId ?? '', limit: 10 });
  const total: number | undefined = page.total;
  for await (const grant of client.paginateGrants({ key_id: 'k' })) { const ops: string[] | undefined = grant.operations; void ops; }
  const retired: void = await client.retireGrant({ key_id: 'k', grant_id: 'g' }).then(() => undefined);
  const viaCall: Operations['gen-random']['response'] = await client.call('gen-random', { random_data_length: '256' });
  // @ts-expect-error key_alias is required
  await client.createKey({});
  // @ts-expect-error no such operation
  await client.deleteEverything();
  // @ts-expect-error key_usage is an enum
  await client.createKey({ key_alias: 'a', key_usage: 'ANYTHING' });
  try { await client.describeKey({ key_id: 'k' }); } catch (e) { if (e instanceof KmsError) { const s: number = e.status; const c: string = e.code; void [s, c]; } }
  void [total, retired, viaCall];
}
`);
  assert.equal(tsc(consumer), '');
});
