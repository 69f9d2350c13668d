import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { ERR, keyMaterial, newKey, startWorld, type World } from '../harness.ts';

/** Issue 12: generate-mac / verify-mac with HMAC keys (checked against node:crypto's HMAC of the key's secret). */
let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64');

describe('MACs', () => {
  for (const [spec, algorithm, hash] of [['HMAC_256', 'HMAC_SHA_256', 'sha256'], ['HMAC_384', 'HMAC_SHA_384', 'sha384'], ['HMAC_512', 'HMAC_SHA_512', 'sha512'], ['HMAC_SM3', 'HMAC_SM3', 'sm3']]) {
    test(`${spec}: generate-mac is HMAC with the key's secret; verify-mac answers a JSON boolean`, async () => {
      const alice = world.as('alice');
      const keyId = await newKey(alice, { key_spec: spec });
      const d = await alice.kms('describe-key', { key_id: keyId });
      assert.deepEqual([d.body.key_info.key_spec, d.body.key_info.key_usage], [spec, 'GENERATE_VERIFY_MAC']);
      const r = await alice.kms('generate-mac', { key_id: keyId, mac_algorithm: algorithm, message: b64('mac me') });
      assert.equal(r.status, 200, r.text);
      const expected = createHmac(hash, await keyMaterial(world, keyId, 1)).update('mac me').digest('hex');
      assert.deepEqual(r.body, { key_id: keyId, mac_algorithm: algorithm, mac: expected });
      const ok = await alice.kms('verify-mac', { key_id: keyId, mac_algorithm: algorithm, message: b64('mac me'), mac: expected });
      assert.deepEqual(ok.body, { key_id: keyId, mac_algorithm: algorithm, mac_valid: true });
      const no = await alice.kms('verify-mac', { key_id: keyId, mac_algorithm: algorithm, message: b64('mac you'), mac: expected });
      assert.deepEqual(no.body, { key_id: keyId, mac_algorithm: algorithm, mac_valid: false });
    });
  }

  test('a mac_algorithm of another size is KMS.0308; an AES key KMS.0331; an HMAC key cannot rotate (KMS.0341)', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice, { key_spec: 'HMAC_256' });
    const r = await alice.kms('generate-mac', { key_id: keyId, mac_algorithm: 'HMAC_SHA_512', message: b64('m') });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0308', 'Invalid parameter.')]);
    const aes = await alice.kms('generate-mac', { key_id: await newKey(alice), mac_algorithm: 'HMAC_SHA_256', message: b64('m') });
    assert.deepEqual([aes.status, aes.body], [400, ERR('KMS.0331', 'The symmetric key is not support this operation.')]);
    const rot = await alice.kms('enable-key-rotation', { key_id: keyId });
    assert.deepEqual([rot.status, rot.body], [400, ERR('KMS.0341', 'The hmac key do not support this operation.')]);
    const enc = await alice.kms('encrypt-data', { key_id: keyId, plain_text: 'x' });
    assert.deepEqual([enc.status, enc.body], [400, ERR('KMS.0341', 'The hmac key do not support this operation.')]);
  });
});
