import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, newKey, startWorld, type World } from '../harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

describe('update-key-rotation-interval', () => {
  test('sets the interval (an integer, or a numeric string)', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    await admin.kms('enable-key-rotation', { key_id: keyId });
    const r = await admin.kms('update-key-rotation-interval', { key_id: keyId, rotation_interval: 90 });
    assert.deepEqual([r.status, r.body], [200, {}]);
    assert.equal((await admin.kms('get-key-rotation-status', { key_id: keyId })).body.rotation_interval, 90);
    await admin.kms('update-key-rotation-interval', { key_id: keyId, rotation_interval: '30' });
    assert.equal((await admin.kms('get-key-rotation-status', { key_id: keyId })).body.rotation_interval, 30);
  });

  test('set while rotation is off: kept, reported 0 until rotation is enabled', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    assert.equal((await admin.kms('update-key-rotation-interval', { key_id: keyId, rotation_interval: 90 })).status, 200);
    assert.equal((await admin.kms('get-key-rotation-status', { key_id: keyId })).body.rotation_interval, 0);
    await admin.kms('enable-key-rotation', { key_id: keyId });
    assert.equal((await admin.kms('get-key-rotation-status', { key_id: keyId })).body.rotation_interval, 90);
  });

  for (const interval of [29, 366, 0, 45.5, 'month']) {
    test(`rotation_interval ${JSON.stringify(interval)} is 400 KMS.3001`, async () => {
      const keyId = await newKey(world.as('admin'));
      const r = await world.as('admin').kms('update-key-rotation-interval', { key_id: keyId, rotation_interval: interval });
      assert.deepEqual([r.status, r.body], [400, ERR('KMS.3001', 'Invalid rotation_interval.')]);
    });
  }

  test('no interval: KMS.0204; outsider: KMS.0306', async () => {
    const keyId = await newKey(world.as('admin'));
    const missing = await world.as('admin').kms('update-key-rotation-interval', { key_id: keyId });
    assert.deepEqual([missing.status, missing.body], [400, ERR('KMS.0204', 'Parameters missing in the request message.')]);
    const outsider = await world.as('boss').kms('update-key-rotation-interval', { key_id: keyId, rotation_interval: 60 });
    assert.deepEqual([outsider.status, outsider.body], [403, ERR('KMS.0306', 'No access permissions.')]);
  });
});
