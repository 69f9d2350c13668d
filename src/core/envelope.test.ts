import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretKey, randomBytes } from 'node:crypto';
import { CipherId } from './ciphers.ts';
import { EnvelopeKind, open, parse, seal } from './envelope.ts';

const KEY_ID = '0d0466b0-e727-4d9c-b35d-f84bb474a37f';

test('every seal draws a fresh nonce (across refills of the nonce pool) and opens only as made', () => {
  const material = createSecretKey(randomBytes(32));
  const plaintext = Buffer.from('the same plaintext every time');
  const aad = Buffer.from('aad');
  const nonces = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    for (const cipher of [CipherId.aes256gcm, CipherId.sm4ctrHmacSm3]) {
      const envelope = parse(seal(EnvelopeKind.data, cipher, KEY_ID, 3, material, plaintext, aad));
      assert.ok(envelope);
      assert.deepEqual([envelope.kind, envelope.keyId, envelope.version, envelope.cipher], [EnvelopeKind.data, KEY_ID, 3, cipher]);
      assert.deepEqual(open(envelope, material, aad), plaintext);
      nonces.add(envelope.nonce.toString('hex'));
    }
  }
  assert.equal(nonces.size, 2000);
  assert.equal(nonces.has('0'.repeat(24)), false);
  const envelope = parse(seal(EnvelopeKind.dataKey, CipherId.aes256gcm, KEY_ID, 1, material, plaintext, aad));
  assert.ok(envelope);
  envelope.nonce[0] ^= 1;
  assert.equal(open(envelope, material, aad), null);
});

test('the kind is authenticated: an envelope whose kind byte is flipped does not open', () => {
  const material = createSecretKey(randomBytes(32));
  for (const cipher of [CipherId.aes256gcm, CipherId.sm4ctrHmacSm3]) {
    const bytes = seal(EnvelopeKind.dataKey, cipher, KEY_ID, 1, material, randomBytes(32), Buffer.alloc(0));
    bytes[1] = EnvelopeKind.data;
    const envelope = parse(bytes);
    assert.ok(envelope);
    assert.equal(envelope.kind, EnvelopeKind.data);
    assert.equal(open(envelope, material, Buffer.alloc(0)), null);
  }
});
