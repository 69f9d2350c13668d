import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { ERR, hex, newKey, startWorld, type World } from '../harness.ts';

/** Issue 12: create-key with the asymmetric and HMAC specs. */
let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

async function publicKeyOf(keyId: string) {
  return createPublicKey((await world.as('alice').kms('get-publickey', { key_id: keyId })).body.public_key);
}

describe('keys', () => {
  test('describe-key and list-keys report every new spec with its default usage', async () => {
    const alice = world.as('alice');
    const expected: Record<string, string> = {
      RSA_2048: 'SIGN_VERIFY', EC_P256: 'SIGN_VERIFY', EC_P384: 'SIGN_VERIFY', SECP256K1: 'SIGN_VERIFY', SM2: 'SIGN_VERIFY',
      ED25519: 'SIGN_VERIFY', HMAC_384: 'GENERATE_VERIFY_MAC',
    };
    for (const [spec, usage] of Object.entries(expected)) {
      const keyId = await newKey(alice, { key_spec: spec });
      const d = await alice.kms('describe-key', { key_id: keyId });
      assert.deepEqual([d.body.key_info.key_spec, d.body.key_info.key_usage, d.body.key_info.key_state], [spec, usage, '2']);
      const l = await alice.kms('list-keys', { key_spec: spec });
      assert.ok(l.body.keys.includes(keyId), spec);
    }
  });

  test('asymmetric keys cannot rotate: 400 KMS.0324', async () => {
    const keyId = await newKey(world.as('alice'), { key_spec: 'RSA_2048', key_usage: 'ENCRYPT_DECRYPT' });
    const r = await world.as('alice').kms('enable-key-rotation', { key_id: keyId });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0324', 'RSA keys cannot be rotated.')]);
  });

  test('an RSA_4096 key being generated does not hold up other requests', async () => {
    const alice = world.as('alice');
    const creating = alice.kms('create-key', { key_alias: `big-${hex(4)}`, key_spec: 'RSA_4096' });
    const t0 = Date.now();
    assert.equal((await alice.kms('gen-random', { random_data_length: '256' })).status, 200);
    const quick = Date.now() - t0;
    assert.equal((await creating).status, 200);
    assert.ok(quick < 500, `gen-random took ${quick} ms while an RSA_4096 key was generated`);
  });
});

test('generated keys are real: the RSA public exponent is 65537 and the EC curve the spec says', async () => {
  const alice = world.as('alice');
  const rsa = await publicKeyOf(await newKey(alice, { key_spec: 'RSA_3072' }));
  assert.deepEqual([rsa.asymmetricKeyType, rsa.asymmetricKeyDetails?.modulusLength, rsa.asymmetricKeyDetails?.publicExponent], ['rsa', 3072, 65537n]);
  const ec = await publicKeyOf(await newKey(alice, { key_spec: 'EC_P384' }));
  assert.equal(ec.asymmetricKeyDetails?.namedCurve, 'secp384r1');
});
