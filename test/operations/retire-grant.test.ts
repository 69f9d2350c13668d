import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DECISIONS } from '../../src/core/decisions.ts';
import { ERR, newGrant, newKey, randomKeyId, startWorld, type World } from '../harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const DENIED = ERR('KMS.0306', 'No access permissions.');
const NO_GRANT = ERR('KMS.2501', 'Invalid grant ID.');

async function setup(operations = ['describe-key'], extra: Record<string, unknown> = {}) {
  const alice = world.as('alice');
  const keyId = await newKey(alice);
  const grantId = await newGrant(alice, keyId, world.users.gus.id, operations, { retiring_principal: world.users.rita.id, ...extra });
  return { keyId, grantId };
}

async function grantCount(keyId: string): Promise<number> {
  return (await world.as('admin').kms('list-grants', { key_id: keyId })).body.total;
}

describe('retire-grant', () => {
  for (const [who, role] of [['alice', 'the issuing principal'], ['rita', 'the retiring principal (another account)']]) {
    test(`${role} retires the grant: 200 {} and the grant is gone`, async () => {
      const { keyId, grantId } = await setup();
      const r = await world.as(who, 'aksk').kms('retire-grant', { key_id: keyId, grant_id: grantId });
      assert.deepEqual([r.status, r.text], [200, '{}']);
      assert.equal(await grantCount(keyId), 0);
    });
  }

  test('a grantee holding retire-grant and the IAM action retires its own grant', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    const grantId = await newGrant(alice, keyId, world.users.greg.id, ['describe-key', 'retire-grant']);
    const r = await world.as('greg').kms('retire-grant', { key_id: keyId, grant_id: grantId });
    assert.deepEqual([r.status, r.body], [200, {}]);
  });

  test('any user of a grantee account holding the IAM action retires a domain grant holding retire-grant', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    const grantId = await newGrant(alice, keyId, world.users.boss.accountId, ['describe-key', 'retire-grant'], { grantee_principal_type: 'domain' });
    const refused = await world.as('gus').kms('retire-grant', { key_id: keyId, grant_id: grantId });
    assert.deepEqual([refused.status, refused.body], [403, DENIED]);
    const r = await world.as('greg').kms('retire-grant', { key_id: keyId, grant_id: grantId });
    assert.deepEqual([r.status, r.body], [200, {}]);
  });

  // Huawei's retire-grant page (2026 edition): an IAM user needs kms:cmk:retireGrant (alias
  // kms:grant:retire) besides being named by the grant.
  test('a grantee holding retire-grant but not the IAM action may not retire: 403 KMS.0306 and the grant stays', async () => {
    const { keyId, grantId } = await setup(['describe-key', 'retire-grant']);
    const r = await world.as('gus').kms('retire-grant', { key_id: keyId, grant_id: grantId });
    assert.deepEqual([r.status, r.body], [403, DENIED]);
    assert.equal(await grantCount(keyId), 1);
  });

  test('a retiring principal without the IAM action may not retire: 403 KMS.0306 and the grant stays', async () => {
    const { keyId, grantId } = await setup(['describe-key'], { retiring_principal: world.users.gus.id });
    const r = await world.as('gus', 'aksk').kms('retire-grant', { key_id: keyId, grant_id: grantId });
    assert.deepEqual([r.status, r.body], [403, DENIED]);
    assert.equal(await grantCount(keyId), 1);
  });

  test("the key account's administrator retires a grant it issued: it holds every action", async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const grantId = await newGrant(admin, keyId, world.users.gus.id, ['describe-key']);
    const r = await admin.kms('retire-grant', { key_id: keyId, grant_id: grantId });
    assert.deepEqual([r.status, r.body], [200, {}]);
  });

  const REFUSED: Array<[string, string]> = [
    ['gus', 'the grantee without retire-grant'],
    ['admin', 'the key account administrator who did not issue it (revoke is its tool)'],
    ['boss', 'an administrator of another account'],
    ['nobody', 'a user of the key account without any role in the grant'],
  ];
  for (const [who, role] of REFUSED) {
    test(`${role} may not retire: 403 KMS.0306 and the grant stays`, async () => {
      const { keyId, grantId } = await setup();
      const r = await world.as(who).kms('retire-grant', { key_id: keyId, grant_id: grantId });
      assert.deepEqual([r.status, r.body], [403, DENIED]);
      assert.equal(await grantCount(keyId), 1);
    });
  }

  test('from the moment retire returns 200 the grantee is denied: its very next request gets 403', async () => {
    const { keyId, grantId } = await setup(['describe-key']);
    const gus = world.as('gus', 'aksk');
    const before = await gus.kms('describe-key', { key_id: keyId });
    assert.equal(before.status, 200);
    const retired = await world.as('rita').kms('retire-grant', { key_id: keyId, grant_id: grantId });
    assert.equal(retired.status, 200);
    const afterRetire = await gus.kms('describe-key', { key_id: keyId });
    assert.deepEqual([afterRetire.status, afterRetire.body], [403, DENIED]);
  });

  test('retiring an ended grant again is 400 KMS.2501', async () => {
    const { keyId, grantId } = await setup();
    assert.equal((await world.as('rita').kms('retire-grant', { key_id: keyId, grant_id: grantId })).status, 200);
    const again = await world.as('rita').kms('retire-grant', { key_id: keyId, grant_id: grantId });
    assert.deepEqual([again.status, again.body], [400, ERR(DECISIONS.noSuchGrant, 'Invalid grant ID.')]);
  });

  test('a grant of another key is 400 KMS.2502; an unknown grant 400 KMS.2501', async () => {
    const { grantId } = await setup();
    const otherKey = await newKey(world.as('alice'));
    const r = await world.as('rita').kms('retire-grant', { key_id: otherKey, grant_id: grantId });
    assert.deepEqual([r.status, r.body], [400, ERR(DECISIONS.grantOnAnotherKey, 'grant_id and key_id do not match.')]);
    const unknown = await world.as('rita').kms('retire-grant', { key_id: otherKey, grant_id: 'a'.repeat(64) });
    assert.deepEqual([unknown.status, unknown.body], [400, NO_GRANT]);
  });

  test('an upper-case grant id names the same grant', async () => {
    const { keyId, grantId } = await setup();
    const r = await world.as('rita').kms('retire-grant', { key_id: keyId, grant_id: grantId.toUpperCase() });
    assert.deepEqual([r.status, r.body], [200, {}]);
  });

  const BAD: Array<[string, (k: string, g: string) => unknown, number, object]> = [
    ['a malformed grant id', (k) => ({ key_id: k, grant_id: 'xyz' }), 400, NO_GRANT],
    ['a grant id of 63 characters', (k, g) => ({ key_id: k, grant_id: g.slice(1) }), 400, NO_GRANT],
    ['no grant id', (k) => ({ key_id: k }), 400, ERR('KMS.0204', 'Parameters missing in the request message.')],
    ['a malformed key id', (_k, g) => ({ key_id: 'abc', grant_id: g }), 400, ERR('KMS.0205', 'Invalid key ID.')],
    ['an unknown key', (_k, g) => ({ key_id: randomKeyId(), grant_id: g }), 404, ERR('KMS.0207', 'The key does not exist.')],
    ['a bad sequence', (k, g) => ({ key_id: k, grant_id: g, sequence: 'x'.repeat(37) }), 400, ERR('KMS.0206', 'Invalid sequence number.')],
    ['a body that is not JSON', () => '{"key_id": ', 400, ERR('KMS.0202', 'Invalid JSON format of the request message.')],
    ['a JSON array body', () => '[]', 400, ERR('KMS.0202', 'Invalid JSON format of the request message.')],
  ];
  for (const [what, body, status, error] of BAD) {
    test(`${what}: ${status} and the grant stays`, async () => {
      const { keyId, grantId } = await setup();
      const r = await world.as('rita').kms('retire-grant', body(keyId, grantId));
      assert.deepEqual([r.status, r.body], [status, error]);
      assert.equal(await grantCount(keyId), 1);
    });
  }

  test('retire works on a disabled key and on one pending deletion', async () => {
    for (const change of [{ op: 'disable-key' }, { op: 'schedule-key-deletion', pending_days: '7' }]) {
      const { keyId, grantId } = await setup();
      const { op, ...rest } = change;
      assert.equal((await world.as('alice').kms(op, { key_id: keyId, ...rest })).status, 200);
      const r = await world.as('rita').kms('retire-grant', { key_id: keyId, grant_id: grantId });
      assert.deepEqual([r.status, r.body], [200, {}], op);
    }
  });
});
