import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { ERR, newKey, startWorld, type World } from '../harness.ts';

/** Issue 12: create-rsa-datakey-pair / create-ec-datakey-pair and re-encrypt. */
let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

describe('data key pairs', () => {
  for (const [op, spec] of [['create-rsa-datakey-pair', 'RSA_2048'], ['create-ec-datakey-pair', 'ECC_NIST_P256'], ['create-ec-datakey-pair', 'ECC_SECG_P256K1'], ['create-ec-datakey-pair', 'SM2']]) {
    test(`${op} ${spec}: the private key matches the public key, and decrypt-data opens its ciphertext`, async () => {
      const alice = world.as('alice');
      const keyId = await newKey(alice);
      const r = await alice.kms(op, { key_id: keyId, key_spec: spec, additional_authenticated_data: 'pair' });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(Object.keys(r.body).sort(), ['key_id', 'key_spec', 'private_key_cipher_text', 'private_key_plain_text', 'public_key']);
      const priv = createPrivateKey({ key: Buffer.from(r.body.private_key_plain_text, 'base64'), format: 'der', type: 'pkcs8' });
      assert.equal(createPublicKey(priv).export({ type: 'spki', format: 'pem' }), r.body.public_key.replace(/\r\n/g, '\n'));
      const d = await alice.kms('decrypt-data', { cipher_text: r.body.private_key_cipher_text, additional_authenticated_data: 'pair' });
      assert.equal(d.body.plain_text_base64, r.body.private_key_plain_text);
      const without = await alice.kms(op, { key_id: keyId, key_spec: spec, with_plain_text: false });
      assert.deepEqual(Object.keys(without.body).sort(), ['key_id', 'key_spec', 'private_key_cipher_text', 'public_key']);
    });
  }

  test('a pair needs a symmetric key (KMS.0325) and a spec of its family (KMS.0308)', async () => {
    const alice = world.as('alice');
    const r = await alice.kms('create-rsa-datakey-pair', { key_id: await newKey(alice), key_spec: 'ECC_NIST_P256' });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0308', 'Invalid parameter.')]);
    const a = await alice.kms('create-ec-datakey-pair', { key_id: await newKey(alice, { key_spec: 'RSA_2048', key_usage: 'ENCRYPT_DECRYPT' }), key_spec: 'ECC_NIST_P256' });
    assert.deepEqual([a.status, a.body], [400, ERR('KMS.0325', 'The asymmetric key is not support this operation.')]);
  });

});
