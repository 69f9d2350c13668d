import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, newGrant, newKey, startWorld, type World } from '../harness.ts';

/** Issue 12: verify-mac answers mac_valid as a JSON boolean; errors with whole bodies. */
let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64');
const DENIED = ERR('KMS.0306', 'No access permissions.');

describe('verify-mac', () => {
  test('a MAC of another key, a cut MAC or the right MAC in upper case: false, false, true', async () => {
    const alice = world.as('alice');
    const [k1, k2] = [await newKey(alice, { key_spec: 'HMAC_256' }), await newKey(alice, { key_spec: 'HMAC_256' })];
    const mac = (await alice.kms('generate-mac', { key_id: k1, mac_algorithm: 'HMAC_SHA_256', message: b64('m') })).body.mac;
    const other = await alice.kms('verify-mac', { key_id: k2, mac_algorithm: 'HMAC_SHA_256', message: b64('m'), mac });
    assert.deepEqual([other.status, other.body], [200, { key_id: k2, mac_algorithm: 'HMAC_SHA_256', mac_valid: false }]);
    const cut = await alice.kms('verify-mac', { key_id: k1, mac_algorithm: 'HMAC_SHA_256', message: b64('m'), mac: mac.slice(0, 32) });
    assert.equal(cut.body.mac_valid, false);
    const same = await alice.kms('verify-mac', { key_id: k1, mac_algorithm: 'HMAC_SHA_256', message: b64('m'), mac: mac.toUpperCase() });
    assert.equal(same.body.mac_valid, true);
    assert.match(mac, /^[0-9a-f]{64}$/);
  });

  const BAD: Array<[string, Record<string, unknown>, Record<string, unknown>, unknown]> = [
    ['no mac', { key_spec: 'HMAC_256' }, { mac_algorithm: 'HMAC_SHA_256', message: b64('m') }, ERR('KMS.0204', 'Parameters missing in the request message.')],
    ['a mac that is not hex', { key_spec: 'HMAC_256' }, { mac_algorithm: 'HMAC_SHA_256', message: b64('m'), mac: 'not hex!' }, ERR('KMS.0308', 'Invalid parameter.')],
    ['an unknown mac_algorithm', { key_spec: 'HMAC_256' }, { mac_algorithm: 'HMAC_MD5', message: b64('m'), mac: 'ab' }, ERR('KMS.0308', 'Invalid parameter.')],
    ['a message of 4097 bytes', { key_spec: 'HMAC_256' }, { mac_algorithm: 'HMAC_SHA_256', message: b64(Buffer.alloc(4097)), mac: 'ab' }, ERR('KMS.0308', 'Invalid parameter.')],
    ['an empty message', { key_spec: 'HMAC_256' }, { mac_algorithm: 'HMAC_SHA_256', message: '', mac: 'ab' }, ERR('KMS.0204', 'Parameters missing in the request message.')],
    ['an EC key', { key_spec: 'EC_P256' }, { mac_algorithm: 'HMAC_SHA_256', message: b64('m'), mac: 'ab' }, ERR('KMS.0325', 'The asymmetric key is not support this operation.')],
  ];
  for (const [what, keyBody, body, expected] of BAD) {
    test(`${what} is 400`, async () => {
      const keyId = await newKey(world.as('alice'), keyBody);
      const r = await world.as('alice').kms('verify-mac', { key_id: keyId, ...body });
      assert.deepEqual([r.status, r.body], [400, expected]);
    });
  }

  test('a disabled HMAC key is KMS.0209; another account, a grantee and a reader are 403, also after the grant is revoked', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin, { key_spec: 'HMAC_384' });
    const mac = (await admin.kms('generate-mac', { key_id: keyId, mac_algorithm: 'HMAC_SHA_384', message: b64('m') })).body.mac;
    const body = { key_id: keyId, mac_algorithm: 'HMAC_SHA_384', message: b64('m'), mac };
    const grant = await newGrant(admin, keyId, world.users.gus.id, ['describe-key']);
    for (const who of ['boss', 'gus', 'reader']) assert.deepEqual(await world.as(who).kms('verify-mac', body).then((r) => [r.status, r.body]), [403, DENIED], who);
    assert.equal((await admin.kms('revoke-grant', { key_id: keyId, grant_id: grant })).status, 200);
    assert.deepEqual(await world.as('gus').kms('verify-mac', body).then((r) => [r.status, r.body]), [403, DENIED]);
    await admin.kms('disable-key', { key_id: keyId });
    assert.deepEqual(await admin.kms('verify-mac', body).then((r) => [r.status, r.body]), [400, ERR('KMS.0209', 'The key has been disabled.')]);
  });
});
