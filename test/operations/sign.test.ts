import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants, createHash, createHmac, createPrivateKey, createPublicKey, publicEncrypt, sign, verify } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERR, hex, keyMaterial, newGrant, newKey, startWorld, type World } from '../harness.ts';

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

  test('SM2 SM2DSA_SM3 RAW verifies with OpenSSL (its default distinguishing ID); DIGEST is 400 KMS.0308', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice, { key_spec: 'SM2' });
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-sm2-'));
    writeFileSync(join(dir, 'pub.pem'), (await alice.kms('get-publickey', { key_id: keyId })).body.public_key);
    writeFileSync(join(dir, 'msg'), 'sm2 message');
    const r = await alice.kms('sign', { key_id: keyId, message: b64('sm2 message'), signing_algorithm: 'SM2DSA_SM3', message_type: 'RAW' });
    assert.equal(r.status, 200, r.text);
    writeFileSync(join(dir, 'sig'), Buffer.from(r.body.signature, 'base64'));
    const out = execFileSync('openssl', ['pkeyutl', '-verify', '-in', join(dir, 'msg'), '-sigfile', join(dir, 'sig'), '-pubin', '-inkey', join(dir, 'pub.pem'), '-rawin', '-digest', 'sm3']).toString();
    assert.match(out, /Signature Verified Successfully/);
    const v = await alice.kms('verify', { key_id: keyId, message: b64('sm2 message'), signature: r.body.signature, signing_algorithm: 'SM2DSA_SM3', message_type: 'RAW' });
    assert.equal(v.body.signature_valid, 'true');
    const digest = await alice.kms('sign', { key_id: keyId, message: b64(createHash('sm3').update('x').digest()), signing_algorithm: 'SM2DSA_SM3' });
    assert.deepEqual([digest.status, digest.body], [400, ERR('KMS.0308', 'Invalid parameter.')]);
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
    const grant = await newGrant(admin, keyId, world.users.gus.id, ['describe-key', 'encrypt-data', 'retire-grant']);
    const signed = (await admin.kms('sign', { key_id: keyId, message: b64(Buffer.alloc(32)), signing_algorithm: 'ECDSA_SHA_256' })).body.signature;
    const calls: Array<[string, Record<string, unknown>]> = [
      ['sign', { key_id: keyId, message: b64(Buffer.alloc(32)), signing_algorithm: 'ECDSA_SHA_256' }],
      ['verify', { key_id: keyId, message: b64(Buffer.alloc(32)), signature: signed, signing_algorithm: 'ECDSA_SHA_256' }],
      ['get-publickey', { key_id: keyId }],
      ['generate-mac', { key_id: macKey, mac_algorithm: 'HMAC_SHA_256', message: b64('m') }],
    ];
    for (const who of ['gus', 'boss', 'nobody', 'reader']) {
      for (const [op, body] of calls) assert.deepEqual(await world.as(who).kms(op, body).then((r) => [r.status, r.body]), [403, DENIED], `${who} ${op}`);
    }
    assert.equal((await world.as('gus').kms('retire-grant', { key_id: keyId, grant_id: grant })).status, 200);
    for (const [op, body] of calls) assert.deepEqual(await world.as('gus').kms(op, body).then((r) => [r.status, r.body]), [403, DENIED], `gus ${op} after retire`);
  });
});

