import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, newGrant, newKey, startWorld, type World } from '../harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

describe('create-datakey', () => {
  test('a 256-bit data key by default: upper-case hex plaintext and ciphertext; decrypt-datakey gives it back', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const r = await admin.kms('create-datakey', { key_id: keyId });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body), ['key_id', 'plain_text', 'cipher_text']);
    assert.match(r.body.plain_text, /^[0-9A-F]{64}$/);
    assert.match(r.body.cipher_text, /^[0-9A-F]+$/);
    const back = await admin.kms('decrypt-datakey', { key_id: keyId, cipher_text: r.body.cipher_text, datakey_cipher_length: '32' });
    assert.equal(back.body.data_key, r.body.plain_text);
  });

  const SIZES: Array<[Record<string, unknown>, number]> = [
    [{ key_spec: 'AES_128' }, 16], [{ key_spec: 'AES_256' }, 32], [{ key_spec: 'HMAC_512' }, 64], [{ key_spec: 'SM4' }, 16],
    [{ datakey_length: '8' }, 1], [{ datakey_length: 512 }, 64], [{ datakey_length: '8192' }, 1024],
    [{ key_spec: 'AES_128', datakey_length: '384' }, 48],
  ];
  for (const [body, bytes] of SIZES) {
    test(`${JSON.stringify(body)} gives ${bytes} bytes`, async () => {
      const keyId = await newKey(world.as('admin'));
      const r = await world.as('admin').kms('create-datakey', { key_id: keyId, ...body });
      assert.equal(r.body.plain_text.length, bytes * 2);
    });
  }

  const BAD: Array<[Record<string, unknown>, string, string]> = [
    [{ datakey_length: '7' }, 'KMS.1901', 'datakey_length must be in the range 8 bits to 8,192 bits.'],
    [{ datakey_length: '8200' }, 'KMS.1901', 'datakey_length must be in the range 8 bits to 8,192 bits.'],
    [{ datakey_length: '12' }, 'KMS.1903', 'datakey_length must be a multiple of 8.'],
    [{ datakey_length: 'big' }, 'KMS.1901', 'datakey_length must be in the range 8 bits to 8,192 bits.'],
    [{ key_spec: 'DES' }, 'KMS.1902', 'key_spec can only be AES_128 or AES_256.'],
  ];
  for (const [body, code, message] of BAD) {
    test(`${JSON.stringify(body)} is 400 ${code}`, async () => {
      const keyId = await newKey(world.as('admin'));
      const r = await world.as('admin').kms('create-datakey', { key_id: keyId, ...body });
      assert.deepEqual([r.status, r.body], [400, ERR(code, message)]);
    });
  }

  test('a grantee needs create-datakey itself; create-datakey-without-plaintext does not cover it', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    await newGrant(admin, keyId, world.users.gus.id, ['create-datakey-without-plaintext']);
    const r = await world.as('gus').kms('create-datakey', { key_id: keyId });
    assert.deepEqual([r.status, r.body], [403, ERR('KMS.0306', 'No access permissions.')]);
    await newGrant(admin, keyId, world.users.gus.id, ['create-datakey']);
    assert.equal((await world.as('gus').kms('create-datakey', { key_id: keyId })).status, 200);
  });
});
