import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createECDH, createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { CURVES, derSignature, parseDerSignature, signDigest, toBig, toBytes, verifyDigest } from './ecdsa-digest.ts';

for (const curve of Object.values(CURVES)) {
  test(`${curve.name}: the constants are OpenSSL's curve (G and (n-1)·G = -G lie on it)`, () => {
    const at = (k: bigint) => {
      const ecdh = createECDH(curve.name);
      ecdh.setPrivateKey(toBytes(k, curve.bytes));
      const p = ecdh.getPublicKey();
      return { x: toBig(p.subarray(1, 1 + curve.bytes)), y: toBig(p.subarray(1 + curve.bytes)) };
    };
    const G = at(1n);
    assert.equal((G.y * G.y - (G.x ** 3n + curve.a * G.x + curve.b)) % curve.p, 0n);
    const minusG = at(curve.n - 1n);
    assert.deepEqual(minusG, { x: G.x, y: curve.p - G.y });
  });

  test(`${curve.name}: digest signatures verify with node:crypto, and node:crypto's verify here; others do not`, () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve.name });
    const jwk = privateKey.export({ format: 'jwk' });
    const d = toBig(Buffer.from(jwk.d as string, 'base64url'));
    const hash = curve.bytes === 48 ? 'sha384' : 'sha256';
    for (let i = 0; i < 10; i++) {
      const message = Buffer.from(`message ${i}`);
      const digest = createHash(hash).update(message).digest();
      const signature = signDigest(curve, d, digest);
      assert.equal(verify(hash, message, publicKey, signature), true);
      assert.equal(verifyDigest(curve, d, digest, signature), true);
      assert.equal(verifyDigest(curve, d, digest, sign(hash, message, privateKey)), true);
      assert.equal(verifyDigest(curve, d, createHash(hash).update('other').digest(), signature), false);
    }
  });
}

test('DER signatures round-trip; malformed ones are refused', () => {
  const sig = derSignature(0x80n, 1n);
  assert.deepEqual(parseDerSignature(sig), { r: 0x80n, s: 1n });
  assert.equal(parseDerSignature(Buffer.from('3006020101020101ff', 'hex')), null);
  assert.equal(parseDerSignature(Buffer.alloc(0)), null);
  assert.equal(verifyDigest(CURVES.prime256v1, 5n, Buffer.alloc(32), Buffer.from('not der')), false);
});
