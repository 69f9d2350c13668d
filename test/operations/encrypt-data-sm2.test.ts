import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERR, newGrant, newKey, startWorld, type World } from '../harness.ts';

/** encrypt-data / decrypt-data with SM2_ENCRYPT under SM2 ENCRYPT_DECRYPT keys (OpenSSL's SM2, by pkeyutl). */
let world: World;
let dir: string;
before(async () => {
  world = await startWorld();
  dir = mkdtempSync(join(tmpdir(), 'kmsd-sm2-test-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
  return world.close();
});

const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64');
const SM2 = { encryption_algorithm: 'SM2_ENCRYPT' };

/** The top-level elements of a DER SEQUENCE: [tag, content] each (short and long lengths). */
function derSequence(der: Buffer): Array<[number, Buffer]> {
  const element = (at: number): [number, number, number] => {
    let length = der[at + 1];
    let start = at + 2;
    if (length & 0x80) {
      const n = length & 0x7f;
      length = der.readUIntBE(at + 2, n);
      start += n;
    }
    return [der[at], start, length];
  };
  const [tag, start, length] = element(0);
  assert.equal(tag, 0x30);
  assert.equal(start + length, der.length);
  const items: Array<[number, Buffer]> = [];
  for (let at = start; at < der.length;) {
    const [t, s, l] = element(at);
    items.push([t, der.subarray(s, s + l)]);
    at = s + l;
  }
  return items;
}

async function sm2Key(): Promise<string> {
  return newKey(world.as('alice'), { key_spec: 'SM2', key_usage: 'ENCRYPT_DECRYPT' });
}

describe('SM2_ENCRYPT', () => {
  test('round trip through kmsd; the ciphertext is GM/T 0009 DER (x, y, SM3 hash, C2 as long as the plaintext)', async () => {
    const alice = world.as('alice');
    const keyId = await sm2Key();
    const e = await alice.kms('encrypt-data', { key_id: keyId, plain_text: 'sm2 secret', ...SM2 });
    assert.equal(e.status, 200, e.text);
    assert.deepEqual(Object.keys(e.body).sort(), ['cipher_text', 'key_id']);
    assert.equal(e.body.key_id, keyId);
    const der = Buffer.from(e.body.cipher_text, 'base64');
    const items = derSequence(der);
    assert.deepEqual(items.map(([t]) => t), [0x02, 0x02, 0x04, 0x04]);
    assert.equal(items[2][1].length, 32);
    assert.equal(items[3][1].length, 'sm2 secret'.length);
    const d = await alice.kms('decrypt-data', { key_id: keyId, cipher_text: e.body.cipher_text, ...SM2 });
    assert.deepEqual([d.status, d.body], [200, { key_id: keyId, plain_text: 'sm2 secret', plain_text_base64: b64('sm2 secret') }]);
    const again = await alice.kms('encrypt-data', { key_id: keyId, plain_text: 'sm2 secret', ...SM2 });
    assert.notEqual(again.body.cipher_text, e.body.cipher_text); // a fresh random k each time
  });

  test('a ciphertext made outside kmsd by `openssl pkeyutl -encrypt -pubin` on get-publickey decrypts in kmsd', async () => {
    const alice = world.as('alice');
    const keyId = await sm2Key();
    const pem = (await alice.kms('get-publickey', { key_id: keyId })).body.public_key as string;
    writeFileSync(join(dir, 'pub.pem'), pem);
    const plaintext = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x41]);
    const outside = execFileSync('openssl', ['pkeyutl', '-encrypt', '-pubin', '-inkey', join(dir, 'pub.pem')], { input: plaintext });
    const d = await alice.kms('decrypt-data', { key_id: keyId, cipher_text: b64(outside), ...SM2 });
    assert.equal(d.status, 200, d.text);
    assert.equal(d.body.plain_text_base64, b64(plaintext));
  });

  test('a tampered ciphertext, one of another key, or one that is no DER is KMS.2201', async () => {
    const alice = world.as('alice');
    const keyId = await sm2Key();
    const other = await sm2Key();
    const e = await alice.kms('encrypt-data', { key_id: keyId, plain_text: 'do not touch', ...SM2 });
    const der = Buffer.from(e.body.cipher_text, 'base64');
    const tampered = Buffer.from(der);
    tampered[tampered.length - 1] ^= 0x01; // the last byte of C2: the SM3 hash C3 no longer matches
    const invalid = [400, ERR('KMS.2201', 'Invalid cipher_text.')];
    for (const [id, ct] of [[keyId, tampered], [other, der], [keyId, Buffer.alloc(120, 7)]] as const) {
      const d = await alice.kms('decrypt-data', { key_id: id, cipher_text: b64(ct), ...SM2 });
      assert.deepEqual([d.status, d.body], invalid);
    }
  });

  test('4096 bytes fit; more bytes are KMS.2108, more characters KMS.2101', async () => {
    const alice = world.as('alice');
    const keyId = await sm2Key();
    const fits = 'é'.repeat(2048); // 4096 bytes of UTF-8
    const e = await alice.kms('encrypt-data', { key_id: keyId, plain_text: fits, ...SM2 });
    assert.equal(e.status, 200, e.text);
    assert.ok(e.body.cipher_text.length <= 5648); // decrypt-data's documented cipher_text pattern
    const d = await alice.kms('decrypt-data', { key_id: keyId, cipher_text: e.body.cipher_text, ...SM2 });
    assert.equal(d.body.plain_text, fits);
    const bytes = await alice.kms('encrypt-data', { key_id: keyId, plain_text: `${fits}x`, ...SM2 });
    assert.deepEqual([bytes.status, bytes.body], [400, ERR('KMS.2108', 'The rsa encryption plain_text is over length.')]);
    const chars = await alice.kms('encrypt-data', { key_id: keyId, plain_text: 'x'.repeat(4097), ...SM2 });
    assert.deepEqual([chars.status, chars.body], [400, ERR('KMS.2101', 'Invalid plain_text.')]);
  });

  test('SM2_ENCRYPT pairs only with SM2 keys (KMS.2106 both ways); an SM2 signing key is KMS.0335', async () => {
    const alice = world.as('alice');
    const sm2 = await sm2Key();
    const rsa = await newKey(alice, { key_spec: 'RSA_2048', key_usage: 'ENCRYPT_DECRYPT' });
    const signing = await newKey(alice, { key_spec: 'SM2' });
    const wrongPair = [400, ERR('KMS.2106', 'The rsa key not support this encryption algorithm.')];
    const a = await alice.kms('encrypt-data', { key_id: sm2, plain_text: 'x', encryption_algorithm: 'RSAES_OAEP_SHA_256' });
    assert.deepEqual([a.status, a.body], wrongPair);
    const b = await alice.kms('encrypt-data', { key_id: rsa, plain_text: 'x', ...SM2 });
    assert.deepEqual([b.status, b.body], wrongPair);
    const c = await alice.kms('encrypt-data', { key_id: signing, plain_text: 'x', ...SM2 });
    assert.deepEqual([c.status, c.body], [400, ERR('KMS.0335', 'The cmk is used to sign and verify.')]);
  });

  test('re-encrypt takes an SM2 ciphertext to an AES key and back to SM2', async () => {
    const alice = world.as('alice');
    const sm2 = await sm2Key();
    const aes = await newKey(alice, {});
    const e = await alice.kms('encrypt-data', { key_id: sm2, plain_text: 'moving', ...SM2 });
    const toAes = await alice.kms('re-encrypt', {
      cipher_text: e.body.cipher_text, source_key_id: sm2, source_encryption_algorithm: 'SM2_ENCRYPT', destination_key_id: aes,
    });
    assert.equal(toAes.status, 200, toAes.text);
    assert.equal((await alice.kms('decrypt-data', { cipher_text: toAes.body.cipher_text })).body.plain_text, 'moving');
    const back = await alice.kms('re-encrypt', { cipher_text: toAes.body.cipher_text, destination_key_id: sm2, destination_encryption_algorithm: 'SM2_ENCRYPT' });
    assert.equal(back.status, 200, back.text);
    assert.equal((await alice.kms('decrypt-data', { key_id: sm2, cipher_text: back.body.cipher_text, ...SM2 })).body.plain_text, 'moving');
  });

  test('a grantee with encrypt-data and decrypt-data can; another account cannot; after retire the grantee cannot', async () => {
    const admin = world.as('admin');
    const greg = world.as('greg');
    const keyId = await newKey(admin, { key_spec: 'SM2', key_usage: 'ENCRYPT_DECRYPT' });
    const grant = await newGrant(admin, keyId, world.users.greg.id, ['encrypt-data', 'decrypt-data', 'retire-grant']);
    const e = await greg.kms('encrypt-data', { key_id: keyId, plain_text: 'granted', ...SM2 });
    assert.equal(e.status, 200, e.text);
    const body = { key_id: keyId, cipher_text: e.body.cipher_text, ...SM2 };
    assert.equal((await greg.kms('decrypt-data', body)).body.plain_text, 'granted');
    const denied = [403, ERR('KMS.0306', 'No access permissions.')];
    assert.deepEqual(await world.as('boss').kms('decrypt-data', body).then((r) => [r.status, r.body]), denied);
    assert.equal((await greg.kms('retire-grant', { key_id: keyId, grant_id: grant })).status, 200);
    assert.deepEqual(await greg.kms('decrypt-data', body).then((r) => [r.status, r.body]), denied);
    assert.deepEqual(await greg.kms('encrypt-data', { key_id: keyId, plain_text: 'again', ...SM2 }).then((r) => [r.status, r.body]), denied);
  });
});
