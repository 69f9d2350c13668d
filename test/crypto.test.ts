import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { testConfig } from '../src/config.ts';
import { startServer } from '../src/server.ts';
import { materialContext } from '../src/core/sealing.ts';
import { Client, ERR, hex, keyMaterial, newGrant, newKey, startWorld } from './harness.ts';

const DENIED = ERR('KMS.0306', 'No access permissions.');

describe('grants decide every cryptographic operation', () => {
  test('a grantee encrypts, the owner decrypts; after retire every call of the grantee is 403', async () => {
    const world = await startWorld();
    try {
      const owner = world.as('admin');
      // greg holds kms:grant:retire, which a retiring IAM user needs besides the grant.
      const gus = world.as('greg', 'aksk');
      const keyId = await newKey(owner);
      const ops = ['encrypt-data', 'decrypt-data', 'create-datakey', 'create-datakey-without-plaintext', 'encrypt-datakey', 'decrypt-datakey', 'describe-key', 'retire-grant'];
      const grantId = await newGrant(owner, keyId, world.users.greg.id, ops);
      const enc = await gus.kms('encrypt-data', { key_id: keyId, plain_text: 'from the grantee' });
      assert.equal(enc.status, 200);
      assert.equal((await owner.kms('decrypt-data', { cipher_text: enc.body.cipher_text })).body.plain_text, 'from the grantee');
      const dek = randomBytes(32);
      const dekIn = Buffer.concat([dek, createHash('sha256').update(dek).digest()]).toString('hex');
      const dk = await gus.kms('create-datakey', { key_id: keyId });
      const calls: Array<[string, Record<string, unknown>]> = [
        ['encrypt-data', { key_id: keyId, plain_text: 'x' }],
        ['decrypt-data', { cipher_text: enc.body.cipher_text }],
        ['create-datakey', { key_id: keyId }],
        ['create-datakey-without-plaintext', { key_id: keyId }],
        ['encrypt-datakey', { key_id: keyId, plain_text: dekIn, datakey_plain_length: '32' }],
        ['decrypt-datakey', { key_id: keyId, cipher_text: dk.body.cipher_text, datakey_cipher_length: '32' }],
        ['describe-key', { key_id: keyId }],
      ];
      for (const [op, body] of calls) assert.equal((await gus.kms(op, body)).status, 200, `${op} before retire`);
      assert.equal((await gus.kms('retire-grant', { key_id: keyId, grant_id: grantId })).status, 200);
      for (const [op, body] of calls) assert.deepEqual(await gus.kms(op, body).then((r) => [r.status, r.body]), [403, DENIED], `${op} after retire`);
    } finally {
      await world.close();
    }
  });
});

