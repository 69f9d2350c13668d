import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, newGrant, newKey, startWorld, type World } from '../harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const BAD_CIPHERTEXT = ERR('KMS.2201', 'Invalid cipher_text.');

async function encrypted(plain = 'secret', aad?: string): Promise<{ keyId: string; ct: string }> {
  const admin = world.as('admin');
  const keyId = await newKey(admin);
  const r = await admin.kms('encrypt-data', { key_id: keyId, plain_text: plain, ...(aad && { additional_authenticated_data: aad }) });
  return { keyId, ct: r.body.cipher_text };
}

function flip(b64: string, index: number): string {
  const bytes = Buffer.from(b64, 'base64');
  bytes[index] ^= 0x01;
  return bytes.toString('base64');
}

describe('decrypt-data', () => {
  test('needs no key_id; a key_id given must name the key of the ciphertext', async () => {
    const { keyId, ct } = await encrypted('payload');
    const admin = world.as('admin');
    assert.deepEqual((await admin.kms('decrypt-data', { cipher_text: ct })).body, { key_id: keyId, plain_text: 'payload', plain_text_base64: 'cGF5bG9hZA==' });
    assert.equal((await admin.kms('decrypt-data', { cipher_text: ct, key_id: keyId })).status, 200);
    const other = await newKey(admin);
    const r = await admin.kms('decrypt-data', { cipher_text: ct, key_id: other });
    assert.deepEqual([r.status, r.body], [400, BAD_CIPHERTEXT]);
  });

  test('the additional authenticated data must match: other or missing AAD fails with KMS.2201', async () => {
    const { ct } = await encrypted('bound', 'tenant=1');
    const admin = world.as('admin');
    assert.equal((await admin.kms('decrypt-data', { cipher_text: ct, additional_authenticated_data: 'tenant=1' })).body.plain_text, 'bound');
    for (const aad of [{ additional_authenticated_data: 'tenant=2' }, {}]) {
      const r = await admin.kms('decrypt-data', { cipher_text: ct, ...aad });
      assert.deepEqual([r.status, r.body], [400, BAD_CIPHERTEXT], JSON.stringify(aad));
    }
  });

  test('the older encryption_context form binds the same way, whatever the order of its keys', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const r = await admin.kms('encrypt-data', { key_id: keyId, plain_text: 'ctx', encryption_context: { b: '2', a: '1' } });
    assert.equal((await admin.kms('decrypt-data', { cipher_text: r.body.cipher_text, encryption_context: { a: '1', b: '2' } })).body.plain_text, 'ctx');
    const wrong = await admin.kms('decrypt-data', { cipher_text: r.body.cipher_text, encryption_context: { a: '1' } });
    assert.deepEqual([wrong.status, wrong.body], [400, BAD_CIPHERTEXT]);
  });

  test('encryption_context as a string holding its JSON (the Terraform provider sends that) binds like the object', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const r = await admin.kms('encrypt-data', { key_id: keyId, plain_text: 'ctx', encryption_context: '{"k":"v","a":"1"}' });
    assert.equal(r.status, 200);
    assert.equal((await admin.kms('decrypt-data', { cipher_text: r.body.cipher_text, encryption_context: { a: '1', k: 'v' } })).body.plain_text, 'ctx');
    for (const context of ['not json', '["a"]', '{"k":1}', 'null']) {
      const bad = await admin.kms('encrypt-data', { key_id: keyId, plain_text: 'x', encryption_context: context });
      assert.deepEqual([bad.status, bad.body], [400, ERR('KMS.0208', 'Invalid value of value encryption_context.')], context);
    }
  });

  test('a changed byte anywhere in the ciphertext fails with KMS.2201, never a 500', async () => {
    const { ct } = await encrypted('tamper me');
    const admin = world.as('admin');
    const length = Buffer.from(ct, 'base64').length;
    for (let i = 0; i < length; i++) {
      const r = await admin.kms('decrypt-data', { cipher_text: flip(ct, i) });
      // Bytes 3..38 hold the key id (envelope format 2): a changed one may name another key, which does not exist.
      const expected = r.status === 404 && i >= 3 && i < 39 ? [404, ERR('KMS.0207', 'The key does not exist.')] : [400, BAD_CIPHERTEXT];
      assert.deepEqual([r.status, r.body], expected, `byte ${i}`);
    }
  });

  test('truncated, garbage and too-short ciphertexts fail with KMS.2201', async () => {
    const { ct } = await encrypted('x');
    const bytes = Buffer.from(ct, 'base64');
    const cases = [
      bytes.subarray(0, bytes.length - 1).toString('base64'),
      Buffer.concat([bytes, Buffer.from([0])]).toString('base64'),
      'A'.repeat(128),
      'AAAA',
      'not base64 at all!'.repeat(10),
    ];
    for (const cipher_text of cases) {
      const r = await world.as('admin').kms('decrypt-data', { cipher_text });
      assert.deepEqual([r.status, r.body], [400, BAD_CIPHERTEXT], cipher_text.slice(0, 20));
    }
  });

  test('a grantee holding decrypt-data decrypts what the owner encrypted; without it: 403', async () => {
    const { keyId, ct } = await encrypted('for gus');
    await newGrant(world.as('admin'), keyId, world.users.gus.id, ['decrypt-data']);
    assert.equal((await world.as('gus').kms('decrypt-data', { cipher_text: ct })).body.plain_text, 'for gus');
    const r = await world.as('rita').kms('decrypt-data', { cipher_text: ct });
    assert.deepEqual([r.status, r.body], [403, ERR('KMS.0306', 'No access permissions.')]);
  });

  test('a disabled key does not decrypt (KMS.0209), and does again once enabled', async () => {
    const { keyId, ct } = await encrypted('later');
    const admin = world.as('admin');
    await admin.kms('disable-key', { key_id: keyId });
    const r = await admin.kms('decrypt-data', { cipher_text: ct });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0209', 'The key has been disabled.')]);
    await admin.kms('enable-key', { key_id: keyId });
    assert.equal((await admin.kms('decrypt-data', { cipher_text: ct })).body.plain_text, 'later');
  });
});
