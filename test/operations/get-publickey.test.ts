import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { ERR, keyMaterial, newGrant, newKey, startWorld, type World } from '../harness.ts';

/** Issue 12: get-publickey answers the SubjectPublicKeyInfo PEM of the key's own private key. */
let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const DENIED = ERR('KMS.0306', 'No access permissions.');

describe('get-publickey', () => {
  for (const [spec, usage, type] of [
    ['RSA_2048', 'SIGN_VERIFY', 'rsa'], ['RSA_4096', 'ENCRYPT_DECRYPT', 'rsa'], ['EC_P256', 'SIGN_VERIFY', 'ec'], ['EC_P384', 'SIGN_VERIFY', 'ec'],
    ['SECP256K1', 'SIGN_VERIFY', 'ec'], ['SM2', 'SIGN_VERIFY', undefined], ['ED25519', 'SIGN_VERIFY', 'ed25519'],
  ] as const) {
    test(`${spec} ${usage}: a PEM public key with \\r\\n line ends, the public half of the sealed private key`, async () => {
      const alice = world.as('alice');
      const keyId = await newKey(alice, { key_spec: spec, key_usage: usage });
      const r = await alice.kms('get-publickey', { key_id: keyId, sequence: '919c82d4-8046-4722-9094-35c3c6524cff' });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(Object.keys(r.body), ['key_id', 'public_key']);
      assert.equal(r.body.key_id, keyId);
      assert.match(r.body.public_key, /^-----BEGIN PUBLIC KEY-----\r\n([A-Za-z0-9+/=]{1,64}\r\n)+-----END PUBLIC KEY-----\r\n$/);
      const publicKey = createPublicKey(r.body.public_key);
      assert.equal(publicKey.asymmetricKeyType, type);
      const own = createPublicKey(createPrivateKey({ key: await keyMaterial(world, keyId, 1), format: 'der', type: 'pkcs8' }));
      assert.deepEqual(publicKey.export({ type: 'spki', format: 'der' }), own.export({ type: 'spki', format: 'der' }));
    });
  }

  const BAD: Array<[string, Record<string, unknown> | null, number, unknown]> = [
    ['an AES key', {}, 400, ERR('KMS.0331', 'The symmetric key is not support this operation.')],
    ['an SM4 key', { key_spec: 'SM4' }, 400, ERR('KMS.0331', 'The symmetric key is not support this operation.')],
    ['an HMAC key', { key_spec: 'HMAC_512' }, 400, ERR('KMS.0341', 'The hmac key do not support this operation.')],
    ['an unknown key', null, 404, ERR('KMS.0207', 'The key does not exist.')],
  ];
  for (const [what, keyBody, status, expected] of BAD) {
    test(`${what} is ${status}`, async () => {
      const alice = world.as('alice');
      const keyId = keyBody === null ? crypto.randomUUID() : await newKey(alice, keyBody);
      const r = await alice.kms('get-publickey', { key_id: keyId });
      assert.deepEqual([r.status, r.body], [status, expected]);
    });
  }

  test('a malformed key_id is 400 KMS.0205; none is KMS.0204', async () => {
    const alice = world.as('alice');
    assert.deepEqual(await alice.kms('get-publickey', { key_id: 'nope' }).then((r) => [r.status, r.body]), [400, ERR('KMS.0205', 'Invalid key ID.')]);
    assert.deepEqual(await alice.kms('get-publickey', {}).then((r) => [r.status, r.body]), [400, ERR('KMS.0204', 'Parameters missing in the request message.')]);
  });

  test('a key pending deletion is KMS.0210', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice, { key_spec: 'EC_P256' });
    await alice.kms('schedule-key-deletion', { key_id: keyId, pending_days: '7' });
    const r = await alice.kms('get-publickey', { key_id: keyId });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0210', 'The key is in Scheduled deletion state and cannot be used.')]);
  });

  test('only users of the key\'s account with the action: not another account, not a grantee, not a reader', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin, { key_spec: 'EC_P256' });
    await newGrant(admin, keyId, world.users.gus.id, ['describe-key', 'encrypt-data', 'decrypt-data']);
    await newGrant(admin, keyId, world.users.gina.id, ['describe-key']);
    for (const who of ['boss', 'gus', 'gina', 'reader', 'nobody']) {
      const r = await world.as(who).kms('get-publickey', { key_id: keyId });
      assert.deepEqual([r.status, r.body], [403, DENIED], who);
    }
    assert.equal((await world.as('alice', 'aksk').kms('get-publickey', { key_id: keyId })).status, 200);
  });
});
