import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants, createCipheriv, createDecipheriv, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/core/runtime.ts';
import { Client, ERR, newGrant, newKey, randomKeyId, startWorld, type World } from '../harness.ts';
import { stateOf } from './key-state-helpers.ts';

/**
 * Bring your own key (reference §6): material made and wrapped outside kmsd (by OpenSSL's
 * command line, or node:crypto on the returned public key), imported, and then used both ways
 * with data encrypted outside kmsd under the same material.
 */
const clock = new ManualClock(Date.now());
let world: World;
let work: string;
before(async () => {
  world = await startWorld({ clock });
  work = mkdtempSync(join(tmpdir(), 'kmsd-import-'));
});
after(async () => {
  await world.close();
  rmSync(work, { recursive: true, force: true });
});

const HOUR = 3_600_000;
const DENIED = ERR('KMS.0306', 'No access permissions.');
const nowSeconds = () => Math.floor(clock.now() / 1000);

async function externalKey(client: Client, extra: Record<string, unknown> = {}): Promise<string> {
  return newKey(client, { origin: 'external', ...extra });
}

async function parameters(client: Client, keyId: string, wrapping_algorithm = 'RSAES_OAEP_SHA_256') {
  const r = await client.kms('get-parameters-for-import', { key_id: keyId, wrapping_algorithm });
  assert.equal(r.status, 200, r.text);
  return r.body as { key_id: string; import_token: string; expiration_time: number; public_key: string };
}

/** Wraps material with node:crypto, RSAES-OAEP with SHA-256 (MGF1 SHA-256). */
function wrap(publicKeyB64: string, material: Buffer, oaepHash = 'sha256'): string {
  const key = createPublicKey({ key: Buffer.from(publicKeyB64, 'base64'), format: 'der', type: 'spki' });
  return publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, material).toString('base64');
}

/** Wraps material with the OpenSSL command line, exactly as the README tells a user to. */
function opensslWrap(publicKeyB64: string, material: Buffer): string {
  const der = join(work, `pub-${randomBytes(4).toString('hex')}.der`);
  const plain = `${der}.bin`;
  const out = `${der}.enc`;
  writeFileSync(der, Buffer.from(publicKeyB64, 'base64'));
  writeFileSync(plain, material);
  execFileSync('openssl', [
    'pkeyutl', '-encrypt', '-pubin', '-keyform', 'DER', '-inkey', der, '-in', plain, '-out', out,
    '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256',
  ]);
  return readFileSync(out).toString('base64');
}

async function imported(client: Client, keyId: string, material: Buffer, extra: Record<string, unknown> = {}) {
  const p = await parameters(client, keyId);
  return client.kms('import-key-material', {
    key_id: keyId, import_token: p.import_token, encrypted_key_material: wrap(p.public_key, material), ...extra,
  });
}

/**
 * A kmsd ciphertext made outside kmsd, per the layout documented in src/core/envelope.ts:
 * format 2, kind (1 data, 2 data key), cipher 1 (AES-256-GCM), key id, material version,
 * nonce, zero padding to 96 bytes, ciphertext, tag; the whole header is additional data,
 * then the caller's AAD.
 */
const HEADER = 57;
function outsideEnvelope(keyId: string, material: Buffer, plaintext: Buffer, aad = Buffer.alloc(0), kind = 1): string {
  const padding = Math.max(0, 96 - HEADER - 16 - plaintext.length);
  const header = Buffer.alloc(HEADER + padding);
  header[0] = 2;
  header[1] = kind;
  header[2] = 1;
  header.write(keyId, 3, 36, 'latin1');
  header.writeUInt32BE(1, 39);
  const nonce = randomBytes(12);
  nonce.copy(header, 43);
  header.writeUInt16BE(padding, 55);
  const c = createCipheriv('aes-256-gcm', material, nonce);
  c.setAAD(Buffer.concat([header, aad]));
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([header, body, c.getAuthTag()]).toString('base64');
}

