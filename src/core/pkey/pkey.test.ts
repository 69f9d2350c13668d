import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KmsError } from '../errors.ts';
import { sm2Digest } from '../../../test/support/sm2.ts';
import { DigestCrypto, NOBLE_QUEUE, digestCrypto, nobleLine } from './pkey.ts';
import { NATIVE_FILE, loadNative, nativeCrypto, offerNativeCrypto, packagedNativePath } from './native.ts';

/**
 * Every DIGEST algorithm and SM2 encryption, by each implementation kmsd may use (the kmsd-crypto
 * addon, and the fallbacks: @noble/curves for ECDSA, `openssl pkeyutl` for RSASSA-PSS and SM2),
 * checked outside kmsd both ways: what it signs, node:crypto (on the message, hashing it itself)
 * and the `openssl` command line (on the digest) verify; what they sign, it verifies.
 */

const W = { owner: 'account-a' };
const ec = (namedCurve: string) => generateKeyPairSync('ec', { namedCurve });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PSS_OPTIONS = (key: KeyObject, saltLength: number) => ({ key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });

interface Case {
  name: string;
  keys: { privateKey: KeyObject; publicKey: KeyObject };
  hash: string;
  pss?: boolean;
  /** The digest the caller sends for `message`. */
  digestOf(message: Buffer): Buffer;
  /** node:crypto's signature of `message` (it hashes), and its check of ours. */
  nodeSign(message: Buffer): Buffer;
  nodeVerify(message: Buffer, signature: Buffer): boolean;
  /** `openssl pkeyutl` options for this scheme (on the digest; SM2 on the message with -rawin). */
  openssl: string[];
}

const plainHash = (hash: string) => (m: Buffer) => createHash(hash).update(m).digest();
const ecdsa = (name: string, curve: string, hash: string): Case => {
  const keys = ec(curve);
  return {
    name, keys, hash, digestOf: plainHash(hash), openssl: ['-pkeyopt', `digest:${hash}`],
    nodeSign: (m) => sign(hash, m, keys.privateKey), nodeVerify: (m, s) => verify(hash, m, keys.publicKey, s),
  };
};
const pss = (hash: string, saltLength: number): Case => ({
  name: `RSASSA-PSS ${hash} (RSA 2048)`, keys: rsa, hash, pss: true, digestOf: plainHash(hash),
  openssl: ['-pkeyopt', 'rsa_padding_mode:pss', '-pkeyopt', 'rsa_pss_saltlen:auto', '-pkeyopt', `digest:${hash}`],
  nodeSign: (m) => sign(hash, m, PSS_OPTIONS(rsa.privateKey, 0)), // any salt length verifies
  nodeVerify: (m, s) => verify(hash, m, PSS_OPTIONS(rsa.publicKey, saltLength), s), // ours: salt as long as the hash
});
/**
 * An SM2 key as kmsd holds one: parsed from its PKCS#8 DER, which OpenSSL types SM2. (A key fresh
 * from generateKeyPairSync is typed EC, and node:crypto would make ECDSA signatures with it.)
 */
