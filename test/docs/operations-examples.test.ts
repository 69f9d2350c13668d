import { test } from 'node:test';
import assert from 'node:assert/strict';
import { examples, kmsdForTests, runBlocks } from './examples.ts';

/**
 * docs/operations.md run as a reader runs it: every marked block in order, in one shell, against
 * the kmsd of the README's quick start (the development account in ./data). Each line a block
 * prints is checked: the answers it documents, in the order it documents them.
 */
const PAGE = 'docs/operations.md';
const world = kmsdForTests('kmsd-operations-');

const ID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const json = (line: string) => JSON.parse(line.replace(/ \d{3}$/, ''));
const keys = (line: string) => Object.keys(json(line));

test('every example of docs/operations.md runs in order, each answer as the page documents it', { timeout: 240_000 }, async () => {
  const blocks = examples(PAGE).filter((e) => e.kind === 'run').map((e) => e.body);
  const r = await runBlocks(blocks, world.kmsd.endpoint, world.dir);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  const out = r.outputs.map((o) => o.trimEnd().split('\n'));
  assert.equal(out.length, 11);
  const [setup, encrypting, dataKeys, random, asymmetric, rotation, imported, keyStores, tags, aliases, deletion] = out;
  const [dev] = world.kmsd.described.accounts;
  const [admin, app] = dev.users;

  // curl, with a token: describe-key, list-grants, list-retirable-grants, retire, revoke, quotas.
  assert.equal(setup.length, 6, setup.join('\n'));
  const described = json(setup[0]).key_info;
  assert.deepEqual([described.key_alias, described.key_state, described.key_spec, described.domain_id], ['orders', '2', 'AES_256', dev.id]);
  const listed = json(setup[1]);
  assert.deepEqual([listed.total, listed.truncated, listed.next_marker], [1, 'false', '']);
  assert.deepEqual([listed.grants[0].grantee_principal, listed.grants[0].retiring_principal], [app.id, admin.id]);
  assert.deepEqual(json(setup[2]).grants.map((g: { grant_id: string }) => g.grant_id), [listed.grants[0].grant_id]);
  assert.deepEqual(setup.slice(3, 5), ['{}', '{}']);
  assert.deepEqual(json(setup[5]).quotas.resources.map((q: { type: string }) => q.type), ['CMK', 'grant_per_CMK']);
  const key = described.key_id;

  assert.deepEqual(encrypting, [`{"key_id":"${key}","plain_text":"card 4111","plain_text_base64":"Y2FyZCA0MTEx"}`]);

  assert.equal(dataKeys.length, 2);
  assert.match(dataKeys[0], new RegExp(`^\\{"key_id":"${key}","cipher_text":"[0-9A-F]+"\\}$`));
  assert.match(dataKeys[1], new RegExp(`^\\{"key_id":"${key}","cipher_text":"[0-9A-F]+","datakey_length":"32"\\}$`));

  assert.match(random[0], /^\{"random_data":"[0-9A-F]{128}"\}$/);

  // Signature, the openssl check outside kmsd, MAC, RSA-OAEP, SM2, data key pairs, re-encrypt.
  assert.equal(asymmetric.length, 8, asymmetric.join('\n'));
  assert.match(asymmetric[0], new RegExp(`^\\{"key_id":"${ID}","signature_valid":"true"\\}$`));
  assert.equal(asymmetric[1], 'Verified OK');
  assert.match(asymmetric[2], new RegExp(`^\\{"key_id":"${ID}","mac_algorithm":"HMAC_SHA_256","mac_valid":true\\}$`));
  assert.match(asymmetric[3], new RegExp(`^\\{"key_id":"${ID}","plain_text":"card 4111","plain_text_base64":"Y2FyZCA0MTEx"\\}$`));
  assert.deepEqual(keys(asymmetric[4]), ['key_id', 'cipher_text']);
  assert.deepEqual(keys(asymmetric[5]), ['key_id', 'key_spec', 'public_key', 'private_key_cipher_text', 'private_key_plain_text']);
  assert.deepEqual([json(asymmetric[6]).key_spec, 'private_key_plain_text' in json(asymmetric[6])], ['RSA_2048', false]);
  const reEncrypted = json(asymmetric[7]);
  assert.deepEqual([reEncrypted.source_key_id, reEncrypted.source_encryption_algorithm, reEncrypted.destination_encryption_algorithm], [key, 'SYMMETRIC_DEFAULT', 'SYMMETRIC_DEFAULT']);
  assert.notEqual(reEncrypted.key_id, key);

  assert.deepEqual(rotation, ['{}', '{}', '{"key_rotation_enabled":true,"rotation_interval":30,"last_rotation_time":"","number_of_rotations":0}']);
  assert.deepEqual(imported, ['{}']);
  assert.match(keyStores[0], new RegExp(`^\\{"keystore":\\{"keystore_id":"${ID}","keystore_state":"3"\\}\\}$`));
  assert.equal(keyStores[1], '{"error":{"error_code":"KMS.0317","error_msg":"The cmk partition is not enabled."}}');

  assert.deepEqual(tags.map((l) => l.slice(-3)), ['204', '204', '200', '204', '204', '200', '200', '200']);
  assert.equal(tags[2], '{"tags":[{"key":"env","value":"prod"},{"key":"team","value":"pay"},{"key":"tier","value":""}],"existTagsNum":3} 200');
  assert.equal(tags[5], '{"tags":[{"key":"env","values":["prod"]}]} 200');
  assert.deepEqual(json(tags[6]).resources.map((x: { resource_id: string; resource_name: string }) => [x.resource_id, x.resource_name]), [[key, 'orders']]);
  assert.equal(tags[7], '{"total_count":1} 200');

  assert.deepEqual(aliases.map((l) => l.slice(-3)), ['201', '200', '200', '204']);
  assert.deepEqual([json(aliases[0]).key_id, json(aliases[0]).alias_urn], [key, `kms:cn-north-4:${dev.id}:alias:orders-current`]);
  assert.equal(json(aliases[2]).key_id, reEncrypted.key_id);

  assert.deepEqual(deletion, [`{"key_id":"${key}","key_state":"4"}`, `{"key_id":"${key}","key_state":"3"}`]);
});

test('no alias is created twice on the page', () => {
  const text = examples(PAGE).filter((e) => e.kind === 'run').map((e) => e.body).join('\n');
  const names = [...text.matchAll(/create-key '\{"key_alias":"([^"]+)"/g)].map((m) => m[1]);
  assert.ok(names.length >= 8);
  assert.equal(new Set(names).size, names.length, names.join(' '));
});
