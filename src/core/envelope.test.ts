import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretKey, randomBytes } from 'node:crypto';
import { CipherId } from './ciphers.ts';
import { open, parse, seal } from './envelope.ts';

const KEY_ID = '0d0466b0-e727-4d9c-b35d-f84bb474a37f';

test('every seal draws a fresh nonce (across refills of the nonce pool) and opens only as made', () => {
  const material = createSecretKey(randomBytes(32));
  const plaintext = Buffer.from('the same plaintext every time');
  const aad = Buffer.from('aad');
  const nonces = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    for (const cipher of [CipherId.aes256gcm, CipherId.sm4ctrHmacSm3]) {
      const envelope = parse(seal(cipher, KEY_ID, 3, material, plaintext, aad));
      assert.ok(envelope);
      assert.deepEqual([envelope.keyId, envelope.version, envelope.cipher], [KEY_ID, 3, cipher]);
      assert.deepEqual(open(envelope, material, aad), plaintext);
      nonces.add(envelope.nonce.toString('hex'));
    }
  }
  assert.equal(nonces.size, 2000);
  assert.equal(nonces.has('0'.repeat(24)), false);
  const envelope = parse(seal(CipherId.aes256gcm, KEY_ID, 1, material, plaintext, aad));
  assert.ok(envelope);
  envelope.nonce[0] ^= 1;
  assert.equal(open(envelope, material, aad), null);
});
