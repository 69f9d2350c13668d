import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, newGrant, newKey, startWorld, type World } from '../harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

describe('create-datakey-without-plaintext', () => {
  test('answers only key_id and cipher_text; the data key comes back through decrypt-datakey', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const r = await admin.kms('create-datakey-without-plaintext', { key_id: keyId, datakey_length: '256', additional_authenticated_data: 'a' });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body), ['key_id', 'cipher_text']);
    const back = await admin.kms('decrypt-datakey', { key_id: keyId, cipher_text: r.body.cipher_text, datakey_cipher_length: '32', additional_authenticated_data: 'a' });
    assert.match(back.body.data_key, /^[0-9A-F]{64}$/);
  });

  test('a grantee holding it may call it; a disabled key is KMS.0209', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    await newGrant(admin, keyId, world.users.gus.id, ['create-datakey-without-plaintext']);
    assert.equal((await world.as('gus').kms('create-datakey-without-plaintext', { key_id: keyId })).status, 200);
    await admin.kms('disable-key', { key_id: keyId });
    const r = await world.as('gus').kms('create-datakey-without-plaintext', { key_id: keyId });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0209', 'The key has been disabled.')]);
    const outsider = await world.as('boss').kms('create-datakey-without-plaintext', { key_id: keyId });
    assert.deepEqual([outsider.status, outsider.body], [403, ERR('KMS.0306', 'No access permissions.')]);
  });
});
