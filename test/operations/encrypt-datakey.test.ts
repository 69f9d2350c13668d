import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { ERR, newGrant, newKey, startWorld, type World } from '../harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const withDigest = (dek: Buffer, hash = 'sha256') => Buffer.concat([dek, createHash(hash).update(dek).digest()]).toString('hex');

describe('encrypt-datakey', () => {
  test('encrypts DEK ‖ SHA-256(DEK); decrypt-datakey returns the DEK with its digest', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const dek = randomBytes(64);
    const r = await admin.kms('encrypt-datakey', { key_id: keyId, plain_text: withDigest(dek), datakey_plain_length: '64' });
    assert.equal(r.status, 200);
    assert.deepEqual([Object.keys(r.body), r.body.key_id, r.body.datakey_length], [['key_id', 'cipher_text', 'datakey_length'], keyId, '64']);
    const back = await admin.kms('decrypt-datakey', { key_id: keyId, cipher_text: r.body.cipher_text, datakey_cipher_length: '64' });
    assert.deepEqual(back.body, {
      data_key: dek.toString('hex').toUpperCase(), datakey_length: '64',
      datakey_dgst: createHash('sha256').update(dek).digest('hex').toUpperCase(),
    });
  });

  test('under an SM4 key the digest is SM3', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin, { key_spec: 'SM4' });
    const dek = randomBytes(16);
    const r = await admin.kms('encrypt-datakey', { key_id: keyId, plain_text: withDigest(dek, 'sm3'), datakey_plain_length: 16 });
    assert.equal(r.status, 200);
    const back = await admin.kms('decrypt-datakey', { key_id: keyId, cipher_text: r.body.cipher_text, datakey_cipher_length: '16' });
    assert.equal(back.body.datakey_dgst, createHash('sm3').update(dek).digest('hex').toUpperCase());
    const sha = await admin.kms('encrypt-datakey', { key_id: keyId, plain_text: withDigest(dek), datakey_plain_length: '16' });
    assert.deepEqual([sha.status, sha.body], [400, ERR('KMS.2103', 'Failed to verify the DEK hash.')]);
  });

  test('length and digest checks', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const dek = randomBytes(32);
    const good = withDigest(dek);
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ plain_text: good, datakey_plain_length: '33' }, 'KMS.2104', 'The length of plain_text does not match datakey_plain_length.'],
      [{ plain_text: good, datakey_plain_length: '0' }, 'KMS.2102', 'datakey_plain_length must be 64 bytes.'],
      [{ plain_text: good, datakey_plain_length: '1025' }, 'KMS.2102', 'datakey_plain_length must be 64 bytes.'],
      [{ plain_text: `${good.slice(0, -2)}00`, datakey_plain_length: '32' }, 'KMS.2103', 'Failed to verify the DEK hash.'],
      [{ plain_text: 'zz', datakey_plain_length: '32' }, 'KMS.2101', 'Invalid plain_text.'],
      [{ plain_text: 'abc', datakey_plain_length: '32' }, 'KMS.2101', 'Invalid plain_text.'],
      [{ plain_text: good }, 'KMS.0204', 'Parameters missing in the request message.'],
    ];
    for (const [body, code, message] of cases) {
      const r = await admin.kms('encrypt-datakey', { key_id: keyId, ...body });
      assert.deepEqual([r.status, r.body], [400, ERR(code, message)], JSON.stringify(body).slice(0, 60));
    }
  });

  test('a grantee holding encrypt-datakey may; others may not', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    await newGrant(admin, keyId, world.users.gus.id, ['encrypt-datakey']);
    const body = { key_id: keyId, plain_text: withDigest(randomBytes(32)), datakey_plain_length: '32' };
    assert.equal((await world.as('gus').kms('encrypt-datakey', body)).status, 200);
    const r = await world.as('rita').kms('encrypt-datakey', body);
    assert.deepEqual([r.status, r.body], [403, ERR('KMS.0306', 'No access permissions.')]);
  });
});