describe('key material at rest', () => {
  test('data encrypted before a restart decrypts after it', async () => {
    const world = await startWorld();
    const dir = world.dataDir;
    try {
      const keyId = await newKey(world.as('admin'));
      const ct = (await world.as('admin').kms('encrypt-data', { key_id: keyId, plain_text: 'durable' })).body.cipher_text;
      const dk = (await world.as('admin').kms('create-datakey', { key_id: keyId, datakey_length: '128' })).body;
      await world.server.close();
      const again = await startServer(testConfig({ dataDir: dir, identities: join(dir, 'identities.json'), port: 0 }), { clock: world.clock, logger: false });
      try {
        const client = new Client({ ...world, url: again.url }, world.users.admin, 'aksk');
        assert.equal((await client.kms('decrypt-data', { cipher_text: ct })).body.plain_text, 'durable');
        assert.equal((await client.kms('decrypt-datakey', { key_id: keyId, cipher_text: dk.cipher_text, datakey_cipher_length: '16' })).body.data_key, dk.plain_text);
      } finally {
        await again.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the SQLite files hold no key material, data key, plaintext or secret key in the clear', async () => {
    const world = await startWorld();
    try {
      const admin = world.as('admin');
      const secrets: Buffer[] = [];
      const keyIds = [await newKey(admin), await newKey(admin, { key_spec: 'SM4' })];
      for (const keyId of keyIds) {
        secrets.push(await keyMaterial(world, keyId, 1));
        for (let i = 0; i < 5; i++) {
          const plain = `plaintext-${hex(12)}`;
          secrets.push(Buffer.from(plain));
          await admin.kms('encrypt-data', { key_id: keyId, plain_text: plain });
          const dk = await admin.kms('create-datakey', { key_id: keyId });
          secrets.push(Buffer.from(dk.body.plain_text, 'hex'));
        }
      }
      // Asymmetric private keys (PKCS#8 DER, and the private scalar alone), HMAC secrets, data key pairs' private keys.
      for (const spec of ['RSA_2048', 'EC_P256', 'SECP256K1', 'SM2', 'ED25519', 'HMAC_256', 'HMAC_SM3']) {
        const material = await keyMaterial(world, await newKey(admin, { key_spec: spec }), 1);
        secrets.push(material);
        // The 32-byte private scalar of an EC key (ECPrivateKey: 02 01 01 04 20 d) or an Ed25519 key (04 20 d, last).
        const at = spec === 'ED25519' ? material.length - 32 : material.indexOf(Buffer.from('0201010420', 'hex')) + 5;
        if (!spec.startsWith('HMAC') && !spec.startsWith('RSA')) secrets.push(material.subarray(at, at + 32));
      }
      for (const [op, spec] of [['create-ec-datakey-pair', 'ECC_NIST_P256'], ['create-rsa-datakey-pair', 'RSA_2048']]) {
        const pair = await admin.kms(op, { key_id: keyIds[0], key_spec: spec });
        secrets.push(Buffer.from(pair.body.private_key_plain_text, 'base64'));
      }
      for (const user of Object.values(world.users)) secrets.push(Buffer.from(user.sk), Buffer.from(user.password));
      // Read the files while the write-ahead log is live, and again after closing checkpoints it.
      const read = () => readdirSync(world.dataDir).filter((f) => f.startsWith('kmsd.db')).map((f) => [f, readFileSync(join(world.dataDir, f))] as const);
      const live = read();
      assert.deepEqual(live.map(([f]) => f).sort(), ['kmsd.db', 'kmsd.db-shm', 'kmsd.db-wal']);
      await world.server.store.close();
      const snapshot = [...live, ...read()];
      const files = snapshot.map(([f]) => f);
      const contents = snapshot.map(([, c]) => c);
      for (const secret of secrets) {
        const forms = [secret, Buffer.from(secret.toString('hex')), Buffer.from(secret.toString('hex').toUpperCase()), Buffer.from(secret.toString('base64'))];
        for (const [i, content] of contents.entries()) {
          for (const form of forms) assert.equal(content.indexOf(form), -1, `a secret is readable in ${files[i]}`);
        }
      }
    } finally {
      await world.close().catch(() => {});
    }
  });
});

describe('an independent implementation reads and writes the envelope (WebCrypto AES-GCM)', () => {
  // The layout, restated here from its specification in src/core/envelope.ts rather than imported.
  // Format 2: format, kind, cipher, key id (36), version (4), nonce (12), padding length (2).
  function split(envelope: Buffer) {
    const padding = envelope.readUInt16BE(55);
    const headerEnd = 57 + padding;
    return {
      kind: envelope[1],
      keyId: envelope.toString('latin1', 3, 39),
      version: envelope.readUInt32BE(39),
      iv: envelope.subarray(43, 55),
      header: envelope.subarray(0, headerEnd),
      sealed: envelope.subarray(headerEnd),
    };
  }

  test('kmsd ciphertexts of encrypt-data and create-datakey open with crypto.subtle', async () => {
    const world = await startWorld();
    try {
      const admin = world.as('admin');
      const keyId = await newKey(admin);
      const material = await keyMaterial(world, keyId, 1);
      const key = await webcrypto.subtle.importKey('raw', material, 'AES-GCM', false, ['decrypt']);
      const ct = Buffer.from((await admin.kms('encrypt-data', { key_id: keyId, plain_text: 'checked elsewhere', additional_authenticated_data: 'aad-1' })).body.cipher_text, 'base64');
      const parts = split(ct);
      assert.deepEqual([parts.keyId, parts.version, ct[0], parts.kind, ct[2]], [keyId, 1, 2, 1, 1]);
      const plain = await webcrypto.subtle.decrypt({ name: 'AES-GCM', iv: parts.iv, additionalData: Buffer.concat([parts.header, Buffer.from('aad-1')]), tagLength: 128 }, key, parts.sealed);
      assert.equal(Buffer.from(plain).toString(), 'checked elsewhere');
      const dk = (await admin.kms('create-datakey', { key_id: keyId, datakey_length: '512' })).body;
      const dkParts = split(Buffer.from(dk.cipher_text, 'hex'));
      assert.equal(dkParts.kind, 2, 'a data key envelope says so');
      const dek = await webcrypto.subtle.decrypt({ name: 'AES-GCM', iv: dkParts.iv, additionalData: dkParts.header, tagLength: 128 }, key, dkParts.sealed);
      assert.equal(Buffer.from(dek).toString('hex').toUpperCase(), dk.plain_text);
    } finally {
      await world.close();
    }
  });

  test('an envelope sealed by crypto.subtle decrypts through decrypt-data', async () => {
    const world = await startWorld();
    try {
      const admin = world.as('admin');
      const keyId = await newKey(admin);
      const key = await webcrypto.subtle.importKey('raw', await keyMaterial(world, keyId, 1), 'AES-GCM', false, ['encrypt']);
      const plaintext = Buffer.from('sealed by WebCrypto, opened by kmsd');
      const header = Buffer.alloc(57);
      header[0] = 2;
      header[1] = 1;
      header[2] = 1;
      header.write(keyId, 3, 'latin1');
      header.writeUInt32BE(1, 39);
      const iv = randomBytes(12);
      iv.copy(header, 43);
      const sealed = await webcrypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: header, tagLength: 128 }, key, plaintext);
      const envelope = Buffer.concat([header, Buffer.from(sealed)]);
      const r = await admin.kms('decrypt-data', { cipher_text: envelope.toString('base64') });
      assert.deepEqual([r.status, r.body.plain_text], [200, plaintext.toString()]);
    } finally {
      await world.close();
    }
  });
});

