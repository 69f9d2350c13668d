import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, newGrant, newKey, randomKeyId, startWorld, type World } from '../harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const DENIED = ERR('KMS.0306', 'No access permissions.');

async function setup(operations = ['describe-key', 'retire-grant', 'create-grant']) {
  const admin = world.as('admin');
  const keyId = await newKey(admin);
  const grantId = await newGrant(admin, keyId, world.users.gus.id, operations, { retiring_principal: world.users.rita.id });
  return { keyId, grantId };
}

const total = async (keyId: string): Promise<number> => (await world.as('admin').kms('list-grants', { key_id: keyId })).body.total;

describe('revoke-grant', () => {
  for (const who of ['admin', 'alice']) {
    test(`${who}, a user of the key account with the IAM action, revokes: 200 {}`, async () => {
      const { keyId, grantId } = await setup();
      const r = await world.as(who, 'aksk').kms('revoke-grant', { key_id: keyId, grant_id: grantId });
      assert.deepEqual([r.status, r.text], [200, '{}']);
      assert.equal(await total(keyId), 0);
    });
  }

  for (const [who, role] of [['gus', 'the grantee, even holding retire-grant'], ['rita', 'the retiring principal'], ['boss', 'another account'], ['reader', 'a key-account user without kms:grant:revoke']]) {
    test(`${role} may not revoke: 403 KMS.0306 and the grant stays`, async () => {
      const { keyId, grantId } = await setup();
      const r = await world.as(who).kms('revoke-grant', { key_id: keyId, grant_id: grantId });
      assert.deepEqual([r.status, r.body], [403, DENIED]);
      assert.equal(await total(keyId), 1);
    });
  }

  test('after revoke the grantee is denied on its next request', async () => {
    const { keyId, grantId } = await setup();
    assert.equal((await world.as('gus').kms('describe-key', { key_id: keyId })).status, 200);
    assert.equal((await world.as('admin').kms('revoke-grant', { key_id: keyId, grant_id: grantId })).status, 200);
    const r = await world.as('gus').kms('describe-key', { key_id: keyId });
    assert.deepEqual([r.status, r.body], [403, DENIED]);
  });

  test('revoking a grant leaves the grants its grantee created for others', async () => {
    const { keyId, grantId } = await setup();
    const child = await newGrant(world.as('gus'), keyId, world.users.rita.id, ['describe-key']);
    assert.equal((await world.as('admin').kms('revoke-grant', { key_id: keyId, grant_id: grantId })).status, 200);
    const list = await world.as('admin').kms('list-grants', { key_id: keyId });
    assert.deepEqual(list.body.grants.map((g: { grant_id: string }) => g.grant_id), [child]);
  });

  test('revoking twice is 400 KMS.2501; another key 400 KMS.2502; unknown key 404 KMS.0207', async () => {
    const { keyId, grantId } = await setup();
    assert.equal((await world.as('admin').kms('revoke-grant', { key_id: keyId, grant_id: grantId })).status, 200);
    const twice = await world.as('admin').kms('revoke-grant', { key_id: keyId, grant_id: grantId });
    assert.deepEqual([twice.status, twice.body], [400, ERR('KMS.2501', 'Invalid grant ID.')]);
    const other = await setup();
    const mismatch = await world.as('admin').kms('revoke-grant', { key_id: keyId, grant_id: other.grantId });
    assert.deepEqual([mismatch.status, mismatch.body], [400, ERR('KMS.2502', 'grant_id and key_id do not match.')]);
    const unknown = await world.as('admin').kms('revoke-grant', { key_id: randomKeyId(), grant_id: other.grantId });
    assert.deepEqual([unknown.status, unknown.body], [404, ERR('KMS.0207', 'The key does not exist.')]);
  });

  test('an outsider learns nothing about grants: 403 before any grant lookup', async () => {
    const { keyId } = await setup();
    const r = await world.as('boss').kms('revoke-grant', { key_id: keyId, grant_id: 'b'.repeat(64) });
    assert.deepEqual([r.status, r.body], [403, DENIED]);
  });

  test('revoke works on a key pending deletion', async () => {
    const { keyId, grantId } = await setup();
    await world.as('admin').kms('schedule-key-deletion', { key_id: keyId, pending_days: 30 });
    const r = await world.as('admin').kms('revoke-grant', { key_id: keyId, grant_id: grantId });
    assert.deepEqual([r.status, r.body], [200, {}]);
  });
});
