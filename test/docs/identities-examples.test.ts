import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseIdentities } from '../../src/identities.ts';
import { parseSeed, checkSeedNames } from '../../src/seed.ts';
import { examples, kmsdForTests, runBlocks, serveArgs } from './examples.ts';

/**
 * docs/identities.md as a reader follows it: the identities file and the seed file written as
 * shown, kmsd started with the page's own command line, then the page's curl run as written.
 */
const PAGE = 'docs/identities.md';
const page = examples(PAGE);
const world = kmsdForTests('kmsd-identities-', (dir) => {
  for (const e of page.filter((x) => x.kind === 'file')) writeFileSync(join(dir, e.args[0]), e.body);
  return serveArgs(page.find((e) => e.kind === 'serve')!.body);
});

test('the page writes identities.json and seed.json, then starts kmsd with both', () => {
  assert.deepEqual(page.map((e) => [e.kind, ...e.args].join(' ')), [
    'file identities.json', 'user-entry identities.json accounts[0].users[1]', 'file seed.json', 'serve', 'run',
  ]);
  assert.deepEqual(serveArgs(page[3].body), ['serve', '--port', '8080', '--data-dir', './kms-data', '--identities', 'identities.json', '--seed', 'seed.json']);
});

test('the identities file has no placeholders; its given ids are the ones kmsd serves, the others generated', () => {
  const file = JSON.parse(readFileSync(join(world.dir, 'identities.json'), 'utf8'));
  assert.doesNotMatch(JSON.stringify(file), /[<>]/);
  const [acme, globex] = world.kmsd.described.accounts;
  assert.deepEqual([acme.name, acme.id, acme.project_id], ['acme', file.accounts[0].id, file.accounts[0].project_id]);
  assert.deepEqual(acme.users.map((u: { name: string }) => u.name), ['admin', 'app']);
  assert.equal(acme.users[0].id, file.accounts[0].users[0].id);
  assert.match(acme.users[1].id, /^[0-9a-f]{32}$/);
  assert.deepEqual([globex.name, globex.users.map((u: { name: string }) => u.name)], ['globex', ['gus']]);
});

test('the seed names only accounts and users of the identities file', () => {
  const identities = parseIdentities(JSON.parse(readFileSync(join(world.dir, 'identities.json'), 'utf8')));
  const seed = parseSeed(JSON.parse(readFileSync(join(world.dir, 'seed.json'), 'utf8')));
  assert.doesNotThrow(() => checkSeedNames(seed, identities));
});

test('the user entry with a policy document is a valid user of that file', () => {
  const entry = page.find((e) => e.kind === 'user-entry')!;
  const file = JSON.parse(readFileSync(join(world.dir, 'identities.json'), 'utf8'));
  const user = JSON.parse(entry.body);
  // It replaces the entry whole: everything else the file gives app (the password the page's login
  // curl sends, its access key) is in it too.
  const { policies: _, ...rest } = file.accounts[0].users[1];
  assert.deepEqual(Object.fromEntries(Object.keys(rest).map((k) => [k, user[k]])), rest);
  file.accounts[0].users[1] = user;
  const parsed = parseIdentities(file);
  assert.equal(parsed.accounts[0].users[1].policies?.length, 2);
});

test("app decrypts the fixture ciphertext through its seeded grant, as the page's curl shows", async () => {
  const r = await runBlocks(page.filter((e) => e.kind === 'run').map((e) => e.body), world.kmsd.endpoint, world.dir);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.deepEqual(JSON.parse(r.outputs[0]), {
    key_id: '3060aa64-d032-4edb-9bdb-58f569a2057a', plain_text: 'card 4111 1111 1111 1111',
    plain_text_base64: Buffer.from('card 4111 1111 1111 1111').toString('base64'),
  });
});
