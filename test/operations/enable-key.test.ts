import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, newKey, randomKeyId, startWorld, type World } from '../harness.ts';
import { defaultKeyOf, stateOf } from './key-state-helpers.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

describe('enable-key', () => {
  test('a disabled key becomes enabled: {key_info: {key_id, key_state: "2"}}', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    await admin.kms('disable-key', { key_id: keyId });
    const r = await admin.kms('enable-key', { key_id: keyId });
    assert.deepEqual([r.status, r.text], [200, `{"key_info":{"key_id":"${keyId}","key_state":"2"}}`]);
    assert.equal(await stateOf(admin, keyId), '2');
  });

  test('a key that is not disabled is 400 KMS.1201 (enabled, pending deletion)', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const r = await admin.kms('enable-key', { key_id: keyId });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.1201', 'The key is not disabled.')]);
    await admin.kms('schedule-key-deletion', { key_id: keyId, pending_days: '7' });
    const r2 = await admin.kms('enable-key', { key_id: keyId });
    assert.deepEqual([r2.status, r2.body], [400, ERR('KMS.1201', 'The key is not disabled.')]);
    assert.equal(await stateOf(admin, keyId), '4');
  });

  test('a default key cannot be changed: 400 KMS.0211', async () => {
    const admin = world.as('admin');
    const r = await admin.kms('enable-key', { key_id: await defaultKeyOf(admin) });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0211', 'Cannot perform this operation on Default Master Keys.')]);
  });

  test('grantees, other accounts and users without the action are refused; unknown keys are 404', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    await admin.kms('disable-key', { key_id: keyId });
    for (const who of ['boss', 'reader', 'gina']) {
      const r = await world.as(who).kms('enable-key', { key_id: keyId });
      assert.deepEqual([r.status, r.body], [403, ERR('KMS.0306', 'No access permissions.')], who);
    }
    assert.equal(await stateOf(admin, keyId), '3');
    const unknown = await admin.kms('enable-key', { key_id: randomKeyId() });
    assert.deepEqual([unknown.status, unknown.body], [404, ERR('KMS.0207', 'The key does not exist.')]);
  });
});
