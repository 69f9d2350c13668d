import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, newKey, startWorld, type World } from '../harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

describe('cancel-key-deletion', () => {
  test('a cancelled deletion leaves the key disabled ("3"), as the official example shows', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    await admin.kms('schedule-key-deletion', { key_id: keyId, pending_days: '7' });
    const r = await admin.kms('cancel-key-deletion', { key_id: keyId });
    assert.deepEqual([r.status, r.text], [200, `{"key_id":"${keyId}","key_state":"3"}`]);
    const d = await admin.kms('describe-key', { key_id: keyId });
    assert.deepEqual([d.body.key_info.key_state, d.body.key_info.scheduled_deletion_date], ['3', '']);
  });

  test('a key not pending deletion is 400 KMS.1501; another account is refused', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const r = await admin.kms('cancel-key-deletion', { key_id: keyId });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.1501', 'The key is not in Pending deletion state.')]);
    await admin.kms('schedule-key-deletion', { key_id: keyId, pending_days: '7' });
    const outsider = await world.as('boss').kms('cancel-key-deletion', { key_id: keyId });
    assert.deepEqual([outsider.status, outsider.body], [403, ERR('KMS.0306', 'No access permissions.')]);
  });
});
