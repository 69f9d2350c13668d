import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, newGrant, newKey, startWorld, type World } from '../harness.ts';

/** Issue 12: re-encrypt between any two keys the caller may use. */
let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const DENIED = ERR('KMS.0306', 'No access permissions.');
const INVALID = ERR('KMS.2201', 'Invalid cipher_text.');

describe('re-encrypt', () => {
  test('re-encrypt moves a ciphertext from an AES key to an RSA key and back, with AAD', async () => {
    const alice = world.as('alice');
    const aes = await newKey(alice);
    const rsa = await newKey(alice, { key_spec: 'RSA_3072', key_usage: 'ENCRYPT_DECRYPT' });
    const ct = (await alice.kms('encrypt-data', { key_id: aes, plain_text: 'moving', additional_authenticated_data: 'a1' })).body.cipher_text;
    const r = await alice.kms('re-encrypt', {
      cipher_text: ct, source_additional_authenticated_data: 'a1', destination_key_id: rsa, destination_encryption_algorithm: 'RSAES_OAEP_SHA_256',
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.body).sort(), ['cipher_text', 'destination_encryption_algorithm', 'key_id', 'source_encryption_algorithm', 'source_key_id']);
    assert.deepEqual([r.body.key_id, r.body.source_key_id, r.body.source_encryption_algorithm, r.body.destination_encryption_algorithm], [rsa, aes, 'SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_256']);
    const back = await alice.kms('re-encrypt', {
      cipher_text: r.body.cipher_text, source_key_id: rsa, source_encryption_algorithm: 'RSAES_OAEP_SHA_256', destination_key_id: aes,
      destination_additional_authenticated_data: 'a2',
    });
    assert.equal(back.status, 200, back.text);
    const d = await alice.kms('decrypt-data', { cipher_text: back.body.cipher_text, additional_authenticated_data: 'a2' });
    assert.equal(d.body.plain_text, 'moving');
    const noSource = await alice.kms('re-encrypt', { cipher_text: r.body.cipher_text, source_encryption_algorithm: 'RSAES_OAEP_SHA_256', destination_key_id: aes });
    assert.deepEqual([noSource.status, noSource.body], [400, ERR('KMS.0204', 'Parameters missing in the request message.')]);
  });

  test('re-encrypt needs decrypt-data on the source and encrypt-data on the destination', async () => {
    const admin = world.as('admin');
    const gus = world.as('gus');
    const source = await newKey(admin);
    const destination = await newKey(admin);
    const ct = (await admin.kms('encrypt-data', { key_id: source, plain_text: 'granted' })).body.cipher_text;
    const body = { cipher_text: ct, destination_key_id: destination };
    assert.deepEqual(await gus.kms('re-encrypt', body).then((r) => [r.status, r.body]), [403, DENIED]);
    const g1 = await newGrant(admin, source, world.users.gus.id, ['decrypt-data']);
    assert.deepEqual(await gus.kms('re-encrypt', body).then((r) => [r.status, r.body]), [403, DENIED]);
    await newGrant(admin, destination, world.users.gus.id, ['encrypt-data']);
    const ok = await gus.kms('re-encrypt', body);
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await admin.kms('decrypt-data', { cipher_text: ok.body.cipher_text })).body.plain_text, 'granted');
    assert.equal((await admin.kms('revoke-grant', { key_id: source, grant_id: g1 })).status, 200);
    assert.deepEqual(await gus.kms('re-encrypt', body).then((r) => [r.status, r.body]), [403, DENIED]);
  });
  test('from one AES key to another: the new ciphertext opens under the destination only', async () => {
    const alice = world.as('alice');
    const [a, b] = [await newKey(alice), await newKey(alice, { key_spec: 'SM4' })];
    const ct = (await alice.kms('encrypt-data', { key_id: a, plain_text: 'to sm4' })).body.cipher_text;
    const r = await alice.kms('re-encrypt', { cipher_text: ct, source_key_id: a, destination_key_id: b });
    assert.deepEqual([r.status, r.body.key_id, r.body.source_key_id, r.body.source_encryption_algorithm, r.body.destination_encryption_algorithm],
      [200, b, a, 'SYMMETRIC_DEFAULT', 'SYMMETRIC_DEFAULT']);
    const d = await alice.kms('decrypt-data', { cipher_text: r.body.cipher_text });
    assert.deepEqual([d.body.key_id, d.body.plain_text], [b, 'to sm4']);
  });

  const BAD: Array<[string, (keys: { aes: string; other: string; ct: string; hmac: string }) => Record<string, unknown>, number, unknown]> = [
    ['the wrong source AAD', (k) => ({ cipher_text: k.ct, source_additional_authenticated_data: 'no', destination_key_id: k.other }), 400, INVALID],
    ['a source_key_id that is not the ciphertext\'s', (k) => ({ cipher_text: k.ct, source_key_id: k.other, destination_key_id: k.other }), 400, INVALID],
    ['a tampered ciphertext', (k) => ({ cipher_text: `${k.ct.slice(0, -8)}${k.ct.at(-8) === 'A' ? 'B' : 'A'}${k.ct.slice(-7)}`, destination_key_id: k.other }), 400, INVALID],
    ['an HMAC destination', (k) => ({ cipher_text: k.ct, destination_key_id: k.hmac }), 400, ERR('KMS.0341', 'The hmac key do not support this operation.')],
    ['an RSA algorithm for an AES destination', (k) => ({ cipher_text: k.ct, destination_key_id: k.other, destination_encryption_algorithm: 'RSAES_OAEP_SHA_256' }), 400, ERR('KMS.2105', 'The symmetric key not support this encryption algorithm.')],
    ['an unknown destination', (k) => ({ cipher_text: k.ct, destination_key_id: crypto.randomUUID() }), 404, ERR('KMS.0207', 'The key does not exist.')],
    ['no destination', (k) => ({ cipher_text: k.ct }), 400, ERR('KMS.0204', 'Parameters missing in the request message.')],
    ['a bad datakey_cipher_length', (k) => ({ cipher_text: k.ct, destination_key_id: k.other, datakey_cipher_length: '0' }), 400, ERR('KMS.2202', 'datakey_cipher_length must be 64 bytes.')],
    ['destination AAD over 128 bytes', (k) => ({ cipher_text: k.ct, destination_key_id: k.other, destination_additional_authenticated_data: 'a'.repeat(129) }), 400, ERR('KMS.0208', 'Invalid value of value encryption_context.')],
  ];
  for (const [what, body, status, expected] of BAD) {
    test(`${what} is ${status}`, async () => {
      const alice = world.as('alice');
      const aes = await newKey(alice);
      const keys = { aes, other: await newKey(alice), hmac: await newKey(alice, { key_spec: 'HMAC_256' }), ct: (await alice.kms('encrypt-data', { key_id: aes, plain_text: 'x' })).body.cipher_text };
      const r = await alice.kms('re-encrypt', body(keys));
      assert.deepEqual([r.status, r.body], [status, expected]);
    });
  }

  test('a disabled destination is KMS.0209; another account may not re-encrypt', async () => {
    const alice = world.as('alice');
    const [a, b] = [await newKey(alice), await newKey(alice)];
    const ct = (await alice.kms('encrypt-data', { key_id: a, plain_text: 'x' })).body.cipher_text;
    await alice.kms('disable-key', { key_id: b });
    const r = await alice.kms('re-encrypt', { cipher_text: ct, destination_key_id: b });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0209', 'The key has been disabled.')]);
    const boss = await world.as('boss').kms('re-encrypt', { cipher_text: ct, destination_key_id: a });
    assert.deepEqual([boss.status, boss.body], [403, DENIED]);
  });
});