/** Opens a kmsd ciphertext outside kmsd with the known material (same layout). */
function openOutside(cipherTextB64: string, material: Buffer, aad = Buffer.alloc(0)): Buffer {
  const bytes = Buffer.from(cipherTextB64, 'base64');
  assert.deepEqual([bytes[0], bytes[2]], [2, 1], 'format 2, AES-256-GCM');
  const padding = bytes.readUInt16BE(55);
  const header = bytes.subarray(0, HEADER + padding);
  const d = createDecipheriv('aes-256-gcm', material, bytes.subarray(43, 55));
  d.setAAD(Buffer.concat([header, aad]));
  d.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([d.update(bytes.subarray(HEADER + padding, bytes.length - 16)), d.final()]);
}

/** A pending-import key that gus holds a grant on (granted while it had material, then emptied). */
async function grantedPendingKey(admin: Client): Promise<string> {
  const keyId = await externalKey(admin);
  assert.equal((await imported(admin, keyId, randomBytes(32))).status, 200);
  await newGrant(admin, keyId, world.users.gus.id, ['describe-key', 'encrypt-data']);
  assert.equal((await admin.kms('delete-imported-key-material', { key_id: keyId })).status, 200);
  return keyId;
}

describe('get-parameters-for-import', () => {
  test('answers an RSA-2048 public key, a token and an expiry 24 hours away, as the SDK types them', async () => {
    const admin = world.as('admin', 'aksk');
    const keyId = await externalKey(admin);
    const r = await admin.kms('get-parameters-for-import', { key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_256' });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body), ['key_id', 'import_token', 'expiration_time', 'public_key']);
    assert.equal(r.body.key_id, keyId);
    assert.equal(r.body.expiration_time, nowSeconds() + 86_400);
    assert.match(r.body.import_token, /^[0-9a-zA-Z+/=]{200,6144}$/);
    const key = createPublicKey({ key: Buffer.from(r.body.public_key, 'base64'), format: 'der', type: 'spki' });
    assert.deepEqual([key.asymmetricKeyType, key.asymmetricKeyDetails?.modulusLength], ['rsa', 2048]);
    // The key waits for its material: still pending import.
    assert.equal(await stateOf(admin, keyId), '5');
  });

  test('the token holds no clear private key: neither it nor the store contains the PKCS#8 header', async () => {
    const admin = world.as('admin');
    const p = await parameters(admin, await externalKey(admin));
    const token = Buffer.from(p.import_token, 'base64');
    // Every RSA PKCS#8 DER starts 30 82 .. .. 02 01 00 30 0d 06 09 2a 86 48 86 f7 0d 01 01 01.
    assert.equal(token.indexOf(Buffer.from('2a864886f70d010101', 'hex')), -1);
  });

  const BAD: Array<[string, (keyId: string) => Record<string, unknown>, number, object]> = [
    ['no wrapping_algorithm', (k) => ({ key_id: k }), 400, ERR('KMS.0204', 'Parameters missing in the request message.')],
    ['an unknown wrapping_algorithm', (k) => ({ key_id: k, wrapping_algorithm: 'RSAES_PKCS1_V1_5' }), 400, ERR('KMS.0308', 'Invalid parameter.')],
    ['SM2_ENCRYPT, which this region does not support', (k) => ({ key_id: k, wrapping_algorithm: 'SM2_ENCRYPT' }), 400, ERR('KMS.0308', 'Invalid parameter.')],
    ['a malformed key id', () => ({ key_id: 'nope', wrapping_algorithm: 'RSAES_OAEP_SHA_256' }), 400, ERR('KMS.0205', 'Invalid key ID.')],
    ['an unknown key', () => ({ key_id: randomKeyId(), wrapping_algorithm: 'RSAES_OAEP_SHA_256' }), 404, ERR('KMS.0207', 'The key does not exist.')],
  ];
  for (const [what, body, status, error] of BAD) {
    test(`${what}: ${status}`, async () => {
      const keyId = await externalKey(world.as('admin'));
      const r = await world.as('admin').kms('get-parameters-for-import', body(keyId));
      assert.deepEqual([r.status, r.body], [status, error]);
    });
  }

  test('a key made by KMS is not external: KMS.0309', async () => {
    const keyId = await newKey(world.as('admin'));
    const r = await world.as('admin').kms('get-parameters-for-import', { key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_256' });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0309', 'External keys required.')]);
  });

  test('a key whose material is in already is not pending import: KMS.0310', async () => {
    const admin = world.as('admin');
    const keyId = await externalKey(admin);
    assert.equal((await imported(admin, keyId, randomBytes(32))).status, 200);
    const r = await admin.kms('get-parameters-for-import', { key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_256' });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0310', 'The key is not in Pending import state.')]);
  });

  test('another account, a grantee and a user without the action are refused (KMS.0306)', async () => {
    const admin = world.as('admin');
    const keyId = await grantedPendingKey(admin);
    for (const who of ['boss', 'gus', 'reader', 'nobody']) {
      const r = await world.as(who).kms('get-parameters-for-import', { key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_256' });
      assert.deepEqual([r.status, r.body], [403, DENIED], who);
    }
  });
});

describe('import-key-material', () => {
  test('material wrapped by the openssl command line imports; kmsd then opens data encrypted outside kmsd with it', async () => {
    const alice = world.as('alice', 'aksk');
    const keyId = await externalKey(alice);
    const material = randomBytes(32);
    const p = await parameters(alice, keyId);
    const r = await alice.kms('import-key-material', {
      key_id: keyId, import_token: p.import_token, encrypted_key_material: opensslWrap(p.public_key, material),
    });
    assert.deepEqual([r.status, r.body], [200, {}]);
    const info = (await alice.kms('describe-key', { key_id: keyId })).body.key_info;
    assert.deepEqual([info.key_state, info.origin, info.expiration_time], ['2', 'external', '']);
    const outside = outsideEnvelope(keyId, material, Buffer.from('made outside kmsd'), Buffer.from('ctx-1'));
    const d = await alice.kms('decrypt-data', { cipher_text: outside, additional_authenticated_data: 'ctx-1' });
    assert.deepEqual([d.status, d.body.plain_text], [200, 'made outside kmsd']);
    // A data key wrapped outside kmsd opens with decrypt-datakey.
    const dek = randomBytes(32);
    const wrappedDek = Buffer.from(outsideEnvelope(keyId, material, dek, Buffer.alloc(0), 2), 'base64').toString('hex');
    const k = await alice.kms('decrypt-datakey', { key_id: keyId, cipher_text: wrappedDek, datakey_cipher_length: '32' });
    assert.deepEqual([k.status, k.body.data_key], [200, dek.toString('hex').toUpperCase()]);
  });

  test('and the reverse: what kmsd encrypts under imported material opens outside kmsd with that material', async () => {
    const admin = world.as('admin');
    const keyId = await externalKey(admin);
    const material = randomBytes(32);
    assert.equal((await imported(admin, keyId, material)).status, 200);
    const e = await admin.kms('encrypt-data', { key_id: keyId, plain_text: 'kmsd made this', additional_authenticated_data: 'ctx-2' });
    assert.equal(openOutside(e.body.cipher_text, material, Buffer.from('ctx-2')).toString(), 'kmsd made this');
    // A data key too: its plaintext is what the envelope holds.
    const dk = await admin.kms('create-datakey', { key_id: keyId, datakey_length: '256' });
    const cipher = Buffer.from(dk.body.cipher_text, 'hex').toString('base64');
    assert.equal(openOutside(cipher, material).toString('hex').toUpperCase(), dk.body.plain_text);
  });

  test('RSAES_OAEP_SHA_1 parameters take material wrapped with SHA-1 OAEP; SM4 keys take 16 bytes', async () => {
    const admin = world.as('admin');
    const keyId = await externalKey(admin, { key_spec: 'SM4' });
    const p = await parameters(admin, keyId, 'RSAES_OAEP_SHA_1');
    const r = await admin.kms('import-key-material', { key_id: keyId, import_token: p.import_token, encrypted_key_material: wrap(p.public_key, randomBytes(16), 'sha1') });
    assert.equal(r.status, 200, r.text);
    const e = await admin.kms('encrypt-data', { key_id: keyId, plain_text: 'sm4' });
    assert.equal((await admin.kms('decrypt-data', { cipher_text: e.body.cipher_text })).body.plain_text, 'sm4');
  });

  test('material of the wrong length: KMS.2604 (32 bytes for AES_256, 16 for SM4), and the key stays pending import', async () => {
    const admin = world.as('admin');
    for (const [spec, length] of [['AES_256', 16], ['AES_256', 33], ['SM4', 32]] as const) {
      const keyId = await externalKey(admin, { key_spec: spec });
      const r = await imported(admin, keyId, randomBytes(length));
      assert.deepEqual([r.status, r.body], [400, ERR('KMS.2604', 'The external key plaintext length must be 32 bits.')], `${spec} ${length}`);
      assert.equal(await stateOf(admin, keyId), '5');
    }
  });

  test('a token for another key: KMS.2603; a tampered token: KMS.2605; material wrapped for other parameters: KMS.0311', async () => {
    const admin = world.as('admin');
    const [a, b] = [await externalKey(admin), await externalKey(admin)];
    const pa = await parameters(admin, a);
    const pb = await parameters(admin, b);
    const material = randomBytes(32);
    const other = await admin.kms('import-key-material', { key_id: b, import_token: pa.import_token, encrypted_key_material: wrap(pa.public_key, material) });
    assert.deepEqual([other.status, other.body], [400, ERR('KMS.2603', 'Key IDs in the imported key and token do not match.')]);
    const token = Buffer.from(pa.import_token, 'base64');
    token[token.length - 5] ^= 1;
    const tampered = await admin.kms('import-key-material', { key_id: a, import_token: token.toString('base64'), encrypted_key_material: wrap(pa.public_key, material) });
    assert.deepEqual([tampered.status, tampered.body], [400, ERR('KMS.2605', 'Token verification failed.')]);
    const garbage = await admin.kms('import-key-material', { key_id: a, import_token: 'A'.repeat(400), encrypted_key_material: wrap(pa.public_key, material) });
    assert.deepEqual([garbage.status, garbage.body], [400, ERR('KMS.2605', 'Token verification failed.')]);
    const crossed = await admin.kms('import-key-material', { key_id: a, import_token: pa.import_token, encrypted_key_material: wrap(pb.public_key, material) });
    assert.deepEqual([crossed.status, crossed.body], [400, ERR('KMS.0311', 'Failed to decrypt data using the RSA private key.')]);
    assert.deepEqual([await stateOf(admin, a), await stateOf(admin, b)], ['5', '5']);
  });

  test('a token older than 24 hours: KMS.2601; an expiration_time not in the future: KMS.2602', async () => {
    const admin = world.as('admin');
    const keyId = await externalKey(admin);
    const p = await parameters(admin, keyId);
    const body = { key_id: keyId, import_token: p.import_token, encrypted_key_material: wrap(p.public_key, randomBytes(32)) };
    const past = await admin.kms('import-key-material', { ...body, expiration_time: nowSeconds() });
    assert.deepEqual([past.status, past.body], [400, ERR('KMS.2602', 'Key expiration time must be later than the current time.')]);
    clock.advance(24 * HOUR);
    try {
      // A fresh IAM token: the one the client holds expires at the same time.
      const late = await new Client(world, world.users.admin, 'token').kms('import-key-material', body);
      assert.deepEqual([late.status, late.body], [400, ERR('KMS.2601', 'Token expired.')]);
    } finally {
      clock.advance(-24 * HOUR);
    }
    assert.equal((await admin.kms('import-key-material', body)).status, 200);
  });

  test('expiration_time: the material expires then; the key is pending import again and refuses use until the same material is back', async () => {
    const admin = world.as('admin');
    const keyId = await externalKey(admin);
    const material = randomBytes(32);
    const expires = nowSeconds() + 3600;
    assert.equal((await imported(admin, keyId, material, { expiration_time: expires })).status, 200);
    assert.equal((await admin.kms('describe-key', { key_id: keyId })).body.key_info.expiration_time, String(expires * 1000));
    const e = await admin.kms('encrypt-data', { key_id: keyId, plain_text: 'before expiry' });
    clock.advance(HOUR);
    try {
      assert.equal(await stateOf(admin, keyId), '5');
      const refused = await admin.kms('decrypt-data', { cipher_text: e.body.cipher_text });
      assert.deepEqual([refused.status, refused.body], [400, ERR('KMS.0308', 'Invalid parameter.')]);
      await world.server.maintain();
      assert.equal(await world.server.store.read((tx) => tx.getMaterial(keyId, 1)), null);
      assert.equal(await stateOf(admin, keyId), '5');
      // Only the same material may come back, and then the old ciphertext opens again.
      const different = await imported(admin, keyId, randomBytes(32));
      assert.deepEqual([different.status, different.body], [400, ERR('KMS.2606', 'You are importing a deleted key again. The imported plaintext must be the same as the deleted key plaintext.')]);
      assert.equal((await imported(admin, keyId, material)).status, 200);
      assert.equal((await admin.kms('decrypt-data', { cipher_text: e.body.cipher_text })).body.plain_text, 'before expiry');
      assert.equal((await admin.kms('describe-key', { key_id: keyId })).body.key_info.expiration_time, '');
    } finally {
      clock.advance(-HOUR);
    }
  });

  test('expiration_time as a numeric string (as the Terraform provider sends it) is taken as seconds', async () => {
    const admin = world.as('admin');
    const keyId = await externalKey(admin);
    const expires = nowSeconds() + 7200;
    assert.equal((await imported(admin, keyId, randomBytes(32), { expiration_time: String(expires) })).status, 200);
    assert.equal((await admin.kms('describe-key', { key_id: keyId })).body.key_info.expiration_time, String(expires * 1000));
  });

  test('importing into a key that has material: KMS.0310; into a KMS key: KMS.0309', async () => {
    const admin = world.as('admin');
    const keyId = await externalKey(admin);
    const material = randomBytes(32);
    const p = await parameters(admin, keyId);
    const body = { key_id: keyId, import_token: p.import_token, encrypted_key_material: wrap(p.public_key, material) };
    assert.equal((await admin.kms('import-key-material', body)).status, 200);
    const again = await admin.kms('import-key-material', body);
    assert.deepEqual([again.status, again.body], [400, ERR('KMS.0310', 'The key is not in Pending import state.')]);
    const kmsKey = await newKey(admin);
    const r = await admin.kms('import-key-material', { ...body, key_id: kmsKey });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0309', 'External keys required.')]);
  });

  const BAD: Array<[string, Record<string, unknown>, object]> = [
    ['no import_token', { import_token: undefined }, ERR('KMS.0204', 'Parameters missing in the request message.')],
    ['no encrypted_key_material', { encrypted_key_material: undefined }, ERR('KMS.0204', 'Parameters missing in the request message.')],
    ['an import_token shorter than 200 characters', { import_token: 'AAAA' }, ERR('KMS.2605', 'Token verification failed.')],
    ['encrypted_key_material not 344-360 base64 characters', { encrypted_key_material: 'AAAA' }, ERR('KMS.0311', 'Failed to decrypt data using the RSA private key.')],
    ['expiration_time as text', { expiration_time: 'soon' }, ERR('KMS.2602', 'Key expiration time must be later than the current time.')],
    ['an encrypted_privatekey for a symmetric key', { encrypted_privatekey: 'A'.repeat(200) }, ERR('KMS.0331', 'The symmetric key is not support this operation.')],
  ];
  for (const [what, change, error] of BAD) {
    test(`${what}: 400`, async () => {
      const admin = world.as('admin');
      const keyId = await externalKey(admin);
      const p = await parameters(admin, keyId);
      const body = { key_id: keyId, import_token: p.import_token, encrypted_key_material: wrap(p.public_key, randomBytes(32)), ...change };
      const r = await admin.kms('import-key-material', JSON.parse(JSON.stringify(body)));
      assert.deepEqual([r.status, r.body], [400, error]);
      assert.equal(await stateOf(admin, keyId), '5');
    });
  }

  test('another account and a grantee cannot import, even with valid parameters (KMS.0306)', async () => {
    const admin = world.as('admin');
    const keyId = await grantedPendingKey(admin);
    const p = await parameters(admin, keyId);
    for (const who of ['boss', 'gus', 'reader']) {
      const r = await world.as(who).kms('import-key-material', { key_id: keyId, import_token: p.import_token, encrypted_key_material: wrap(p.public_key, randomBytes(32)) });
      assert.deepEqual([r.status, r.body], [403, DENIED], who);
    }
    assert.equal(await stateOf(admin, keyId), '5');
  });
});

describe('delete-imported-key-material', () => {
  test('removes the material: the key is pending import, refuses use, and takes the same material back', async () => {
    const admin = world.as('admin', 'aksk');
    const keyId = await externalKey(admin);
    const material = randomBytes(32);
    assert.equal((await imported(admin, keyId, material)).status, 200);
    const e = await admin.kms('encrypt-data', { key_id: keyId, plain_text: 'kept' });
    const r = await admin.kms('delete-imported-key-material', { key_id: keyId });
    assert.deepEqual([r.status, r.body], [200, {}]);
    assert.equal(await stateOf(admin, keyId), '5');
    assert.equal(await world.server.store.read((tx) => tx.getMaterial(keyId, 1)), null);
    const refused = await admin.kms('encrypt-data', { key_id: keyId, plain_text: 'x' });
    assert.deepEqual([refused.status, refused.body], [400, ERR('KMS.0308', 'Invalid parameter.')]);
    const different = await imported(admin, keyId, randomBytes(32));
    assert.equal(different.body.error.error_code, 'KMS.2606');
    assert.equal((await imported(admin, keyId, material)).status, 200);
    assert.equal((await admin.kms('decrypt-data', { cipher_text: e.body.cipher_text })).body.plain_text, 'kept');
  });

  test('a disabled key may lose its material too; a pending-import key may not (KMS.2701); a KMS key is not external (KMS.0309)', async () => {
    const admin = world.as('admin');
    const keyId = await externalKey(admin);
    const early = await admin.kms('delete-imported-key-material', { key_id: keyId });
    assert.deepEqual([early.status, early.body], [400, ERR('KMS.2701', 'Key material is not in Enabled or Disabled state and cannot be deleted.')]);
    assert.equal((await imported(admin, keyId, randomBytes(32))).status, 200);
    assert.equal((await admin.kms('disable-key', { key_id: keyId })).status, 200);
    assert.equal((await admin.kms('delete-imported-key-material', { key_id: keyId })).status, 200);
    assert.equal(await stateOf(admin, keyId), '5');
    const kmsKey = await newKey(admin);
    const r = await admin.kms('delete-imported-key-material', { key_id: kmsKey });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0309', 'External keys required.')]);
  });

  test('another account and a grantee are refused (KMS.0306); an unknown key is 404', async () => {
    const admin = world.as('admin');
    const keyId = await externalKey(admin);
    assert.equal((await imported(admin, keyId, randomBytes(32))).status, 200);
    await newGrant(admin, keyId, world.users.gus.id, ['encrypt-data']);
    for (const who of ['boss', 'gus', 'reader']) {
      const r = await world.as(who).kms('delete-imported-key-material', { key_id: keyId });
      assert.deepEqual([r.status, r.body], [403, DENIED], who);
    }
    assert.equal(await stateOf(admin, keyId), '2');
    const r = await admin.kms('delete-imported-key-material', { key_id: randomKeyId() });
    assert.deepEqual([r.status, r.body], [404, ERR('KMS.0207', 'The key does not exist.')]);
  });

  test('imported material is stored sealed, never in the clear', async () => {
    const admin = world.as('admin');
    const keyId = await externalKey(admin);
    const material = randomBytes(32);
    assert.equal((await imported(admin, keyId, material)).status, 200);
    const row = await world.server.store.read((tx) => tx.getMaterial(keyId, 1));
    assert.ok(row);
    assert.equal(row.sealed.indexOf(material), -1);
    const key = await world.server.store.read((tx) => tx.getKey(keyId));
    assert.ok(key?.importDigest);
    assert.equal(key.importDigest.indexOf(material), -1);
  });
});
