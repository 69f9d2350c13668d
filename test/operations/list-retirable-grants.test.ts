import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ManualClock } from '../../src/core/runtime.ts';
import { ERR, newGrant, newKey, startWorld, type World } from '../harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const ids = (r: { body: { grants: Array<{ grant_id: string }> } }): string[] => r.body.grants.map((g) => g.grant_id);

describe('list-retirable-grants', () => {
  test('a retiring principal of another account sees the grants naming it, across keys', async () => {
    const admin = world.as('admin');
    const [k1, k2] = [await newKey(admin), await newKey(admin)];
    const g1 = await newGrant(admin, k1, world.users.gina.id, ['describe-key'], { retiring_principal: world.users.rita.id });
    (world.clock as ManualClock).advance(1);
    const g2 = await newGrant(admin, k2, world.users.gina.id, ['describe-key'], { retiring_principal: world.users.rita.id });
    await newGrant(admin, k2, world.users.gina.id, ['describe-key']);
    const r = await world.as('rita').kms('list-retirable-grants', {});
    assert.equal(r.status, 200);
    assert.deepEqual(ids(r), [g1, g2]);
    assert.deepEqual([r.body.total, r.body.truncated, r.body.next_marker], [2, 'false', '']);
    assert.deepEqual(r.body.grants[0], {
      key_id: k1, grant_id: g1, grantee_principal: world.users.gina.id, grantee_principal_type: 'user',
      operations: ['describe-key'], issuing_principal: world.users.admin.id, creation_date: String(world.clock.now() - 1),
      retiring_principal: world.users.rita.id,
    });
  });

  test('a grantee sees its grants that hold retire-grant, and only those; the issuer sees what it issued', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const alice = world.as('alice');
    const withRetire = await newGrant(alice, keyId, world.users.rita.id, ['describe-key', 'retire-grant']);
    await newGrant(alice, keyId, world.users.rita.id, ['describe-key']);
    assert.ok(ids(await world.as('rita').kms('list-retirable-grants')).includes(withRetire));
    const issued = ids(await alice.kms('list-retirable-grants', { limit: '1000' }));
    assert.equal(issued.length, 2);
  });

  test('a grant to a whole account with retire-grant is retirable by its users', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const grantId = await newGrant(admin, keyId, world.users.rita.accountId, ['describe-key', 'retire-grant'], { grantee_principal_type: 'domain' });
    assert.ok(ids(await world.as('rita').kms('list-retirable-grants')).includes(grantId));
  });

  test('pages: limit and marker as in list-grants', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    const before = (await alice.kms('list-retirable-grants', {})).body.total;
    for (let i = 0; i < 3; i++) await newGrant(alice, keyId, world.users.gus.id, ['describe-key']);
    const all = await alice.kms('list-retirable-grants', {});
    assert.equal(all.body.total, before + 3);
    const page = await alice.kms('list-retirable-grants', { limit: '1', marker: String(before + 1) });
    assert.deepEqual(ids(page), [ids(all)[before + 1]]);
    assert.deepEqual([page.body.next_marker, page.body.truncated], [String(before + 2), 'true']);
    const bad = await world.as('rita').kms('list-retirable-grants', { limit: '0' });
    assert.deepEqual([bad.status, bad.body], [400, ERR('KMS.1601', 'Invalid limit.')]);
    const badMarker = await world.as('rita').kms('list-retirable-grants', { marker: '-5' });
    assert.deepEqual([badMarker.status, badMarker.body], [400, ERR('KMS.1602', 'marker must be greater than or equals 0.')]);
  });

  test('a user without the IAM action kms:grant:list is refused: 403 KMS.0306', async () => {
    const r = await world.as('gus').kms('list-retirable-grants', {});
    assert.deepEqual([r.status, r.body], [403, ERR('KMS.0306', 'No access permissions.')]);
  });
});
