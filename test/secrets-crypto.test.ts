import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, webcrypto } from 'node:crypto';
import { ERR, keyMaterial, newKey, startWorld, type World } from './harness.ts';
import { KEY_UNUSABLE, newSecret, secretsPath } from './support/csms.ts';

/**
 * Secret values against an independent implementation (WebCrypto AES-GCM), both ways, and the
 * attacks the envelope's binding stops: a sealed value moved to another secret or version, or
 * handed to decrypt-data. The layout is restated from src/core/envelope.ts (format 2, kind 3 for
 * a secret value); the additional data is the header, then "csms:<secret id>:<version id>:<kind>".
 */
let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const aadOf = (secretId: string, versionId: string, kind: string) => Buffer.from(`csms:${secretId}:${versionId}:${kind}`);

function split(envelope: Buffer) {
  const headerEnd = 57 + envelope.readUInt16BE(55);
  return { kind: envelope[1], keyId: envelope.toString('latin1', 3, 39), version: envelope.readUInt32BE(39), iv: envelope.subarray(43, 55), header: envelope.subarray(0, headerEnd), sealed: envelope.subarray(headerEnd) };
}

const sealedOf = async (secretId: string, versionId: string) => {
  const v = await world.server.store.read((tx) => tx.secrets.getVersion(secretId, versionId));
  assert.ok(v);
  return v;
};

describe('secret values and WebCrypto', () => {
  test('a value kmsd sealed opens with crypto.subtle under the key material and the documented additional data', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const { body } = await newSecret(admin, { kms_key_id: keyId, secret_string: 'opened elsewhere' });
    const parts = split((await sealedOf(body.secret.id, 'v1')).sealed);
    assert.deepEqual([parts.kind, parts.keyId, parts.version], [3, keyId, 1]);
    const key = await webcrypto.subtle.importKey('raw', await keyMaterial(world, keyId, 1), 'AES-GCM', false, ['decrypt']);
    const additionalData = Buffer.concat([parts.header, aadOf(body.secret.id, 'v1', 'string')]);
    const plain = await webcrypto.subtle.decrypt({ name: 'AES-GCM', iv: parts.iv, additionalData, tagLength: 128 }, key, parts.sealed);
    assert.equal(Buffer.from(plain).toString(), 'opened elsewhere');
  });

  test('a value sealed by crypto.subtle reads back through show-secret-version', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const { body } = await newSecret(admin, { kms_key_id: keyId, secret_string: 'to be replaced' });
    const key = await webcrypto.subtle.importKey('raw', await keyMaterial(world, keyId, 1), 'AES-GCM', false, ['encrypt']);
    const header = Buffer.alloc(96 - 16 - 'from webcrypto'.length);
    header[0] = 2;
    header[1] = 3;
    header[2] = 1;
    header.write(keyId, 3, 'latin1');
    header.writeUInt32BE(1, 39);
    randomBytes(12).copy(header, 43);
    header.writeUInt16BE(header.length - 57, 55);
    const sealed = await webcrypto.subtle.encrypt(
      { name: 'AES-GCM', iv: header.subarray(43, 55), additionalData: Buffer.concat([header, aadOf(body.secret.id, 'v1', 'string')]), tagLength: 128 },
      key, Buffer.from('from webcrypto'),
    );
    const version = await sealedOf(body.secret.id, 'v1');
    await world.server.store.write(async (tx) => {
      await tx.secrets.deleteVersion(body.secret.id, 'v1');
      await tx.secrets.insertVersion({ ...version, sealed: Buffer.concat([header, Buffer.from(sealed)]) });
    });
    const r = await admin.request('GET', secretsPath(admin, `/${body.secret.name}/versions/v1`));
    assert.deepEqual([r.status, r.body.version.secret_string], [200, 'from webcrypto']);
  });
});

