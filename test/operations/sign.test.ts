import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants, createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERR, hex, keyMaterial, newGrant, newKey, startWorld, type World } from '../harness.ts';
import { sm2Digest } from '../support/sm2.ts';

/**
 * Issue 12: asymmetric and HMAC keys, sign / verify / get-publickey, MACs, RSA-OAEP, data key
 * pairs and re-encrypt. Every signature kmsd makes is checked outside kmsd (node:crypto on the
 * public key from get-publickey, or OpenSSL's command line), and the other way round.
 */
let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const b64 = (b: Buffer | string): string => Buffer.from(b).toString('base64');
const DENIED = ERR('KMS.0306', 'No access permissions.');

async function publicKeyOf(keyId: string) {
  const r = await world.as('alice').kms('get-publickey', { key_id: keyId });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(Object.keys(r.body).sort(), ['key_id', 'public_key']);
  assert.match(r.body.public_key, /^-----BEGIN PUBLIC KEY-----\r\n[\s\S]+\r\n-----END PUBLIC KEY-----\r\n$/);
  return createPublicKey(r.body.public_key);
}

const CASES: Array<[string, string, string, Record<string, unknown>]> = [
  ['RSA_2048', 'RSASSA_PSS_SHA_256', 'sha256', { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }],
  ['RSA_3072', 'RSASSA_PSS_SHA_384', 'sha384', { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 }],
  ['RSA_2048', 'RSASSA_PSS_SHA_512', 'sha512', { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 }],
  ['RSA_2048', 'RSASSA_PKCS1_V1_5_SHA_256', 'sha256', {}],
  ['RSA_2048', 'RSASSA_PKCS1_V1_5_SHA_384', 'sha384', {}],
  ['RSA_4096', 'RSASSA_PKCS1_V1_5_SHA_512', 'sha512', {}],
  ['EC_P256', 'ECDSA_SHA_256', 'sha256', {}],
  ['EC_P384', 'ECDSA_SHA_384', 'sha384', {}],
  ['SECP256K1', 'ECDSA_SHA_256', 'sha256', {}],
];

