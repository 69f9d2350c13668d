import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, hex, newKey, randomKeyId, startWorld, type Client, type World } from '../harness.ts';

/**
 * v2 multi-region calls (reference §2.9). This kmsd serves one region (--region, default
 * cn-north-4): it lists that region, and answers a replication into any region, or a move of
 * the primary region to another one, with KMS.1102 "Invalid realm." once the key and the
 * caller's rights are checked.
 */
let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const v2 = (client: Client, rest: string) => `/v2/${client.user.projectId}/kms/${rest}`;
const REALM = ERR('KMS.1102', 'Invalid realm.');
const DENIED = ERR('KMS.0306', 'No access permissions.');

const replica = (keyId: string, region = 'cn-south-1') => ({
  key_id: keyId, replica_region: region, key_alias: `replica-${hex(4)}`, replica_project_id: hex(16),
});

describe('list-support-regions', () => {
  test('answers the region this kmsd serves, as a string array', async () => {
    const alice = world.as('alice', 'aksk');
    const r = await alice.request('GET', v2(alice, 'regions'));
    assert.deepEqual([r.status, r.body], [200, { regions: ['cn-north-4'] }]);
    const paged = await alice.request('GET', v2(alice, 'regions?limit=10&offset=1'));
    assert.deepEqual(paged.body, { regions: [] });
    const bad = await alice.request('GET', v2(alice, 'regions?limit=abc'));
    assert.deepEqual([bad.status, bad.body], [400, ERR('KMS.1601', 'Invalid limit.')]);
  });

  test('a user without the action is refused (KMS.0306)', async () => {
    const nobody = world.as('nobody');
    const r = await nobody.request('GET', v2(nobody, 'regions'));
    assert.deepEqual([r.status, r.body], [403, DENIED]);
  });
});

describe('replicate-key', () => {
  test('replicating into a region this kmsd does not serve: KMS.1102, and no key appears', async () => {
    const admin = world.as('admin', 'aksk');
    const keyId = await newKey(admin);
    const before = (await admin.kms('list-keys', { key_spec: 'ALL' })).body.total;
    for (const region of ['cn-south-1', 'cn-north-4']) {
      const r = await admin.request('POST', v2(admin, `keys/${keyId}/replicate`), replica(keyId, region));
      assert.deepEqual([r.status, r.body], [400, REALM], region);
    }
    assert.equal((await admin.kms('list-keys', { key_spec: 'ALL' })).body.total, before);
  });

  test('the key and the caller are checked first: unknown key 404, other account and grantees 403', async () => {
    const admin = world.as('admin');
    const unknown = randomKeyId();
    const r = await admin.request('POST', v2(admin, `keys/${unknown}/replicate`), replica(unknown));
    assert.deepEqual([r.status, r.body], [404, ERR('KMS.0207', 'The key does not exist.')]);
    const keyId = await newKey(admin);
    for (const who of ['boss', 'reader']) {
      const c = world.as(who);
      const denied = await c.request('POST', v2(c, `keys/${keyId}/replicate`), replica(keyId));
      assert.deepEqual([denied.status, denied.body], [403, DENIED], who);
    }
  });

  test('missing replica_region or replica_project_id: KMS.0204; a malformed region: KMS.1102', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const { replica_region: _r, ...noRegion } = replica(keyId);
    const a = await admin.request('POST', v2(admin, `keys/${keyId}/replicate`), noRegion);
    assert.deepEqual([a.status, a.body], [400, ERR('KMS.0204', 'Parameters missing in the request message.')]);
    const b = await admin.request('POST', v2(admin, `keys/${keyId}/replicate`), { ...replica(keyId), replica_region: 'CN NORTH' });
    assert.deepEqual([b.status, b.body], [400, REALM]);
  });
});

describe('update-primary-region', () => {
  test('to the key\'s own region: answers it unchanged; to any other region: KMS.1102', async () => {
    const admin = world.as('admin', 'aksk');
    const keyId = await newKey(admin);
    const same = await admin.request('PUT', v2(admin, `keys/${keyId}/update-primary-region`), { key_id: keyId, primary_region: 'cn-north-4' });
    assert.deepEqual([same.status, same.body], [200, { key_id: keyId, primary_region: 'cn-north-4' }]);
    const other = await admin.request('PUT', v2(admin, `keys/${keyId}/update-primary-region`), { key_id: keyId, primary_region: 'eu-west-101' });
    assert.deepEqual([other.status, other.body], [400, REALM]);
  });

  test('another account is refused (KMS.0306); POST on the path is KMS.0215', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const boss = world.as('boss');
    const r = await boss.request('PUT', v2(boss, `keys/${keyId}/update-primary-region`), { key_id: keyId, primary_region: 'cn-north-4' });
    assert.deepEqual([r.status, r.body], [403, DENIED]);
    const post = await admin.request('POST', v2(admin, `keys/${keyId}/update-primary-region`), { key_id: keyId, primary_region: 'cn-north-4' });
    assert.deepEqual([post.status, post.body], [405, ERR('KMS.0215', 'Request method not supported.')]);
  });

  test('a project id of another account in a v2 path: KMS.0321', async () => {
    const admin = world.as('admin');
    const r = await admin.request('GET', `/v2/${world.users.boss.projectId}/kms/regions`);
    assert.deepEqual([r.status, r.body], [403, ERR('KMS.0321', 'URIs in URL and X-Auth-Token do not match.')]);
  });
});
