import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt } from 'node:crypto';
import { ERR, newGrant, newKey, startWorld, type World } from '../harness.ts';

/** Issue 12: create-rsa-datakey-pair (create-ec-datakey-pair shares its code; see its own file). */
let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const DENIED = ERR('KMS.0306', 'No access permissions.');

describe('create-rsa-datakey-pair', () => {
  for (const spec of ['RSA_3072', 'RSA_4096']) {
    test(`${spec}: a working key pair; its ciphertext opens only with the same AAD`, async () => {
      const alice = world.as('alice');
      const keyId = await newKey(alice);
      const r = await alice.kms('create-rsa-datakey-pair', { key_id: keyId, key_spec: spec, with_plain_text: 'true', additional_authenticated_data: 'ctx' });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual([r.body.key_id, r.body.key_spec], [keyId, spec]);
      const privateKey = createPrivateKey({ key: Buffer.from(r.body.private_key_plain_text, 'base64'), format: 'der', type: 'pkcs8' });
      assert.equal(privateKey.asymmetricKeyDetails?.modulusLength, Number(spec.slice(4)));
      const sealed = publicEncrypt({ key: createPublicKey(r.body.public_key), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from('pair'));
      assert.equal(privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, sealed).toString(), 'pair');
      const wrong = await alice.kms('decrypt-data', { cipher_text: r.body.private_key_cipher_text, additional_authenticated_data: 'other' });
      assert.deepEqual([wrong.status, wrong.body], [400, ERR('KMS.2201', 'Invalid cipher_text.')]);
      const right = await alice.kms('decrypt-data', { cipher_text: r.body.private_key_cipher_text, additional_authenticated_data: 'ctx' });
      assert.equal(right.body.plain_text_base64, r.body.private_key_plain_text);
    });
  }

  test('with_plain_text false leaves the private key out entirely', async () => {
    const alice = world.as('alice');
    const r = await alice.kms('create-rsa-datakey-pair', { key_id: await newKey(alice), key_spec: 'RSA_2048', with_plain_text: false });
    assert.deepEqual(Object.keys(r.body).sort(), ['key_id', 'key_spec', 'private_key_cipher_text', 'public_key']);
  });

  const BAD: Array<[string, Record<string, unknown> | null, Record<string, unknown>, number, unknown]> = [
    ['an EC spec', {}, { key_spec: 'ECC_NIST_P256' }, 400, ERR('KMS.0308', 'Invalid parameter.')],
    ['no key_spec', {}, {}, 400, ERR('KMS.0204', 'Parameters missing in the request message.')],
    ['a with_plain_text that is not a boolean', {}, { key_spec: 'RSA_2048', with_plain_text: 'maybe' }, 400, ERR('KMS.0308', 'Invalid parameter.')],
    ['an HMAC key', { key_spec: 'HMAC_256' }, { key_spec: 'RSA_2048' }, 400, ERR('KMS.0341', 'The hmac key do not support this operation.')],
    ['a signing key', { key_spec: 'EC_P256' }, { key_spec: 'RSA_2048' }, 400, ERR('KMS.0335', 'The cmk is used to sign and verify.')],
    ['an unknown key', null, { key_spec: 'RSA_2048' }, 404, ERR('KMS.0207', 'The key does not exist.')],
  ];
  for (const [what, keyBody, body, status, expected] of BAD) {
    test(`${what} is ${status}`, async () => {
      const alice = world.as('alice');
      const keyId = keyBody === null ? crypto.randomUUID() : await newKey(alice, keyBody);
      const r = await alice.kms('create-rsa-datakey-pair', { key_id: keyId, ...body });
      assert.deepEqual([r.status, r.body], [status, expected]);
    });
  }

  test('a disabled key is KMS.0209; another account and a grantee holding every grant operation are 403', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    await newGrant(admin, keyId, world.users.gus.id, ['create-datakey', 'create-datakey-without-plaintext', 'encrypt-data', 'decrypt-data', 'describe-key']);
    for (const who of ['gus', 'boss', 'reader']) {
      const r = await world.as(who).kms('create-rsa-datakey-pair', { key_id: keyId, key_spec: 'RSA_2048' });
      assert.deepEqual([r.status, r.body], [403, DENIED], who);
    }
    await admin.kms('disable-key', { key_id: keyId });
    const r = await admin.kms('create-rsa-datakey-pair', { key_id: keyId, key_spec: 'RSA_2048' });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0209', 'The key has been disabled.')]);
  });
});
