import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, newGrant, newKey, randomKeyId, startWorld, type World } from '../harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const DENIED = ERR('KMS.0306', 'No access permissions.');

describe('encrypt-data', () => {
  test('answers the key id and a base64 ciphertext of at least 128 characters that decrypts', async () => {
    const admin = world.as('admin', 'aksk');
    const keyId = await newKey(admin);
    const r = await admin.kms('encrypt-data', { key_id: keyId, plain_text: 'x' });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body), ['key_id', 'cipher_text']);
    assert.equal(r.body.key_id, keyId);
    assert.match(r.body.cipher_text, /^[0-9a-zA-Z+/=]{128,5648}$/);
    const d = await admin.kms('decrypt-data', { cipher_text: r.body.cipher_text });
    assert.deepEqual(d.body, { key_id: keyId, plain_text: 'x', plain_text_base64: 'eA==' });
  });

  test('4096 bytes of UTF-8 fit; 4097 do not (KMS.2101); the largest ciphertext still meets the decrypt-data rule', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const max = 'é'.repeat(2048);
    const ok = await admin.kms('encrypt-data', { key_id: keyId, plain_text: max });
    assert.equal(ok.status, 200);
    assert.match(ok.body.cipher_text, /^[0-9a-zA-Z+/=]{128,5648}$/);
    assert.equal((await admin.kms('decrypt-data', { cipher_text: ok.body.cipher_text })).body.plain_text, max);
    const over = await admin.kms('encrypt-data', { key_id: keyId, plain_text: `${max}x` });
    assert.deepEqual([over.status, over.body], [400, ERR('KMS.2101', 'Invalid plain_text.')]);
  });

  test('SM4 keys encrypt and decrypt too', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin, { key_spec: 'SM4' });
    const r = await admin.kms('encrypt-data', { key_id: keyId, plain_text: '国密 SM4', additional_authenticated_data: 'order-7' });
    const d = await admin.kms('decrypt-data', { cipher_text: r.body.cipher_text, additional_authenticated_data: 'order-7' });
    assert.equal(d.body.plain_text, '国密 SM4');
  });

  const BAD: Array<[string, Record<string, unknown>, number, object]> = [
    ['no plain_text', {}, 400, ERR('KMS.0204', 'Parameters missing in the request message.')],
    ['an empty plain_text', { plain_text: '' }, 400, ERR('KMS.0204', 'Parameters missing in the request message.')],
    ['AAD of 129 bytes', { plain_text: 'x', additional_authenticated_data: 'a'.repeat(129) }, 400, ERR('KMS.0208', 'Invalid value of value encryption_context.')],
    ['an asymmetric algorithm', { plain_text: 'x', encryption_algorithm: 'RSAES_OAEP_SHA_256' }, 400, ERR('KMS.2105', 'The symmetric key not support this encryption algorithm.')],
    ['an unknown algorithm', { plain_text: 'x', encryption_algorithm: 'ROT13' }, 400, ERR('KMS.0308', 'Invalid parameter.')],
    ['plain_text as an object', { plain_text: { a: 1 } }, 400, ERR('KMS.2101', 'Invalid plain_text.')],
  ];
  for (const [what, body, status, error] of BAD) {
    test(`${what}: ${status}`, async () => {
      const keyId = await newKey(world.as('admin'));
      const r = await world.as('admin').kms('encrypt-data', { key_id: keyId, ...body });
      assert.deepEqual([r.status, r.body], [status, error]);
    });
  }

  test('disabled: KMS.0209; pending deletion: KMS.0210; pending import: KMS.0308; no key: KMS.0207', async () => {
    const admin = world.as('admin');
    const disabled = await newKey(admin);
    await admin.kms('disable-key', { key_id: disabled });
    const doomed = await newKey(admin);
    await admin.kms('schedule-key-deletion', { key_id: doomed, pending_days: '7' });
    const external = await newKey(admin, { origin: 'external' });
    const cases: Array<[string, number, object]> = [
      [disabled, 400, ERR('KMS.0209', 'The key has been disabled.')],
      [doomed, 400, ERR('KMS.0210', 'The key is in Scheduled deletion state and cannot be used.')],
      [external, 400, ERR('KMS.0308', 'Invalid parameter.')],
      [randomKeyId(), 404, ERR('KMS.0207', 'The key does not exist.')],
    ];
    for (const [keyId, status, error] of cases) {
      const r = await admin.kms('encrypt-data', { key_id: keyId, plain_text: 'x' });
      assert.deepEqual([r.status, r.body], [status, error], keyId);
    }
  });

  test('a grantee holding encrypt-data may encrypt; holding only decrypt-data, or another account, may not', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    await newGrant(admin, keyId, world.users.gus.id, ['encrypt-data']);
    await newGrant(admin, keyId, world.users.rita.id, ['decrypt-data']);
    assert.equal((await world.as('gus').kms('encrypt-data', { key_id: keyId, plain_text: 'x' })).status, 200);
    for (const who of ['rita', 'boss', 'nobody']) {
      const r = await world.as(who).kms('encrypt-data', { key_id: keyId, plain_text: 'x' });
      assert.deepEqual([r.status, r.body], [403, DENIED], who);
    }
  });
});
