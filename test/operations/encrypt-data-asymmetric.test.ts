import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createPublicKey, publicEncrypt } from 'node:crypto';
import { ERR, newGrant, newKey, startWorld, type World } from '../harness.ts';

/** Issue 12: encrypt-data / decrypt-data with RSA-OAEP under asymmetric ENCRYPT_DECRYPT keys. */
let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64');

async function publicKeyOf(keyId: string) {
  return createPublicKey((await world.as('alice').kms('get-publickey', { key_id: keyId })).body.public_key);
}

describe('asymmetric encryption', () => {
  for (const [algorithm, hash, limit] of [['RSAES_OAEP_SHA_256', 'sha256', 190], ['RSAES_OAEP_SHA_1', 'sha1', 214]] as const) {
    test(`RSA_2048 ${algorithm}: a ciphertext made outside kmsd decrypts in kmsd; ${limit} bytes fit, ${limit + 1} are KMS.2108`, async () => {
      const alice = world.as('alice');
      const keyId = await newKey(alice, { key_spec: 'RSA_2048', key_usage: 'ENCRYPT_DECRYPT' });
      const publicKey = await publicKeyOf(keyId);
      const outside = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, Buffer.from('made outside'));
      const d = await alice.kms('decrypt-data', { key_id: keyId, cipher_text: b64(outside), encryption_algorithm: algorithm });
      assert.deepEqual([d.status, d.body], [200, { key_id: keyId, plain_text: 'made outside', plain_text_base64: b64('made outside') }]);
      const e = await alice.kms('encrypt-data', { key_id: keyId, plain_text: 'x'.repeat(limit), encryption_algorithm: algorithm });
      assert.equal(e.status, 200, e.text);
      assert.equal(Buffer.from(e.body.cipher_text, 'base64').length, 256);
      const back = await alice.kms('decrypt-data', { key_id: keyId, cipher_text: e.body.cipher_text, encryption_algorithm: algorithm });
      assert.equal(back.body.plain_text, 'x'.repeat(limit));
      const over = await alice.kms('encrypt-data', { key_id: keyId, plain_text: 'x'.repeat(limit + 1), encryption_algorithm: algorithm });
      assert.deepEqual([over.status, over.body], [400, ERR('KMS.2108', 'The rsa encryption plain_text is over length.')]);
    });
  }

  test('decrypt-data of an RSA ciphertext needs key_id (KMS.0204); a signing key KMS.0335', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice, { key_spec: 'RSA_2048', key_usage: 'ENCRYPT_DECRYPT' });
    const e = await alice.kms('encrypt-data', { key_id: keyId, plain_text: 'x', encryption_algorithm: 'RSAES_OAEP_SHA_256' });
    const d = await alice.kms('decrypt-data', { cipher_text: e.body.cipher_text, encryption_algorithm: 'RSAES_OAEP_SHA_256' });
    assert.deepEqual([d.status, d.body], [400, ERR('KMS.0204', 'Parameters missing in the request message.')]);
    const signing = await newKey(alice, { key_spec: 'RSA_2048' });
    const g = await alice.kms('encrypt-data', { key_id: signing, plain_text: 'x', encryption_algorithm: 'RSAES_OAEP_SHA_256' });
    assert.deepEqual([g.status, g.body], [400, ERR('KMS.0335', 'The cmk is used to sign and verify.')]);
    const sym = await alice.kms('encrypt-data', { key_id: keyId, plain_text: 'x' });
    assert.deepEqual([sym.status, sym.body], [400, ERR('KMS.0325', 'The asymmetric key is not support this operation.')]);
  });

  test('encrypt-data and decrypt-data grants cover RSA-OAEP; after revoke the grantee is refused at once', async () => {
    const admin = world.as('admin');
    const gus = world.as('gus', 'aksk');
    const keyId = await newKey(admin, { key_spec: 'RSA_2048', key_usage: 'ENCRYPT_DECRYPT' });
    const grant = await newGrant(admin, keyId, world.users.gus.id, ['encrypt-data', 'decrypt-data']);
    const e = await gus.kms('encrypt-data', { key_id: keyId, plain_text: 'granted', encryption_algorithm: 'RSAES_OAEP_SHA_256' });
    assert.equal(e.status, 200, e.text);
    const body = { key_id: keyId, cipher_text: e.body.cipher_text, encryption_algorithm: 'RSAES_OAEP_SHA_256' };
    assert.equal((await gus.kms('decrypt-data', body)).body.plain_text, 'granted');
    assert.deepEqual(await world.as('boss').kms('decrypt-data', body).then((r) => [r.status, r.body]), [403, ERR('KMS.0306', 'No access permissions.')]);
    assert.equal((await admin.kms('revoke-grant', { key_id: keyId, grant_id: grant })).status, 200);
    assert.deepEqual(await gus.kms('decrypt-data', body).then((r) => [r.status, r.body]), [403, ERR('KMS.0306', 'No access permissions.')]);
  });
});
