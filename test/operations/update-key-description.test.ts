import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, newKey, startWorld, type World } from '../harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

describe('update-key-description', () => {
  test('sets and clears the description ("" is a description of its own)', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin, { key_description: 'first' });
    const r = await admin.kms('update-key-description', { key_id: keyId, key_description: 'second' });
    assert.deepEqual([r.status, r.body], [200, { key_info: { key_id: keyId, key_description: 'second' } }]);
    const cleared = await admin.kms('update-key-description', { key_id: keyId, key_description: '' });
    assert.deepEqual([cleared.status, cleared.body], [200, { key_info: { key_id: keyId, key_description: '' } }]);
    assert.equal((await admin.kms('describe-key', { key_id: keyId })).body.key_info.key_description, '');
  });

  test('256 characters is KMS.1103; a missing description KMS.0204; outsiders KMS.0306', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const long = await admin.kms('update-key-description', { key_id: keyId, key_description: 'x'.repeat(256) });
    assert.deepEqual([long.status, long.body], [400, ERR('KMS.1103', 'Invalid key_description.')]);
    const missing = await admin.kms('update-key-description', { key_id: keyId });
    assert.deepEqual([missing.status, missing.body], [400, ERR('KMS.0204', 'Parameters missing in the request message.')]);
    const outsider = await world.as('boss').kms('update-key-description', { key_id: keyId, key_description: 'mine' });
    assert.deepEqual([outsider.status, outsider.body], [403, ERR('KMS.0306', 'No access permissions.')]);
  });
});
