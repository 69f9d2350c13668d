import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/core/runtime.ts';
import { ERR, hex, newKey, startWorld, type Client, type World } from '../harness.ts';

/**
 * Dedicated key stores (reference §2.7): create, list, show, enable, disable, delete, and keys
 * created in a key store. Emulated (no HSM), with the service's lifecycle and errors.
 */
let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const DENIED = ERR('KMS.0306', 'No access permissions.');
const NO_KEYSTORE = ERR('KMS.0316', 'No exist partition_id.');
const base = (client: Client) => `/v1.0/${client.user.projectId}/keystores`;

async function newKeystore(client: Client, body: Record<string, unknown> = {}): Promise<string> {
  const r = await client.request('POST', base(client), { keystore_alias: `ks-${hex(4)}`, ...body });
  assert.equal(r.status, 200, r.text);
  return r.body.keystore.keystore_id;
}

describe('create-keystore', () => {
  test('answers the new key store id and the account, as KeystoreInfo types them', async () => {
    const admin = world.as('admin', 'aksk');
    const r = await admin.request('POST', base(admin), { keystore_alias: `ks-${hex(4)}`, hsm_cluster_id: `cluster-${hex(4)}`, hsm_ca_cert: 'PEM' });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body.keystore), ['keystore_id', 'domain_id']);
    assert.match(r.body.keystore.keystore_id, /^[0-9a-f-]{36}$/);
    assert.equal(r.body.keystore.domain_id, world.users.admin.accountId);
  });

  test('a duplicate alias: KMS.0318; a second key store on one cluster: KMS.0308', async () => {
    const admin = world.as('admin');
    const alias = `ks-${hex(4)}`;
    const cluster = `cluster-${hex(4)}`;
    await newKeystore(admin, { keystore_alias: alias, hsm_cluster_id: cluster });
    const dup = await admin.request('POST', base(admin), { keystore_alias: alias });
    assert.deepEqual([dup.status, dup.body], [400, ERR('KMS.0318', 'Partition name has exist.')]);
    const same = await admin.request('POST', base(admin), { keystore_alias: `ks-${hex(4)}`, cluster_id: cluster });
    assert.deepEqual([same.status, same.body], [400, ERR('KMS.0308', 'Invalid parameter.')]);
  });

  const BAD: Array<[string, Record<string, unknown>, object]> = [
    ['no keystore_alias', {}, ERR('KMS.0204', 'Parameters missing in the request message.')],
    ['an alias with a space', { keystore_alias: 'a b' }, ERR('KMS.0308', 'Invalid parameter.')],
    ['an alias of 256 characters', { keystore_alias: 'a'.repeat(256) }, ERR('KMS.0308', 'Invalid parameter.')],
    ['an unknown keystore_type', { keystore_alias: 'x', keystore_type: 'HSM9' }, ERR('KMS.0308', 'Invalid parameter.')],
  ];
  for (const [what, body, error] of BAD) {
    test(`${what}: 400`, async () => {
      const r = await world.as('admin').request('POST', base(world.as('admin')), body);
      assert.deepEqual([r.status, r.body], [400, error]);
    });
  }

  test('a user without the action is refused (KMS.0306)', async () => {
    const reader = world.as('reader');
    const r = await reader.request('POST', base(reader), { keystore_alias: `ks-${hex(4)}` });
    assert.deepEqual([r.status, r.body], [403, DENIED]);
  });
});