describe('decrypt-data and decrypt-datakey open only their own kind of ciphertext (issue #11 §2)', () => {
  const INVALID = ERR('KMS.2201', 'Invalid cipher_text.');
  const hexToBase64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
  const base64ToHex = (b64: string) => Buffer.from(b64, 'base64').toString('hex').toUpperCase();

  test('a grant holding only decrypt-data cannot read a data key, nor one holding only decrypt-datakey read data', async () => {
    const world = await startWorld();
    try {
      const owner = world.as('admin');
      const keyId = await newKey(owner);
      const dk = (await owner.kms('create-datakey', { key_id: keyId })).body;
      const data = (await owner.kms('encrypt-data', { key_id: keyId, plain_text: 'only for decrypt-data' })).body;
      await newGrant(owner, keyId, world.users.gus.id, ['decrypt-data']);
      await newGrant(owner, keyId, world.users.boss.id, ['decrypt-datakey']);
      const gus = world.as('gus', 'aksk');
      const boss = world.as('boss');
      // Each through its own operation: allowed.
      assert.equal((await gus.kms('decrypt-data', { cipher_text: data.cipher_text })).body.plain_text, 'only for decrypt-data');
      const own = await boss.kms('decrypt-datakey', { key_id: keyId, cipher_text: dk.cipher_text, datakey_cipher_length: '32' });
      assert.equal(own.body.data_key, dk.plain_text);
      // Across: the documented invalid-ciphertext error, as for a tampered ciphertext.
      const crossed = await gus.kms('decrypt-data', { cipher_text: hexToBase64(dk.cipher_text) });
      assert.deepEqual([crossed.status, crossed.body], [400, INVALID]);
      const dataAsKey = await boss.kms('decrypt-datakey', { key_id: keyId, cipher_text: base64ToHex(data.cipher_text), datakey_cipher_length: '21' });
      assert.deepEqual([dataAsKey.status, dataAsKey.body], [400, INVALID]);
    } finally {
      await world.close();
    }
  });

  test('IAM users holding only kms:dek:crypto or only kms:cmk:crypto are held to the same', async () => {
    const world = await startWorld({ config: {} });
    try {
      const owner = world.as('admin');
      const keyId = await newKey(owner);
      const dk = (await owner.kms('create-datakey', { key_id: keyId })).body;
      const data = (await owner.kms('encrypt-data', { key_id: keyId, plain_text: 'x'.repeat(40) })).body;
      // alice holds kms:*:* and may call both: the kind still decides.
      const alice = world.as('alice');
      const r1 = await alice.kms('decrypt-data', { cipher_text: hexToBase64(dk.cipher_text) });
      const r2 = await alice.kms('decrypt-datakey', { key_id: keyId, cipher_text: base64ToHex(data.cipher_text), datakey_cipher_length: '40' });
      assert.deepEqual([r1.status, r1.body, r2.status, r2.body], [400, INVALID, 400, INVALID]);
    } finally {
      await world.close();
    }
  });

  test('ciphertexts made by the previous envelope format (kept as fixtures) still decrypt, each through its own operation', async () => {
    const fixtures = JSON.parse(readFileSync(new URL('./fixtures/legacy-envelopes.json', import.meta.url), 'utf8'));
    for (const legacy of [true, false]) {
      const world = await startWorld({ config: { legacyEnvelopes: legacy } });
      try {
        const alice = world.users.alice;
        for (const f of [fixtures.aes, fixtures.sm4]) {
          // The fixture's key, with the material the ciphertexts were made under, sealed by this store's root key.
          await world.server.store.write(async (tx) => {
            await tx.insertKey({
              keyId: f.key_id, accountId: alice.accountId, region: 'cn-north-4', alias: `legacy-${f.spec}`, description: '', spec: f.spec,
              usage: 'ENCRYPT_DECRYPT', origin: 'kms', state: '2', creationDate: 1, scheduledDeletionDate: null, defaultKey: false,
              rotationEnabled: false, rotationInterval: 365, lastRotationTime: null, rotationDue: null, rotations: 0, materialVersion: 1,
            });
            await tx.insertMaterial({ keyId: f.key_id, version: 1, sealed: world.server.rootKey.seal(Buffer.from(f.material_hex, 'hex'), materialContext(f.key_id, 1)), createdAt: 1 });
          });
          const client = world.as('alice');
          const data = await client.kms('decrypt-data', { cipher_text: f.data.cipher_text, ...(f.data.aad && { additional_authenticated_data: f.data.aad }) });
          const dek = await client.kms('decrypt-datakey', { key_id: f.key_id, cipher_text: f.datakey.cipher_text, datakey_cipher_length: String(f.datakey.data_key_hex.length / 2) });
          if (legacy) {
            assert.deepEqual([data.status, data.body.plain_text], [200, f.data.plain_text], f.spec);
            assert.deepEqual([dek.status, dek.body.data_key], [200, f.datakey.data_key_hex], f.spec);
          } else {
            // --legacy-envelopes false: once re-encrypted, the old format is refused.
            assert.deepEqual([data.status, data.body, dek.status, dek.body], [400, INVALID, 400, INVALID], f.spec);
          }
        }
      } finally {
        await world.close();
      }
    }
  });
});