describe('MACs', () => {
  for (const [spec, algorithm, hash] of [['HMAC_256', 'HMAC_SHA_256', 'sha256'], ['HMAC_384', 'HMAC_SHA_384', 'sha384'], ['HMAC_512', 'HMAC_SHA_512', 'sha512'], ['HMAC_SM3', 'HMAC_SM3', 'sm3']]) {
    test(`${spec}: generate-mac is HMAC with the key's secret; verify-mac answers a JSON boolean`, async () => {
      const alice = world.as('alice');
      const keyId = await newKey(alice, { key_spec: spec });
      const d = await alice.kms('describe-key', { key_id: keyId });
      assert.deepEqual([d.body.key_info.key_spec, d.body.key_info.key_usage], [spec, 'GENERATE_VERIFY_MAC']);
      const r = await alice.kms('generate-mac', { key_id: keyId, mac_algorithm: algorithm, message: b64('mac me') });
      assert.equal(r.status, 200, r.text);
      const expected = createHmac(hash, await keyMaterial(world, keyId, 1)).update('mac me').digest('base64');
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

describe('keys', () => {
  test('describe-key and list-keys report every new spec with its default usage', async () => {
    const alice = world.as('alice');
    const expected: Record<string, string> = {
      RSA_2048: 'SIGN_VERIFY', EC_P256: 'SIGN_VERIFY', EC_P384: 'SIGN_VERIFY', SECP256K1: 'SIGN_VERIFY', SM2: 'SIGN_VERIFY',
      ED25519: 'SIGN_VERIFY', HMAC_384: 'GENERATE_VERIFY_MAC',
    };
    for (const [spec, usage] of Object.entries(expected)) {
      const keyId = await newKey(alice, { key_spec: spec });
      const d = await alice.kms('describe-key', { key_id: keyId });
      assert.deepEqual([d.body.key_info.key_spec, d.body.key_info.key_usage, d.body.key_info.key_state], [spec, usage, '2']);
      const l = await alice.kms('list-keys', { key_spec: spec });
      assert.ok(l.body.keys.includes(keyId), spec);
    }
  });

  test('asymmetric keys cannot rotate: 400 KMS.0324', async () => {
    const keyId = await newKey(world.as('alice'), { key_spec: 'RSA_2048', key_usage: 'ENCRYPT_DECRYPT' });
    const r = await world.as('alice').kms('enable-key-rotation', { key_id: keyId });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0324', 'RSA keys cannot be rotated.')]);
  });

  test('an RSA_4096 key being generated does not hold up other requests', async () => {
    const alice = world.as('alice');
    const creating = alice.kms('create-key', { key_alias: `big-${hex(4)}`, key_spec: 'RSA_4096' });
    const t0 = Date.now();
    assert.equal((await alice.kms('gen-random', { random_data_length: '256' })).status, 200);
    const quick = Date.now() - t0;
    assert.equal((await creating).status, 200);
    assert.ok(quick < 500, `gen-random took ${quick} ms while an RSA_4096 key was generated`);
  });
});

describe('asymmetric encryption', () => {
  for (const [algorithm, hash, limit] of [['RSAES_OAEP_SHA_256', 'sha256', 190], ['RSAES_OAEP_SHA_1', 'sha1', 214]] as const) {
    test(`RSA_2048 ${algorithm}: a ciphertext made outside kmsd decrypts in kmsd; ${limit} bytes fit, ${limit + 1} are KMS.2108`, async () => {
      const alice = world.as('alice');
      const keyId = await newKey(alice, { key_spec: 'RSA_2048', key_usage: 'ENCRYPT_DECRYPT' });
      const publicKey = await publicKeyOf(keyId);
      const outside = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, Buffer.from('made outside'));
      const d = await alice.kms('decrypt-data', { key_id: keyId, cipher_text: b64(outside), encryption_algorithm: algorithm });
      assert.deepEqual([d.status, d.body], [200, { key_id: keyId, plain_text: 'made outside', plain_text_base64: b64('made outside') }]);
      const e = await alice.kms('encrypt-data', { key_id: keyId, plain_text: 'x'.repeat(limit), encryption_algorithm: algorithm });
      assert.equal(e.status, 200, e.text);
      assert.equal(Buffer.from(e.body.cipher_text, 'base64').length, 256);
      const back = await alice.kms('decrypt-data', { key_id: keyId, cipher_text: e.body.cipher_text, encryption_algorithm: algorithm });
      assert.equal(back.body.plain_text, 'x'.repeat(limit));
      const over = await alice.kms('encrypt-data', { key_id: keyId, plain_text: 'x'.repeat(limit + 1), encryption_algorithm: algorithm });
      assert.deepEqual([over.status, over.body], [400, ERR('KMS.2108', 'The rsa encryption plain_text is over length.')]);
    });
  }

  test('decrypt-data of an RSA ciphertext needs key_id (KMS.0204); SM2_ENCRYPT is KMS.0325; a signing key KMS.0335', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice, { key_spec: 'RSA_2048', key_usage: 'ENCRYPT_DECRYPT' });
    const e = await alice.kms('encrypt-data', { key_id: keyId, plain_text: 'x', encryption_algorithm: 'RSAES_OAEP_SHA_256' });
    const d = await alice.kms('decrypt-data', { cipher_text: e.body.cipher_text, encryption_algorithm: 'RSAES_OAEP_SHA_256' });
    assert.deepEqual([d.status, d.body], [400, ERR('KMS.0204', 'Parameters missing in the request message.')]);
    const sm2 = await newKey(alice, { key_spec: 'SM2', key_usage: 'ENCRYPT_DECRYPT' });
    const s = await alice.kms('encrypt-data', { key_id: sm2, plain_text: 'x', encryption_algorithm: 'SM2_ENCRYPT' });
    assert.deepEqual([s.status, s.body], [400, ERR('KMS.0325', 'The asymmetric key is not support this operation.')]);
    const signing = await newKey(alice, { key_spec: 'RSA_2048' });
    const g = await alice.kms('encrypt-data', { key_id: signing, plain_text: 'x', encryption_algorithm: 'RSAES_OAEP_SHA_256' });
    assert.deepEqual([g.status, g.body], [400, ERR('KMS.0335', 'The cmk is used to sign and verify.')]);
    const sym = await alice.kms('encrypt-data', { key_id: keyId, plain_text: 'x' });
    assert.deepEqual([sym.status, sym.body], [400, ERR('KMS.0325', 'The asymmetric key is not support this operation.')]);
  });
});

describe('data key pairs and re-encrypt', () => {
  for (const [op, spec] of [['create-rsa-datakey-pair', 'RSA_2048'], ['create-ec-datakey-pair', 'ECC_NIST_P256'], ['create-ec-datakey-pair', 'ECC_SECG_P256K1'], ['create-ec-datakey-pair', 'SM2']]) {
    test(`${op} ${spec}: the private key matches the public key, and decrypt-data opens its ciphertext`, async () => {
      const alice = world.as('alice');
      const keyId = await newKey(alice);
      const r = await alice.kms(op, { key_id: keyId, key_spec: spec, additional_authenticated_data: 'pair' });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(Object.keys(r.body).sort(), ['key_id', 'key_spec', 'private_key_cipher_text', 'private_key_plain_text', 'public_key']);
      const priv = createPrivateKey({ key: Buffer.from(r.body.private_key_plain_text, 'base64'), format: 'der', type: 'pkcs8' });
      assert.equal(createPublicKey(priv).export({ type: 'spki', format: 'pem' }), r.body.public_key.replace(/\r\n/g, '\n'));
      const d = await alice.kms('decrypt-data', { cipher_text: r.body.private_key_cipher_text, additional_authenticated_data: 'pair' });
      assert.equal(d.body.plain_text_base64, r.body.private_key_plain_text);
      const without = await alice.kms(op, { key_id: keyId, key_spec: spec, with_plain_text: false });
      assert.deepEqual(Object.keys(without.body).sort(), ['key_id', 'key_spec', 'private_key_cipher_text', 'public_key']);
    });
  }

  test('a pair needs a symmetric key (KMS.0325) and a spec of its family (KMS.0308)', async () => {
    const alice = world.as('alice');
    const r = await alice.kms('create-rsa-datakey-pair', { key_id: await newKey(alice), key_spec: 'ECC_NIST_P256' });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0308', 'Invalid parameter.')]);
    const a = await alice.kms('create-ec-datakey-pair', { key_id: await newKey(alice, { key_spec: 'RSA_2048', key_usage: 'ENCRYPT_DECRYPT' }), key_spec: 'ECC_NIST_P256' });
    assert.deepEqual([a.status, a.body], [400, ERR('KMS.0325', 'The asymmetric key is not support this operation.')]);
  });

  test('re-encrypt moves a ciphertext from an AES key to an RSA key and back, with AAD', async () => {
    const alice = world.as('alice');
    const aes = await newKey(alice);
    const rsa = await newKey(alice, { key_spec: 'RSA_3072', key_usage: 'ENCRYPT_DECRYPT' });
    const ct = (await alice.kms('encrypt-data', { key_id: aes, plain_text: 'moving', additional_authenticated_data: 'a1' })).body.cipher_text;
    const r = await alice.kms('re-encrypt', {
      cipher_text: ct, source_additional_authenticated_data: 'a1', destination_key_id: rsa, destination_encryption_algorithm: 'RSAES_OAEP_SHA_256',
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.body).sort(), ['cipher_text', 'destination_encryption_algorithm', 'key_id', 'source_encryption_algorithm', 'source_key_id']);
    assert.deepEqual([r.body.key_id, r.body.source_key_id, r.body.source_encryption_algorithm, r.body.destination_encryption_algorithm], [rsa, aes, 'SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_256']);
    const back = await alice.kms('re-encrypt', {
      cipher_text: r.body.cipher_text, source_key_id: rsa, source_encryption_algorithm: 'RSAES_OAEP_SHA_256', destination_key_id: aes,
      destination_additional_authenticated_data: 'a2',
    });
    assert.equal(back.status, 200, back.text);
    const d = await alice.kms('decrypt-data', { cipher_text: back.body.cipher_text, additional_authenticated_data: 'a2' });
    assert.equal(d.body.plain_text, 'moving');
    const noSource = await alice.kms('re-encrypt', { cipher_text: r.body.cipher_text, source_encryption_algorithm: 'RSAES_OAEP_SHA_256', destination_key_id: aes });
    assert.deepEqual([noSource.status, noSource.body], [400, ERR('KMS.0204', 'Parameters missing in the request message.')]);
  });

  test('re-encrypt needs decrypt-data on the source and encrypt-data on the destination', async () => {
    const admin = world.as('admin');
    const gus = world.as('gus');
    const source = await newKey(admin);
    const destination = await newKey(admin);
    const ct = (await admin.kms('encrypt-data', { key_id: source, plain_text: 'granted' })).body.cipher_text;
    const body = { cipher_text: ct, destination_key_id: destination };
    assert.deepEqual(await gus.kms('re-encrypt', body).then((r) => [r.status, r.body]), [403, DENIED]);
    const g1 = await newGrant(admin, source, world.users.gus.id, ['decrypt-data']);
    assert.deepEqual(await gus.kms('re-encrypt', body).then((r) => [r.status, r.body]), [403, DENIED]);
    await newGrant(admin, destination, world.users.gus.id, ['encrypt-data']);
    const ok = await gus.kms('re-encrypt', body);
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await admin.kms('decrypt-data', { cipher_text: ok.body.cipher_text })).body.plain_text, 'granted');
    assert.equal((await admin.kms('revoke-grant', { key_id: source, grant_id: g1 })).status, 200);
    assert.deepEqual(await gus.kms('re-encrypt', body).then((r) => [r.status, r.body]), [403, DENIED]);
  });
});

test('generated keys are real: the RSA public exponent is 65537 and the EC curve the spec says', async () => {
  const alice = world.as('alice');
  const rsa = await publicKeyOf(await newKey(alice, { key_spec: 'RSA_3072' }));
  assert.deepEqual([rsa.asymmetricKeyType, rsa.asymmetricKeyDetails?.modulusLength, rsa.asymmetricKeyDetails?.publicExponent], ['rsa', 3072, 65537n]);
  const ec = await publicKeyOf(await newKey(alice, { key_spec: 'EC_P384' }));
  assert.equal(ec.asymmetricKeyDetails?.namedCurve, 'secp384r1');
});