describe('list-keystores and show-keystore', () => {
  test('list pages with limit and offset (default 10) and shows only the account\'s own key stores', async () => {
    const boss = world.as('boss');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(await newKeystore(boss, { keystore_type: 'CDMS', cluster_id: `cdms-${hex(4)}` }));
      (world.clock as ManualClock).advance(1000);
    }
    const all = await boss.request('GET', base(boss));
    assert.equal(all.status, 200);
    assert.deepEqual(Object.keys(all.body), ['total', 'keystores']);
    assert.equal(typeof all.body.total, 'number');
    assert.deepEqual(all.body.keystores.map((k: { keystore_id: string }) => k.keystore_id), ids);
    const page = await boss.request('GET', `${base(boss)}?limit=1&offset=1`);
    assert.deepEqual([page.body.total, page.body.keystores.map((k: { keystore_id: string }) => k.keystore_id)], [3, [ids[1]]]);
    const acme = await world.as('admin').request('GET', base(world.as('admin')));
    assert.ok(!acme.body.keystores.some((k: { keystore_id: string }) => ids.includes(k.keystore_id)));
    const bad = await boss.request('GET', `${base(boss)}?limit=0`);
    assert.deepEqual([bad.status, bad.body], [400, ERR('KMS.1601', 'Invalid limit.')]);
    const badOffset = await boss.request('GET', `${base(boss)}?offset=-1`);
    assert.deepEqual([badOffset.status, badOffset.body], [400, ERR('KMS.1603', 'Invalid offset.')]);
  });

  test('show answers KeystoreDetails with string fields; another account gets KMS.0322; an unknown id KMS.0316', async () => {
    const admin = world.as('admin');
    const cluster = `cluster-${hex(4)}`;
    const id = await newKeystore(admin, { keystore_alias: `shown-${hex(3)}`, hsm_cluster_id: cluster, keystore_type: '1' });
    const r = await admin.request('GET', `${base(admin)}/${id}`);
    assert.equal(r.status, 200);
    const k = r.body.keystore;
    assert.deepEqual(Object.keys(k), ['keystore_id', 'domain_id', 'keystore_alias', 'keystore_type', 'hsm_cluster_id', 'cluster_id', 'create_time']);
    assert.deepEqual([k.keystore_id, k.domain_id, k.keystore_type, k.hsm_cluster_id, k.cluster_id], [id, world.users.admin.accountId, 'DHSM', cluster, cluster]);
    assert.match(k.create_time, /^\d{13}$/);
    const other = await world.as('boss').request('GET', `${base(world.as('boss'))}/${id}`);
    assert.deepEqual([other.status, other.body], [403, ERR('KMS.0322', 'The user has no permission to access the partition.')]);
    const unknown = await admin.request('GET', `${base(admin)}/${crypto.randomUUID()}`);
    assert.deepEqual([unknown.status, unknown.body], [404, NO_KEYSTORE]);
    const malformed = await admin.request('GET', `${base(admin)}/not_an_id!`);
    assert.deepEqual([malformed.status, malformed.body], [400, ERR('KMS.0315', 'Invalid partition_id.')]);
  });

  test('a user without the actions is refused (KMS.0306)', async () => {
    const nobody = world.as('nobody');
    const r = await nobody.request('GET', base(nobody));
    assert.deepEqual([r.status, r.body], [403, DENIED]);
  });
});

describe('keys in a key store', () => {
  test('create-key with keystore_id puts the key there: describe-key and list-keys report it', async () => {
    const admin = world.as('admin');
    const id = await newKeystore(admin);
    const keyId = await newKey(admin, { keystore_id: id });
    assert.equal((await admin.kms('describe-key', { key_id: keyId })).body.key_info.keystore_id, id);
    const listed = (await admin.kms('list-keys', { limit: '1000' })).body.key_details.find((k: { key_id: string }) => k.key_id === keyId);
    assert.equal(listed.keystore_id, id);
    assert.equal((await admin.kms('describe-key', { key_id: await newKey(admin) })).body.key_info.keystore_id, '0');
    assert.equal((await admin.kms('describe-key', { key_id: await newKey(admin, { keystore_id: '0' }) })).body.key_info.keystore_id, '0');
  });

  test('a disabled key store\'s keys refuse use (KMS.0317) and work again once it is enabled', async () => {
    const admin = world.as('admin', 'aksk');
    const id = await newKeystore(admin);
    const keyId = await newKey(admin, { keystore_id: id });
    const e = await admin.kms('encrypt-data', { key_id: keyId, plain_text: 'in a key store' });
    assert.equal(e.status, 200);
    const d = await admin.request('POST', `${base(admin)}/${id}/disable`);
    assert.deepEqual([d.status, d.body], [200, { keystore: { keystore_id: id, keystore_state: '3' } }]);
    const NOT_ENABLED = ERR('KMS.0317', 'The cmk partition is not enabled.');
    for (const [op, body] of [
      ['encrypt-data', { key_id: keyId, plain_text: 'x' }],
      ['decrypt-data', { cipher_text: e.body.cipher_text }],
      ['create-datakey', { key_id: keyId }],
      ['create-datakey-without-plaintext', { key_id: keyId }],
    ] as const) {
      const r = await admin.kms(op, body);
      assert.deepEqual([r.status, r.body], [400, NOT_ENABLED], op);
    }
    // Describing the key still works; so does creating no new key in it.
    assert.equal((await admin.kms('describe-key', { key_id: keyId })).status, 200);
    const create = await admin.kms('create-key', { key_alias: `k-${hex(4)}`, keystore_id: id });
    assert.deepEqual([create.status, create.body], [400, NOT_ENABLED]);
    // Disabling again changes nothing; enabling brings the keys back.
    assert.equal((await admin.request('POST', `${base(admin)}/${id}/disable`)).body.keystore.keystore_state, '3');
    const en = await admin.request('POST', `${base(admin)}/${id}/enable`);
    assert.deepEqual([en.status, en.body], [200, { keystore: { keystore_id: id, keystore_state: '2' } }]);
    assert.equal((await admin.kms('decrypt-data', { cipher_text: e.body.cipher_text })).body.plain_text, 'in a key store');
  });

  test('create-key in an unknown key store: KMS.0316; another account\'s: KMS.0322; with origin external: KMS.0339', async () => {
    const admin = world.as('admin');
    const unknown = await admin.kms('create-key', { key_alias: `k-${hex(4)}`, keystore_id: crypto.randomUUID() });
    assert.deepEqual([unknown.status, unknown.body], [404, NO_KEYSTORE]);
    const theirs = await newKeystore(world.as('boss'));
    const other = await admin.kms('create-key', { key_alias: `k-${hex(4)}`, keystore_id: theirs });
    assert.deepEqual([other.status, other.body], [403, ERR('KMS.0322', 'The user has no permission to access the partition.')]);
    const mine = await newKeystore(admin);
    const external = await admin.kms('create-key', { key_alias: `k-${hex(4)}`, keystore_id: mine, origin: 'external' });
    assert.deepEqual([external.status, external.body], [400, ERR('KMS.0339', 'The custom keystore do not support import key.')]);
  });

  test('keys in a dedicated key store cannot be rotated (KMS.0338)', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin, { keystore_id: await newKeystore(admin) });
    const r = await admin.kms('enable-key-rotation', { key_id: keyId });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0338', 'The custom keystore do not support rotation.')]);
  });
});