describe('sign and verify', () => {
  for (const [spec, algorithm, hash, options] of CASES) {
    for (const messageType of ['DIGEST', 'RAW'] as const) {
      test(`${spec} ${algorithm} ${messageType}: kmsd's signature verifies outside kmsd, and one made outside verifies in kmsd`, async () => {
        const alice = world.as('alice');
        const keyId = await newKey(alice, { key_spec: spec, key_usage: 'SIGN_VERIFY' });
        const publicKey = await publicKeyOf(keyId);
        const message = Buffer.from(`message ${hex(8)}`);
        const sent = messageType === 'DIGEST' ? createHash(hash).update(message).digest() : message;
        const r = await alice.kms('sign', { key_id: keyId, message: b64(sent), signing_algorithm: algorithm, message_type: messageType });
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(Object.keys(r.body).sort(), ['key_id', 'signature']);
        const signature = Buffer.from(r.body.signature, 'base64');
        assert.equal(verify(hash, message, { key: publicKey, ...options }, signature), true);
        const ok = await alice.kms('verify', { key_id: keyId, message: b64(sent), signature: r.body.signature, signing_algorithm: algorithm, message_type: messageType });
        assert.deepEqual(ok.body, { key_id: keyId, signature_valid: 'true' });
        const other = messageType === 'DIGEST' ? createHash(hash).update('other').digest() : Buffer.from('other');
        const bad = await alice.kms('verify', { key_id: keyId, message: b64(other), signature: r.body.signature, signing_algorithm: algorithm, message_type: messageType });
        assert.deepEqual([bad.status, bad.body], [200, { key_id: keyId, signature_valid: 'false' }]);
        // A signature made outside kmsd with the key's own private key verifies in kmsd.
        const pkcs8 = await keyMaterial(world, keyId, 1);
        const outside = sign(hash, message, { key: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }), ...options });
        const theirs = await alice.kms('verify', { key_id: keyId, message: b64(sent), signature: b64(outside), signing_algorithm: algorithm, message_type: messageType });
        assert.equal(theirs.body.signature_valid, 'true');
      });
    }
  }

  test('EC_P256 ECDSA_SHA_256 signatures verify with the openssl command line', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice, { key_spec: 'EC_P256' });
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-openssl-'));
    writeFileSync(join(dir, 'pub.pem'), (await alice.kms('get-publickey', { key_id: keyId })).body.public_key);
    writeFileSync(join(dir, 'msg'), 'signed by kmsd');
    const digest = createHash('sha256').update('signed by kmsd').digest();
    const r = await alice.kms('sign', { key_id: keyId, message: b64(digest), signing_algorithm: 'ECDSA_SHA_256' });
    writeFileSync(join(dir, 'sig'), Buffer.from(r.body.signature, 'base64'));
    const out = execFileSync('openssl', ['dgst', '-sha256', '-verify', join(dir, 'pub.pem'), '-signature', join(dir, 'sig'), join(dir, 'msg')]).toString();
    assert.match(out, /Verified OK/);
  });

  test('RSASSA_PSS_SHA_256 DIGEST signatures verify with the openssl command line (salt length 32)', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice, { key_spec: 'RSA_2048' });
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-openssl-'));
    writeFileSync(join(dir, 'pub.pem'), (await alice.kms('get-publickey', { key_id: keyId })).body.public_key);
    writeFileSync(join(dir, 'msg'), 'signed by kmsd');
    const digest = createHash('sha256').update('signed by kmsd').digest();
    const r = await alice.kms('sign', { key_id: keyId, message: b64(digest), signing_algorithm: 'RSASSA_PSS_SHA_256' });
    assert.equal(r.status, 200, r.text);
    writeFileSync(join(dir, 'sig'), Buffer.from(r.body.signature, 'base64'));
    const out = execFileSync('openssl', [
      'dgst', '-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32',
      '-verify', join(dir, 'pub.pem'), '-signature', join(dir, 'sig'), join(dir, 'msg'),
    ]).toString();
    assert.match(out, /Verified OK/);
  });

  test('SM2 SM2DSA_SM3: RAW and DIGEST (e = SM3(Z ‖ M)) both verify with OpenSSL (its default distinguishing ID)', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice, { key_spec: 'SM2' });
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-sm2-'));
    const pem = (await alice.kms('get-publickey', { key_id: keyId })).body.public_key;
    writeFileSync(join(dir, 'pub.pem'), pem);
    writeFileSync(join(dir, 'msg'), 'sm2 message');
    const opensslVerifies = (signature: string): boolean => {
      writeFileSync(join(dir, 'sig'), Buffer.from(signature, 'base64'));
      const out = execFileSync('openssl', ['pkeyutl', '-verify', '-in', join(dir, 'msg'), '-sigfile', join(dir, 'sig'), '-pubin', '-inkey', join(dir, 'pub.pem'), '-rawin', '-digest', 'sm3']).toString();
      return /Signature Verified Successfully/.test(out);
    };
    const r = await alice.kms('sign', { key_id: keyId, message: b64('sm2 message'), signing_algorithm: 'SM2DSA_SM3', message_type: 'RAW' });
    assert.equal(r.status, 200, r.text);
    assert.equal(opensslVerifies(r.body.signature), true);
    const v = await alice.kms('verify', { key_id: keyId, message: b64('sm2 message'), signature: r.body.signature, signing_algorithm: 'SM2DSA_SM3', message_type: 'RAW' });
    assert.equal(v.body.signature_valid, 'true');
    // e = SM3(Z ‖ M), with OpenSSL's empty ID.
    const e = sm2Digest(createPublicKey(pem), 'sm2 message');
    // The default message_type is DIGEST.
    const d = await alice.kms('sign', { key_id: keyId, message: b64(e), signing_algorithm: 'SM2DSA_SM3' });
    assert.equal(d.status, 200, d.text);
    assert.equal(opensslVerifies(d.body.signature), true);
    for (const signature of [d.body.signature, r.body.signature]) {
      const ok = await alice.kms('verify', { key_id: keyId, message: b64(e), signature, signing_algorithm: 'SM2DSA_SM3' });
      assert.deepEqual(ok.body, { key_id: keyId, signature_valid: 'true' });
    }
    const other = await alice.kms('verify', { key_id: keyId, message: b64(createHash('sm3').update('x').digest()), signature: d.body.signature, signing_algorithm: 'SM2DSA_SM3' });
    assert.deepEqual(other.body, { key_id: keyId, signature_valid: 'false' });
    const short = await alice.kms('sign', { key_id: keyId, message: b64(Buffer.alloc(20)), signing_algorithm: 'SM2DSA_SM3' });
    assert.deepEqual([short.status, short.body], [400, ERR('KMS.0329', 'Hash algorithm does not match the digest length.')]);
  });

  test('ED25519 ED25519_SHA_512 RAW verifies with node:crypto', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice, { key_spec: 'ED25519' });
    const r = await alice.kms('sign', { key_id: keyId, message: b64('ed'), signing_algorithm: 'ED25519_SHA_512', message_type: 'RAW' });
    assert.equal(verify(null, Buffer.from('ed'), await publicKeyOf(keyId), Buffer.from(r.body.signature, 'base64')), true);
  });

  const BAD: Array<[string, Record<string, unknown>, Record<string, unknown>, number, unknown]> = [
    ['a digest of the wrong length', { key_spec: 'EC_P256' }, { message: b64(Buffer.alloc(20)), signing_algorithm: 'ECDSA_SHA_256' }, 400, ERR('KMS.0329', 'Hash algorithm does not match the digest length.')],
    ['an algorithm the key does not pair with', { key_spec: 'EC_P256' }, { message: b64(Buffer.alloc(32)), signing_algorithm: 'RSASSA_PSS_SHA_256' }, 400, ERR('KMS.0332', 'This key is not support the signing algorithm.')],
    ['ECDSA_SHA_384 on a P-256 key', { key_spec: 'EC_P256' }, { message: b64(Buffer.alloc(48)), signing_algorithm: 'ECDSA_SHA_384' }, 400, ERR('KMS.0332', 'This key is not support the signing algorithm.')],
    ['a symmetric key', {}, { message: b64(Buffer.alloc(32)), signing_algorithm: 'ECDSA_SHA_256' }, 400, ERR('KMS.1115', 'Symmetric keys do not support to sign/verify.')],
    ['an RSA encryption key', { key_spec: 'RSA_2048', key_usage: 'ENCRYPT_DECRYPT' }, { message: b64(Buffer.alloc(32)), signing_algorithm: 'RSASSA_PSS_SHA_256' }, 400, ERR('KMS.0334', 'The cmk is used to encrypt and decrypt.')],
    ['an HMAC key', { key_spec: 'HMAC_256' }, { message: b64(Buffer.alloc(32)), signing_algorithm: 'ECDSA_SHA_256' }, 400, ERR('KMS.0341', 'The hmac key do not support this operation.')],
    ['an unknown algorithm', { key_spec: 'EC_P256' }, { message: b64(Buffer.alloc(32)), signing_algorithm: 'DSA' }, 400, ERR('KMS.0308', 'Invalid parameter.')],
    ['a message of 4097 bytes', { key_spec: 'EC_P256' }, { message: b64(Buffer.alloc(4097)), signing_algorithm: 'ECDSA_SHA_256', message_type: 'RAW' }, 400, ERR('KMS.0308', 'Invalid parameter.')],
    ['no message', { key_spec: 'EC_P256' }, { signing_algorithm: 'ECDSA_SHA_256' }, 400, ERR('KMS.0204', 'Parameters missing in the request message.')],
  ];
  for (const [what, keyBody, body, status, expected] of BAD) {
    test(`sign with ${what} is ${status}`, async () => {
      const keyId = await newKey(world.as('alice'), keyBody);
      const r = await world.as('alice').kms('sign', { key_id: keyId, ...body });
      assert.deepEqual([r.status, r.body], [status, expected]);
    });
  }

  test('a disabled key cannot sign (KMS.0209); get-publickey of a symmetric key is KMS.0331', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice, { key_spec: 'EC_P256' });
    await alice.kms('disable-key', { key_id: keyId });
    const r = await alice.kms('sign', { key_id: keyId, message: b64(Buffer.alloc(32)), signing_algorithm: 'ECDSA_SHA_256' });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0209', 'The key has been disabled.')]);
    const sym = await newKey(alice);
    const p = await alice.kms('get-publickey', { key_id: sym });
    assert.deepEqual([p.status, p.body], [400, ERR('KMS.0331', 'The symmetric key is not support this operation.')]);
  });

  test('another account, a user without the action, and a grantee (before and after retire) may not sign, verify, get the public key or MAC', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin, { key_spec: 'EC_P256' });
    const macKey = await newKey(admin, { key_spec: 'HMAC_256' });
    const grant = await newGrant(admin, keyId, world.users.greg.id, ['describe-key', 'encrypt-data', 'retire-grant']);
    const signed = (await admin.kms('sign', { key_id: keyId, message: b64(Buffer.alloc(32)), signing_algorithm: 'ECDSA_SHA_256' })).body.signature;
    const calls: Array<[string, Record<string, unknown>]> = [
      ['sign', { key_id: keyId, message: b64(Buffer.alloc(32)), signing_algorithm: 'ECDSA_SHA_256' }],
      ['verify', { key_id: keyId, message: b64(Buffer.alloc(32)), signature: signed, signing_algorithm: 'ECDSA_SHA_256' }],
      ['get-publickey', { key_id: keyId }],
      ['generate-mac', { key_id: macKey, mac_algorithm: 'HMAC_SHA_256', message: b64('m') }],
    ];
    for (const who of ['greg', 'gus', 'boss', 'nobody', 'reader']) {
      for (const [op, body] of calls) assert.deepEqual(await world.as(who).kms(op, body).then((r) => [r.status, r.body]), [403, DENIED], `${who} ${op}`);
    }
    assert.equal((await world.as('greg').kms('retire-grant', { key_id: keyId, grant_id: grant })).status, 200);
    for (const [op, body] of calls) assert.deepEqual(await world.as('greg').kms(op, body).then((r) => [r.status, r.body]), [403, DENIED], `greg ${op} after retire`);
  });
});