describe('attacks on stored values', () => {
  test('a sealed value copied into another secret (same key) does not open there: CSMS.0401, never the other value', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const victim = await newSecret(admin, { kms_key_id: keyId, secret_string: 'victim value' });
    const attacker = await newSecret(admin, { kms_key_id: keyId, secret_string: 'attacker value' });
    const stolen = await sealedOf(victim.body.secret.id, 'v1');
    const own = await sealedOf(attacker.body.secret.id, 'v1');
    await world.server.store.write(async (tx) => {
      await tx.secrets.deleteVersion(attacker.body.secret.id, 'v1');
      await tx.secrets.insertVersion({ ...own, sealed: stolen.sealed });
    });
    const r = await admin.request('GET', secretsPath(admin, `/${attacker.body.secret.name}/versions/v1`));
    assert.deepEqual([r.status, r.body], [400, KEY_UNUSABLE]);
  });

  test('a value moved to another version of the same secret, or relabelled binary, does not open either', async () => {
    const admin = world.as('admin');
    const { body } = await newSecret(admin, { secret_string: 'v1 value' });
    await admin.request('POST', secretsPath(admin, `/${body.secret.name}/versions`), { secret_string: 'v2 value' });
    const v1 = await sealedOf(body.secret.id, 'v1');
    const v2 = await sealedOf(body.secret.id, 'v2');
    await world.server.store.write(async (tx) => {
      await tx.secrets.deleteVersion(body.secret.id, 'v2');
      await tx.secrets.insertVersion({ ...v2, sealed: v1.sealed });
      await tx.secrets.deleteVersion(body.secret.id, 'v1');
      await tx.secrets.insertVersion({ ...v1, kind: 'binary' });
    });
    for (const id of ['v1', 'v2']) {
      const r = await admin.request('GET', secretsPath(admin, `/${body.secret.name}/versions/${id}`));
      assert.deepEqual([r.status, r.body], [400, KEY_UNUSABLE], id);
    }
  });

  // Purpose binding: each attempt below sends the very additional data the value was sealed
  // with (csms:<id>:<version>:<kind>), so key, material and AAD all match and only the
  // envelope's kind refuses it (checked: these tests fail with the kind check removed).
  const BAD_CIPHER = ERR('KMS.2201', 'Invalid cipher_text.');

  test('a decrypt-data ciphertext with the value\'s own AAD, put in a secret version, does not open as a value', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const { body } = await newSecret(admin, { kms_key_id: keyId });
    const aad = `csms:${body.secret.id}:v1:string`;
    const ct = Buffer.from((await admin.kms('encrypt-data', { key_id: keyId, plain_text: 'data, not a secret', additional_authenticated_data: aad })).body.cipher_text, 'base64');
    const version = await sealedOf(body.secret.id, 'v1');
    await world.server.store.write(async (tx) => {
      await tx.secrets.deleteVersion(body.secret.id, 'v1');
      await tx.secrets.insertVersion({ ...version, sealed: ct });
    });
    const r = await admin.request('GET', secretsPath(admin, `/${body.secret.name}/versions/v1`));
    assert.deepEqual([r.status, r.body], [400, KEY_UNUSABLE]);
  });

  test('a create-datakey ciphertext with the value\'s own AAD, put in a binary version, does not open as a value', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const { body } = await newSecret(admin, { kms_key_id: keyId, secret_string: undefined, secret_binary: randomBytes(32).toString('base64') });
    const aad = `csms:${body.secret.id}:v1:binary`;
    const made = await admin.kms('create-datakey', { key_id: keyId, datakey_length: '256', additional_authenticated_data: aad });
    assert.equal(made.status, 200, made.text);
    const version = await sealedOf(body.secret.id, 'v1');
    await world.server.store.write(async (tx) => {
      await tx.secrets.deleteVersion(body.secret.id, 'v1');
      await tx.secrets.insertVersion({ ...version, sealed: Buffer.from(made.body.cipher_text, 'hex') });
    });
    const r = await admin.request('GET', secretsPath(admin, `/${body.secret.name}/versions/v1`));
    assert.deepEqual([r.status, r.body], [400, KEY_UNUSABLE]);
  });

  test('a stored secret value given to decrypt-data with its own AAD does not open: KMS.2201', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const text = await newSecret(admin, { kms_key_id: keyId, secret_string: 'the value' });
    const sealedText = (await sealedOf(text.body.secret.id, 'v1')).sealed;
    const asData = await admin.kms('decrypt-data', {
      key_id: keyId, cipher_text: sealedText.toString('base64'), additional_authenticated_data: `csms:${text.body.secret.id}:v1:string`,
    });
    assert.deepEqual([asData.status, asData.body], [400, BAD_CIPHER]);
  });

  test('a stored binary value given to decrypt-datakey with its own AAD does not open: KMS.2201', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    // A 32-byte binary value: the length decrypt-datakey is told matches, only the kind differs.
    const binary = await newSecret(admin, { kms_key_id: keyId, secret_string: undefined, secret_binary: randomBytes(32).toString('base64') });
    const sealedBinary = (await sealedOf(binary.body.secret.id, 'v1')).sealed;
    const asDataKey = await admin.kms('decrypt-datakey', {
      key_id: keyId, cipher_text: sealedBinary.toString('hex'), datakey_cipher_length: '32',
      additional_authenticated_data: `csms:${binary.body.secret.id}:v1:binary`,
    });
    assert.deepEqual([asDataKey.status, asDataKey.body], [400, BAD_CIPHER]);
  });
});