describe('enable-keystore, disable-keystore and delete-keystore', () => {
  test('delete removes an empty key store; one holding keys (even pending deletion) is refused (KMS.0308)', async () => {
    const admin = world.as('admin', 'aksk');
    const empty = await newKeystore(admin);
    const r = await admin.request('DELETE', `${base(admin)}/${empty}`);
    assert.deepEqual([r.status, r.body], [200, {}]);
    assert.deepEqual((await admin.request('GET', `${base(admin)}/${empty}`)).body, NO_KEYSTORE);
    const full = await newKeystore(admin);
    const keyId = await newKey(admin, { keystore_id: full });
    assert.equal((await admin.kms('schedule-key-deletion', { key_id: keyId, pending_days: '7' })).status, 200);
    const refused = await admin.request('DELETE', `${base(admin)}/${full}`);
    assert.deepEqual([refused.status, refused.body], [400, ERR('KMS.0308', 'Invalid parameter.')]);
    assert.equal((await admin.request('GET', `${base(admin)}/${full}`)).status, 200);
  });

  test('another account cannot enable, disable or delete (KMS.0322); a reader lacks the action (KMS.0306)', async () => {
    const admin = world.as('admin');
    const id = await newKeystore(admin);
    const boss = world.as('boss');
    for (const [method, suffix] of [['POST', '/enable'], ['POST', '/disable'], ['DELETE', '']] as const) {
      const r = await boss.request(method, `${base(boss)}/${id}${suffix}`);
      assert.deepEqual([r.status, r.body], [403, ERR('KMS.0322', 'The user has no permission to access the partition.')], `${method}${suffix}`);
      const reader = world.as('reader');
      const rr = await reader.request(method, `${base(reader)}/${id}${suffix}`);
      assert.deepEqual([rr.status, rr.body], [403, DENIED], `reader ${method}${suffix}`);
    }
    assert.equal((await admin.request('GET', `${base(admin)}/${id}`)).status, 200);
  });

  test('at most 10 key stores per account and region (KMS.0308)', async () => {
    const boss = world.as('boss');
    const have = (await boss.request('GET', base(boss))).body.total as number;
    for (let i = have; i < 10; i++) await newKeystore(boss);
    const r = await boss.request('POST', base(boss), { keystore_alias: `ks-${hex(4)}` });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0308', 'Invalid parameter.')]);
  });

  test('PUT on a key store path is KMS.0215 (the path is known)', async () => {
    const admin = world.as('admin');
    const id = await newKeystore(admin);
    const r = await admin.request('PUT', `${base(admin)}/${id}`);
    assert.deepEqual([r.status, r.body], [405, ERR('KMS.0215', 'Request method not supported.')]);
  });
});
