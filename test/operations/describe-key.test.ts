import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, hex, newGrant, newKey, randomKeyId, startWorld, type World } from '../harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

describe('describe-key', () => {
  test('answers every KeyDetails field as a string', async () => {
    const alias = `d-${hex(4)}`;
    const keyId = await newKey(world.as('admin'), { key_alias: alias });
    const r = await world.as('reader').kms('describe-key', { key_id: keyId });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      key_info: {
        key_id: keyId, domain_id: world.users.admin.accountId, key_alias: alias, realm: 'cn-north-4', key_spec: 'AES_256',
        key_usage: 'ENCRYPT_DECRYPT', key_description: '', creation_date: String(world.clock.now()), scheduled_deletion_date: '',
        key_state: '2', default_key_flag: '0', key_type: '1', expiration_time: '', origin: 'kms', key_rotation_enabled: 'false',
        sys_enterprise_project_id: '0', keystore_id: '0',
      },
    });
  });

  test('a grantee holding describe-key (user or whole account) may describe; one without may not', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    await newGrant(admin, keyId, world.users.gus.id, ['describe-key']);
    await newGrant(admin, keyId, world.users.gina.id, ['encrypt-data']);
    assert.equal((await world.as('gus').kms('describe-key', { key_id: keyId })).status, 200);
    const gina = await world.as('gina').kms('describe-key', { key_id: keyId });
    assert.deepEqual([gina.status, gina.body], [403, ERR('KMS.0306', 'No access permissions.')]);
    await newGrant(admin, keyId, world.users.boss.accountId, ['describe-key'], { grantee_principal_type: 'domain' });
    assert.equal((await world.as('rita').kms('describe-key', { key_id: keyId })).status, 200);
  });

  test('another account without a grant, and a user without kms:cmk:get, are refused', async () => {
    const keyId = await newKey(world.as('admin'));
    for (const who of ['boss', 'nobody']) {
      const r = await world.as(who).kms('describe-key', { key_id: keyId });
      assert.deepEqual([r.status, r.body], [403, ERR('KMS.0306', 'No access permissions.')], who);
    }
  });

  test('bad and unknown key ids', async () => {
    const admin = world.as('admin');
    const cases: Array<[unknown, number, object]> = [
      [{}, 400, ERR('KMS.0204', 'Parameters missing in the request message.')],
      [{ key_id: 'abc' }, 400, ERR('KMS.0205', 'Invalid key ID.')],
      [{ key_id: ['x'] }, 400, ERR('KMS.0205', 'Invalid key ID.')],
      [{ key_id: randomKeyId() }, 404, ERR('KMS.0207', 'The key does not exist.')],
    ];
    for (const [body, status, error] of cases) {
      const r = await admin.kms('describe-key', body);
      assert.deepEqual([r.status, r.body], [status, error], JSON.stringify(body));
    }
  });
});