function sm2(): { privateKey: KeyObject; publicKey: KeyObject } {
  const privateKey = createPrivateKey({ key: ec('SM2').privateKey.export({ type: 'pkcs8', format: 'der' }), format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}
const sm2Keys = sm2();
const CASES: Case[] = [
  ecdsa('ECDSA P-256', 'prime256v1', 'sha256'),
  ecdsa('ECDSA P-384', 'secp384r1', 'sha384'),
  ecdsa('ECDSA secp256k1', 'secp256k1', 'sha256'),
  pss('sha256', 32), pss('sha384', 48), pss('sha512', 64),
  {
    name: 'SM2 (SM2DSA_SM3)', keys: sm2Keys, hash: 'sm3', digestOf: (m) => sm2Digest(sm2Keys.publicKey, m), openssl: ['-rawin', '-digest', 'sm3'],
    nodeSign: (m) => sign('sm3', m, sm2Keys.privateKey), nodeVerify: (m, s) => verify('sm3', m, sm2Keys.publicKey, s),
  },
];

function opensslVerifies(c: Case, message: Buffer, signature: Buffer): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-pkey-'));
  try {
    writeFileSync(join(dir, 'pub.pem'), c.keys.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(dir, 'in'), c.hash === 'sm3' ? message : c.digestOf(message));
    writeFileSync(join(dir, 'sig'), signature);
    try {
      const out = execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', join(dir, 'pub.pem'), '-in', join(dir, 'in'), '-sigfile', join(dir, 'sig'), ...c.openssl], { stdio: 'pipe' });
      return /Signature Verified Successfully/.test(out.toString());
    } catch {
      return false;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function opensslSigns(c: Case, message: Buffer): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-pkey-'));
  try {
    writeFileSync(join(dir, 'key.pem'), c.keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(join(dir, 'in'), c.hash === 'sm3' ? message : c.digestOf(message));
    // PSS: openssl's longest salt (ours is as long as the hash; verification accepts any).
    const options = c.openssl.map((o) => (o === 'rsa_pss_saltlen:auto' ? 'rsa_pss_saltlen:max' : o));
    return execFileSync('openssl', ['pkeyutl', '-sign', '-inkey', join(dir, 'key.pem'), '-in', join(dir, 'in'), ...options]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const isSignerFailure = (e: unknown) => e instanceof KmsError && e.code === 'KMS.0105' && e.status === 400;

test('the kmsd-crypto addon is built for this platform and loads (npm install builds it; CI must not fall back silently)', () => {
  assert.equal(packagedNativePath()?.endsWith(join('dist', 'native', NATIVE_FILE)), true);
  const native = nativeCrypto();
  assert.ok(native, `${packagedNativePath()} did not load: run npm run build:native`);
  assert.equal(native.openssl.startsWith(`OpenSSL ${process.versions.openssl}`), true, native.openssl);
  assert.equal(digestCrypto().backend, 'native');
});

for (const [backend, make] of [['the kmsd-crypto addon', () => new DigestCrypto(nativeCrypto())], ['the fallbacks', () => new DigestCrypto(null)]] as const) {
  describe(`DIGEST signatures by ${backend}`, () => {
    const crypto = make();
    for (const c of CASES) {
      test(`${c.name}: what it signs over the digest, node:crypto (message) and openssl (digest) verify; theirs it verifies`, async () => {
        const message = Buffer.from(`message for ${c.name}`);
        const digest = c.digestOf(message);
        const scheme = { hash: c.hash, pss: c.pss };
        const ours = await crypto.signDigest(c.keys.privateKey, scheme, digest, W);
        assert.equal(c.nodeVerify(message, ours), true);
        assert.equal(opensslVerifies(c, message, ours), true);
        assert.equal(await crypto.verifyDigest(c.keys.publicKey, scheme, digest, ours, W), true);
        assert.equal(await crypto.verifyDigest(c.keys.publicKey, scheme, digest, c.nodeSign(message), W), true);
        assert.equal(await crypto.verifyDigest(c.keys.publicKey, scheme, digest, opensslSigns(c, message), W), true);
        // Another digest, a signature of another key, a flipped bit, garbage: not valid.
        const other = c.digestOf(Buffer.from('another message'));
        assert.equal(await crypto.verifyDigest(c.keys.publicKey, scheme, other, ours, W), false);
        const flipped = Buffer.from(ours);
        flipped[flipped.length - 1] ^= 1;
        assert.equal(await crypto.verifyDigest(c.keys.publicKey, scheme, digest, flipped, W), false);
        for (const garbage of [Buffer.from('not a signature'), Buffer.alloc(72, 0x30), Buffer.alloc(1)]) {
          assert.equal(await crypto.verifyDigest(c.keys.publicKey, scheme, digest, garbage, W), false);
        }
        // A digest of the wrong length is refused (kmsd checks lengths before: KMS.0329).
        await assert.rejects(crypto.signDigest(c.keys.privateKey, scheme, digest.subarray(0, 20), W), isSignerFailure);
      });
    }

    test('SM2 encryption both ways with `openssl pkeyutl`; a tampered ciphertext or another key is refused (null)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kmsd-pkey-sm2-'));
      try {
        const keys = sm2();
        writeFileSync(join(dir, 'key.pem'), keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
        writeFileSync(join(dir, 'pub.pem'), keys.publicKey.export({ type: 'spki', format: 'pem' }));
        const plaintext = Buffer.from('sm2 both ways');
        const ours = await crypto.sm2Encrypt(keys.publicKey, plaintext, W);
        assert.deepEqual(execFileSync('openssl', ['pkeyutl', '-decrypt', '-inkey', join(dir, 'key.pem')], { input: ours }), plaintext);
        const theirs = execFileSync('openssl', ['pkeyutl', '-encrypt', '-pubin', '-inkey', join(dir, 'pub.pem')], { input: plaintext });
        assert.deepEqual(await crypto.sm2Decrypt(keys.privateKey, theirs, W), plaintext);
        const tampered = Buffer.from(theirs);
        tampered[tampered.length - 1] ^= 1;
        assert.equal(await crypto.sm2Decrypt(keys.privateKey, tampered, W), null);
        assert.equal(await crypto.sm2Decrypt(sm2().privateKey, theirs, W), null);
        assert.equal(await crypto.sm2Decrypt(keys.privateKey, Buffer.from('not DER'), W), null);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

test('the addon: a key it cannot use for the call is KMS.0105, never a crash; OpenSSL\'s error queue is left as found', async () => {
  const crypto = new DigestCrypto(nativeCrypto());
  const keys = ec('prime256v1');
  const digest = createHash('sha256').update('m').digest();
  // PSS on an EC key; SM2 encryption with an RSA key; a public key to sign.
  await assert.rejects(crypto.signDigest(keys.privateKey, { hash: 'sha256', pss: true }, digest, W), isSignerFailure);
  await assert.rejects(crypto.signDigest(keys.publicKey, { hash: 'sha256' }, digest, W), isSignerFailure);
  await assert.rejects(crypto.signDigest(keys.privateKey, { hash: 'no-such-digest' }, digest, W), isSignerFailure);
  // node:crypto right after: it reads OpenSSL's error queue, which must hold nothing of ours.
  assert.equal(verify('sha256', Buffer.from('m'), keys.publicKey, sign('sha256', Buffer.from('m'), keys.privateKey)), true);
  assert.deepEqual(createPublicKey(keys.publicKey.export({ type: 'spki', format: 'pem' })).asymmetricKeyDetails, { namedCurve: 'prime256v1' });
});

test('the addon refuses what is not a key, and a host path that does not load is an error at once', () => {
  const native = nativeCrypto();
  assert.ok(native);
  assert.throws(() => native.importKey(Buffer.from('not DER'), true), /not a key/);
  assert.throws(() => native.importKey(Buffer.concat([ec('prime256v1').publicKey.export({ type: 'spki', format: 'der' }), Buffer.of(0)]), false), /not a key/);
  assert.throws(() => offerNativeCrypto('/nonexistent/kmsd-crypto.node'), /does not exist/);
  assert.throws(() => loadNative(join(tmpdir())), /./);
  // The package's copy is still the one in use.
  assert.equal(nativeCrypto(), native);
});

test("the @noble/curves fallback takes turns: one account's burst of ECDSA signs does not hold another account's for long; its line is bounded", async () => {
  const crypto = new DigestCrypto(null);
  const keys = ec('prime256v1');
  const digest = createHash('sha256').update('turns').digest();
  let doneA = 0;
  const burst = Array.from({ length: NOBLE_QUEUE.perOwner + 11 }, () => crypto.signDigest(keys.privateKey, { hash: 'sha256' }, digest, { owner: 'A' }).then(
    () => { doneA++; return 'ok'; },
    (e: KmsError) => e.code,
  ));
  const signature = await crypto.signDigest(keys.privateKey, { hash: 'sha256' }, digest, { owner: 'B' });
  assert.ok(doneA <= 3, `${doneA} of A's calls before B's`);
  assert.equal(verify('sha256', Buffer.from('turns'), keys.publicKey, signature), true);
  const results = await Promise.all(burst);
  // One runs at once, perOwner wait: the rest were refused at once.
  assert.deepEqual([results.filter((r) => r === 'ok').length, results.filter((r) => r === 'KMS.0105').length], [NOBLE_QUEUE.perOwner + 1, 10]);
  assert.deepEqual([nobleLine().waiting, nobleLine().running], [0, 0]);
});
