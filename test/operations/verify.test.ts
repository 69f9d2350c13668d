import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHash, createPrivateKey, sign } from 'node:crypto';
import { ERR, keyMaterial, newKey, startWorld, type World } from '../harness.ts';

/** Issue 12: verify answers signature_valid as the string "true" / "false"; errors with whole bodies. */
let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64');
const digest = (s: string, hash = 'sha256') => createHash(hash).update(s).digest();

describe('verify', () => {
  test('garbage, an empty-looking or a truncated signature is "false", never an error', async () => {
    const alice = world.as('alice');
    for (const [spec, algorithm] of [['EC_P256', 'ECDSA_SHA_256'], ['RSA_2048', 'RSASSA_PSS_SHA_256'], ['RSA_2048', 'RSASSA_PKCS1_V1_5_SHA_256']]) {
      const keyId = await newKey(alice, { key_spec: spec });
      const real = (await alice.kms('sign', { key_id: keyId, message: b64(digest('m')), signing_algorithm: algorithm })).body.signature;
      for (const signature of [b64('garbage'), 'AA==', b64(Buffer.from(real, 'base64').subarray(1))]) {
        for (const messageType of ['DIGEST', 'RAW']) {
          const r = await alice.kms('verify', { key_id: keyId, message: b64(digest('m')), signature, signing_algorithm: algorithm, message_type: messageType });
          assert.deepEqual([r.status, r.body], [200, { key_id: keyId, signature_valid: 'false' }], `${spec} ${algorithm} ${messageType}`);
        }
      }
    }
  });

  test('RSASSA-PSS signatures made elsewhere with another salt length verify (DIGEST and RAW)', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice, { key_spec: 'RSA_2048' });
    const privateKey = createPrivateKey({ key: await keyMaterial(world, keyId, 1), format: 'der', type: 'pkcs8' });
    const signature = sign('sha256', Buffer.from('m'), { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 0 });
    for (const [messageType, message] of [['DIGEST', digest('m')], ['RAW', Buffer.from('m')]] as const) {
      const r = await alice.kms('verify', { key_id: keyId, message: b64(message), signature: b64(signature), signing_algorithm: 'RSASSA_PSS_SHA_256', message_type: messageType });
      assert.equal(r.body.signature_valid, 'true', messageType);
    }
  });

  const BAD: Array<[string, Record<string, unknown>, Record<string, unknown>, unknown]> = [
    ['no signature', { key_spec: 'EC_P256' }, { message: b64(digest('m')), signing_algorithm: 'ECDSA_SHA_256' }, ERR('KMS.0204', 'Parameters missing in the request message.')],
    ['no signing_algorithm', { key_spec: 'EC_P256' }, { message: b64(digest('m')), signature: b64('s') }, ERR('KMS.0204', 'Parameters missing in the request message.')],
    ['a signature that is not base64', { key_spec: 'EC_P256' }, { message: b64(digest('m')), signature: '*', signing_algorithm: 'ECDSA_SHA_256' }, ERR('KMS.0308', 'Invalid parameter.')],
    ['an unknown message_type', { key_spec: 'EC_P256' }, { message: b64(digest('m')), signature: b64('s'), signing_algorithm: 'ECDSA_SHA_256', message_type: 'HASH' }, ERR('KMS.0308', 'Invalid parameter.')],
    ['a SHA-384 digest for ECDSA_SHA_256', { key_spec: 'EC_P256' }, { message: b64(digest('m', 'sha384')), signature: b64('s'), signing_algorithm: 'ECDSA_SHA_256' }, ERR('KMS.0329', 'Hash algorithm does not match the digest length.')],
    ['ED25519_PH_SHA_512', { key_spec: 'ED25519' }, { message: b64('m'), signature: b64('s'), signing_algorithm: 'ED25519_PH_SHA_512', message_type: 'RAW' }, ERR('KMS.0332', 'This key is not support the signing algorithm.')],
    ['an SM4 key', { key_spec: 'SM4' }, { message: b64(digest('m')), signature: b64('s'), signing_algorithm: 'SM2DSA_SM3' }, ERR('KMS.1115', 'Symmetric keys do not support to sign/verify.')],
  ];
  for (const [what, keyBody, body, expected] of BAD) {
    test(`${what} is 400`, async () => {
      const keyId = await newKey(world.as('alice'), keyBody);
      const r = await world.as('alice').kms('verify', { key_id: keyId, ...body });
      assert.deepEqual([r.status, r.body], [400, expected]);
    });
  }
});
