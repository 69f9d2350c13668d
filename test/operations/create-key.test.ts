import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, hex, startWorld, type World } from '../harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

describe('create-key', () => {
  test('creates an enabled AES_256 key and answers key_id, domain_id and region_id', async () => {
    const alias = `app-${hex(4)}`;
    const r = await world.as('admin', 'aksk').kms('create-key', { key_alias: alias, key_description: 'for the app' });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body.key_info), ['key_id', 'domain_id', 'region_id']);
    assert.match(r.body.key_info.key_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(r.body.key_info.domain_id, world.users.admin.accountId);
    assert.equal(r.body.key_info.region_id, 'cn-north-4');
    const d = await world.as('admin').kms('describe-key', { key_id: r.body.key_info.key_id });
    assert.deepEqual(
      [d.body.key_info.key_alias, d.body.key_info.key_state, d.body.key_info.key_spec, d.body.key_info.key_usage, d.body.key_info.key_description, d.body.key_info.origin],
      [alias, '2', 'AES_256', 'ENCRYPT_DECRYPT', 'for the app', 'kms'],
    );
  });

  test('SM4 keys and external keys (pending import, state "5")', async () => {
    const admin = world.as('admin');
    const sm4 = await admin.kms('create-key', { key_alias: `sm4-${hex(4)}`, key_spec: 'SM4' });
    const ext = await admin.kms('create-key', { key_alias: `ext-${hex(4)}`, origin: 'external' });
    const d1 = await admin.kms('describe-key', { key_id: sm4.body.key_info.key_id });
    const d2 = await admin.kms('describe-key', { key_id: ext.body.key_info.key_id });
    assert.deepEqual([d1.body.key_info.key_spec, d1.body.key_info.key_state], ['SM4', '2']);
    assert.deepEqual([d2.body.key_info.origin, d2.body.key_info.key_state], ['external', '5']);
  });

  const BAD: Array<[string, Record<string, unknown>, string, string]> = [
    ['no alias', {}, 'KMS.0204', 'Parameters missing in the request message.'],
    ['an alias with a space', { key_alias: 'a b' }, 'KMS.1101', 'Invalid key_alias.'],
    ['an alias of 256 characters', { key_alias: 'a'.repeat(256) }, 'KMS.1101', 'Invalid key_alias.'],
    ['an alias ending in /default', { key_alias: 'mine/default' }, 'KMS.1101', 'Invalid key_alias.'],
    ['a description of 256 characters', { key_alias: 'x1', key_description: 'd'.repeat(256) }, 'KMS.1103', 'Invalid key_description.'],
    ['a spec the documentation does not list', { key_alias: 'x2', key_spec: 'RSA_1024' }, 'KMS.1110', 'Invalid alg_type.'],
    ['ENCRYPT_DECRYPT on an EC key', { key_alias: 'x8', key_spec: 'EC_P256', key_usage: 'ENCRYPT_DECRYPT' }, 'KMS.1114', 'EC keys do not support to encrypt/decrypt.'],
    ['ENCRYPT_DECRYPT on an Ed25519 key', { key_alias: 'x9', key_spec: 'ED25519', key_usage: 'ENCRYPT_DECRYPT' }, 'KMS.1114', 'EC keys do not support to encrypt/decrypt.'],
    ['SIGN_VERIFY on an HMAC key', { key_alias: 'x10', key_spec: 'HMAC_256', key_usage: 'SIGN_VERIFY' }, 'KMS.0341', 'The hmac key do not support this operation.'],
    ['GENERATE_VERIFY_MAC on an RSA key', { key_alias: 'x11', key_spec: 'RSA_2048', key_usage: 'GENERATE_VERIFY_MAC' }, 'KMS.0308', 'Invalid parameter.'],
    ['GENERATE_VERIFY_MAC on an AES key', { key_alias: 'x12', key_usage: 'GENERATE_VERIFY_MAC' }, 'KMS.0308', 'Invalid parameter.'],
    ['an external asymmetric key', { key_alias: 'x13', key_spec: 'EC_P256', origin: 'external' }, 'KMS.0308', 'Invalid parameter.'],
    ['an unknown spec', { key_alias: 'x3', key_spec: 'AES-999' }, 'KMS.1110', 'Invalid alg_type.'],
    ['SIGN_VERIFY on a symmetric key', { key_alias: 'x4', key_usage: 'SIGN_VERIFY' }, 'KMS.1115', 'Symmetric keys do not support to sign/verify.'],
    ['an unknown usage', { key_alias: 'x5', key_usage: 'WRAP' }, 'KMS.0308', 'Invalid parameter.'],
    ['an unknown origin', { key_alias: 'x6', origin: 'hsm' }, 'KMS.0308', 'Invalid parameter.'],
    ['a bad sequence', { key_alias: 'x7', sequence: '1' }, 'KMS.0206', 'Invalid sequence number.'],
  ];
  for (const [what, body, code, message] of BAD) {
    test(`${what} is 400 ${code} and creates nothing`, async () => {
      const admin = world.as('admin');
      const before = (await admin.kms('list-keys', { key_spec: 'ALL' })).body.total;
      const r = await admin.kms('create-key', body);
      assert.deepEqual([r.status, r.body], [400, ERR(code, message)]);
      assert.equal((await admin.kms('list-keys', { key_spec: 'ALL' })).body.total, before);
    });
  }

  test('an alias already used in the account is 400 KMS.1104; another account may use it', async () => {
    const alias = `dup-${hex(4)}`;
    assert.equal((await world.as('admin').kms('create-key', { key_alias: alias })).status, 200);
    const again = await world.as('alice').kms('create-key', { key_alias: alias });
    assert.deepEqual([again.status, again.body], [400, ERR('KMS.1104', 'Duplicate key aliases.')]);
    assert.equal((await world.as('boss').kms('create-key', { key_alias: alias })).status, 200);
  });

  for (const who of ['nobody', 'reader', 'gina']) {
    test(`${who}, without kms:cmk:create, is refused: 403 KMS.0306`, async () => {
      const r = await world.as(who).kms('create-key', { key_alias: `k-${hex(4)}` });
      assert.deepEqual([r.status, r.body], [403, ERR('KMS.0306', 'No access permissions.')]);
    });
  }
});

describe('create-key quota', () => {
  test('past the CMK quota the next key is 400 KMS.1105', async () => {
    const small = await startWorld({ config: { maxKeys: 2 } });
    try {
      const admin = small.as('admin');
      for (let i = 0; i < 2; i++) assert.equal((await admin.kms('create-key', { key_alias: `q${i}` })).status, 200);
      const r = await admin.kms('create-key', { key_alias: 'q2' });
      assert.deepEqual([r.status, r.body], [400, ERR('KMS.1105', 'Too many keys.')]);
    } finally {
      await small.close();
    }
  });
});
