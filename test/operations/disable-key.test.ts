import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, newGrant, newKey, startWorld, type World } from '../harness.ts';
import { defaultKeyOf, stateOf } from './key-state-helpers.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

describe('disable-key', () => {
  test('an enabled key becomes disabled: key_state "3"', async () => {
    const alice = world.as('alice', 'aksk');
    const keyId = await newKey(alice);
    const r = await alice.kms('disable-key', { key_id: keyId });
    assert.deepEqual([r.status, r.body], [200, { key_info: { key_id: keyId, key_state: '3' } }]);
    assert.equal(await stateOf(alice, keyId), '3');
  });

  test('disabling twice is 400 KMS.1301', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    await admin.kms('disable-key', { key_id: keyId });
    const r = await admin.kms('disable-key', { key_id: keyId });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.1301', 'The key is not enabled.')]);
  });

  test('a default key cannot be disabled; a grantee cannot disable', async () => {
    const admin = world.as('admin');
    const d = await admin.kms('disable-key', { key_id: await defaultKeyOf(admin) });
    assert.deepEqual([d.status, d.body], [400, ERR('KMS.0211', 'Cannot perform this operation on Default Master Keys.')]);
    const keyId = await newKey(admin);
    await newGrant(admin, keyId, world.users.gus.id, ['describe-key', 'create-grant']);
    const r = await world.as('gus').kms('disable-key', { key_id: keyId });
    assert.deepEqual([r.status, r.body], [403, ERR('KMS.0306', 'No access permissions.')]);
    assert.equal(await stateOf(admin, keyId), '2');
  });
});
