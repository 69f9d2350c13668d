import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, newGrant, newKey, startWorld, type World } from '../harness.ts';

let world: World;
before(async () => {
  world = await startWorld({ config: { maxKeys: 20 } });
});
after(() => world.close());

describe('user-quotas', () => {
  test('reports CMK and grant_per_CMK quotas with integer used and quota', async () => {
    const admin = world.as('admin');
    const k1 = await newKey(admin);
    await newKey(admin);
    for (let i = 0; i < 3; i++) await newGrant(admin, k1, world.users.gus.id, ['describe-key']);
    const r = await admin.request('GET', `/v1.0/${world.users.admin.projectId}/kms/user-quotas`);
    assert.equal(r.status, 200);
    assert.equal(r.text, '{"quotas":{"resources":[{"type":"CMK","used":2,"quota":20},{"type":"grant_per_CMK","used":3,"quota":100}]}}');
  });

  test('a user without kms:cmk:getQuota is refused', async () => {
    const r = await world.as('gina').request('GET', `/v1.0/${world.users.gina.projectId}/kms/user-quotas`);
    assert.deepEqual([r.status, r.body], [403, ERR('KMS.0306', 'No access permissions.')]);
  });
});
