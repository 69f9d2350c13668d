import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { testConfig } from '../src/config.ts';
import { startServer } from '../src/server.ts';
import { Client, ERR, hex, keyMaterial, newGrant, newKey, startWorld } from './harness.ts';

const DENIED = ERR('KMS.0306', 'No access permissions.');

describe('grants decide every cryptographic operation', () => {
  test('a grantee encrypts, the owner decrypts; after retire every call of the grantee is 403', async () => {
    const world = await startWorld();
    try {
      const owner = world.as('admin');
      const gus = world.as('gus', 'aksk');
      const keyId = await newKey(owner);
      const ops = ['encrypt-data', 'decrypt-data', 'create-datakey', 'create-datakey-without-plaintext', 'encrypt-datakey', 'decrypt-datakey', 'describe-key', 'retire-grant'];
      const grantId = await newGrant(owner, keyId, world.users.gus.id, ops);
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
  function split(envelope: Buffer) {
    const padding = envelope.readUInt16BE(54);
    const headerEnd = 56 + padding;
    return {
      keyId: envelope.toString('latin1', 2, 38),
      version: envelope.readUInt32BE(38),
      iv: envelope.subarray(42, 54),
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
      assert.deepEqual([parts.keyId, parts.version, ct[0], ct[1]], [keyId, 1, 1, 1]);
      const plain = await webcrypto.subtle.decrypt({ name: 'AES-GCM', iv: parts.iv, additionalData: Buffer.concat([parts.header, Buffer.from('aad-1')]), tagLength: 128 }, key, parts.sealed);
      assert.equal(Buffer.from(plain).toString(), 'checked elsewhere');
      const dk = (await admin.kms('create-datakey', { key_id: keyId, datakey_length: '512' })).body;
      const dkParts = split(Buffer.from(dk.cipher_text, 'hex'));
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
      const header = Buffer.alloc(56);
      header[0] = 1;
      header[1] = 1;
      header.write(keyId, 2, 'latin1');
      header.writeUInt32BE(1, 38);
      const iv = randomBytes(12);
      iv.copy(header, 42);
      const sealed = await webcrypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: header, tagLength: 128 }, key, plaintext);
      const envelope = Buffer.concat([header, Buffer.from(sealed)]);
      const r = await admin.kms('decrypt-data', { cipher_text: envelope.toString('base64') });
      assert.deepEqual([r.status, r.body.plain_text], [200, plaintext.toString()]);
    } finally {
      await world.close();
    }
  });
});
