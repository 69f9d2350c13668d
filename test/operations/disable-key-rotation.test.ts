import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, newKey, startWorld, type World } from '../harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

describe('disable-key-rotation', () => {
  test('turns rotation off: 200 {}; again: KMS.0313', async () => {
    const admin = world.as('alice');
    const keyId = await newKey(admin);
    await admin.kms('enable-key-rotation', { key_id: keyId });
    const r = await admin.kms('disable-key-rotation', { key_id: keyId });
    assert.deepEqual([r.status, r.body], [200, {}]);
    assert.equal((await admin.kms('get-key-rotation-status', { key_id: keyId })).body.key_rotation_enabled, false);
    const again = await admin.kms('disable-key-rotation', { key_id: keyId });
    assert.deepEqual([again.status, again.body], [400, ERR('KMS.0313', 'Key rotation is not enabled.')]);
  });

  test('a user without the action may not', async () => {
    const keyId = await newKey(world.as('admin'));
    await world.as('admin').kms('enable-key-rotation', { key_id: keyId });
    const r = await world.as('reader').kms('disable-key-rotation', { key_id: keyId });
    assert.deepEqual([r.status, r.body], [403, ERR('KMS.0306', 'No access permissions.')]);
  });
});
