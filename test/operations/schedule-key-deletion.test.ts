import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deleteDueKeys } from '../../src/core/keys.ts';
import { DAY_MS, type ManualClock } from '../../src/core/runtime.ts';
import { Client, ERR, newGrant, newKey, startWorld, type World } from '../harness.ts';
import { defaultKeyOf } from './key-state-helpers.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

describe('schedule-key-deletion', () => {
  test('schedules: flat {key_id, key_state: "4"}; describe shows the deletion date', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const r = await admin.kms('schedule-key-deletion', { key_id: keyId, pending_days: '7' });
    assert.deepEqual([r.status, r.text], [200, `{"key_id":"${keyId}","key_state":"4"}`]);
    const d = await admin.kms('describe-key', { key_id: keyId });
    assert.equal(d.body.key_info.scheduled_deletion_date, String(world.clock.now() + 7 * DAY_MS));
  });

  test('pending_days as a JSON number; disabled keys can be scheduled too', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    await admin.kms('disable-key', { key_id: keyId });
    const r = await admin.kms('schedule-key-deletion', { key_id: keyId, pending_days: 1096 });
    assert.deepEqual([r.status, r.body], [200, { key_id: keyId, key_state: '4' }]);
  });

  for (const days of ['6', '1097', '0', 'seven', '-7', 7.5]) {
    test(`pending_days ${JSON.stringify(days)} is 400 KMS.1401`, async () => {
      const keyId = await newKey(world.as('admin'));
      const r = await world.as('admin').kms('schedule-key-deletion', { key_id: keyId, pending_days: days });
      assert.deepEqual([r.status, r.body], [400, ERR('KMS.1401', 'Set the pending deletion period between 7 to 1096 days.')]);
    });
  }

  test('without pending_days: KMS.0204; twice: KMS.1402; default key: KMS.0211; grantee: KMS.0306', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const missing = await admin.kms('schedule-key-deletion', { key_id: keyId });
    assert.deepEqual([missing.status, missing.body], [400, ERR('KMS.0204', 'Parameters missing in the request message.')]);
    await newGrant(admin, keyId, world.users.gus.id, ['describe-key']);
    const grantee = await world.as('gus').kms('schedule-key-deletion', { key_id: keyId, pending_days: '7' });
    assert.deepEqual([grantee.status, grantee.body], [403, ERR('KMS.0306', 'No access permissions.')]);
    await admin.kms('schedule-key-deletion', { key_id: keyId, pending_days: '7' });
    const twice = await admin.kms('schedule-key-deletion', { key_id: keyId, pending_days: '7' });
    assert.deepEqual([twice.status, twice.body], [400, ERR('KMS.1402', 'The key is already in Pending deletion state.')]);
    const dflt = await admin.kms('schedule-key-deletion', { key_id: await defaultKeyOf(admin), pending_days: '7' });
    assert.deepEqual([dflt.status, dflt.body], [400, ERR('KMS.0211', 'Cannot perform this operation on Default Master Keys.')]);
  });

  test('when the pending period ends the key is gone at once, and the sweeper deletes it with its grants', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const grantId = await newGrant(admin, keyId, world.users.gus.id, ['describe-key'], { retiring_principal: world.users.rita.id });
    await admin.kms('schedule-key-deletion', { key_id: keyId, pending_days: '7' });
    (world.clock as ManualClock).advance(7 * DAY_MS);
    // 7 days later every token of before has expired: log in again.
    const gone = await new Client(world, world.users.admin, 'token').kms('describe-key', { key_id: keyId });
    assert.deepEqual([gone.status, gone.body], [404, ERR('KMS.0207', 'The key does not exist.')]);
    const deleted = await world.server.store.write((tx) => deleteDueKeys(tx, world.clock.now()));
    assert.ok(deleted >= 1);
    const grant = await world.server.store.read((tx) => tx.getGrant(grantId));
    assert.equal(grant, null);
    const retirable = await new Client(world, world.users.rita, 'token').kms('list-retirable-grants', {});
    assert.ok(!retirable.body.grants.some((g: { grant_id: string }) => g.grant_id === grantId));
  });
});
