import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, newKey, startWorld, type World } from '../harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

describe('user-instances', () => {
  test('counts customer keys of the account (default keys excluded), as a JSON integer', async () => {
    const admin = world.as('admin');
    const first = await admin.request('GET', `/v1.0/${world.users.admin.projectId}/kms/user-instances`);
    assert.deepEqual([first.status, first.text], [200, '{"instance_num":0}']);
    await newKey(admin);
    await newKey(world.as('alice'));
    const r = await world.as('admin', 'aksk').request('GET', `/v1.0/${world.users.admin.projectId}/kms/user-instances`);
    assert.deepEqual([r.status, r.body], [200, { instance_num: 2 }]);
  });

  test('a user without kms:cmk:getInstance is refused; POST is 405 KMS.0215', async () => {
    const r = await world.as('nobody').request('GET', `/v1.0/${world.users.nobody.projectId}/kms/user-instances`);
    assert.deepEqual([r.status, r.body], [403, ERR('KMS.0306', 'No access permissions.')]);
    const post = await world.as('admin').kms('user-instances', {});
    assert.deepEqual([post.status, post.body], [405, ERR('KMS.0215', 'Request method not supported.')]);
  });
});
