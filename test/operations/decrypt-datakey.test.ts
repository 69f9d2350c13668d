import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, newGrant, newKey, startWorld, type World } from '../harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const BAD = ERR('KMS.2201', 'Invalid cipher_text.');

describe('decrypt-datakey', () => {
  test('checks the length, the key, the AAD and every byte', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const dk = await admin.kms('create-datakey', { key_id: keyId, datakey_length: '512', additional_authenticated_data: 'v1' });
    const ct: string = dk.body.cipher_text;
    const ok = await admin.kms('decrypt-datakey', { key_id: keyId, cipher_text: ct, datakey_cipher_length: '64', additional_authenticated_data: 'v1' });
    assert.equal(ok.body.data_key, dk.body.plain_text);
    const other = await newKey(admin);
    const flipped = (ct.slice(0, 200) + (ct[200] === 'A' ? 'B' : 'A') + ct.slice(201));
    const cases: Array<[Record<string, unknown>, object]> = [
      [{ datakey_cipher_length: '32', additional_authenticated_data: 'v1' }, ERR('KMS.2204', 'The length of cipher_text does not match datakey_cipher_length.')],
      [{ datakey_cipher_length: '0' }, ERR('KMS.2202', 'datakey_cipher_length must be 64 bytes.')],
      [{ datakey_cipher_length: '64', additional_authenticated_data: 'v2' }, BAD],
      [{ datakey_cipher_length: '64' }, BAD],
      [{ datakey_cipher_length: '64', additional_authenticated_data: 'v1', key_id: other }, BAD],
      [{ datakey_cipher_length: '64', additional_authenticated_data: 'v1', cipher_text: flipped }, BAD],
      [{ datakey_cipher_length: '64', additional_authenticated_data: 'v1', cipher_text: ct.slice(0, -2) }, BAD],
      [{ datakey_cipher_length: '64', additional_authenticated_data: 'v1', cipher_text: `${ct}0` }, BAD],
      [{ datakey_cipher_length: '64', cipher_text: 'XYZ' }, BAD],
    ];
    for (const [extra, error] of cases) {
      const r = await admin.kms('decrypt-datakey', { key_id: keyId, cipher_text: ct, ...extra });
      assert.deepEqual([r.status, r.body], [400, error], JSON.stringify(extra).slice(0, 80));
    }
  });

  test('a grantee holding decrypt-datakey may; a grantee holding decrypt-data may not', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const dk = await admin.kms('create-datakey', { key_id: keyId });
    await newGrant(admin, keyId, world.users.gus.id, ['decrypt-datakey']);
    await newGrant(admin, keyId, world.users.rita.id, ['decrypt-data']);
    const body = { key_id: keyId, cipher_text: dk.body.cipher_text, datakey_cipher_length: '32' };
    assert.equal((await world.as('gus').kms('decrypt-datakey', body)).body.data_key, dk.body.plain_text);
    const r = await world.as('rita').kms('decrypt-datakey', body);
    assert.deepEqual([r.status, r.body], [403, ERR('KMS.0306', 'No access permissions.')]);
  });
});
