import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testConfig } from '../src/config.ts';
import { parseSeed } from '../src/seed.ts';
import { startServer } from '../src/server.ts';
import { ERR, keyMaterial, startWorld } from './harness.ts';
import { runKmsd } from './support/run-kmsd.ts';
import { auditCount, storeDigest } from './support/store-digest.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const SEED = join(FIXTURES, 'seed.json');
const CIPHERTEXTS: Array<{ key_id: string; cipher_text: string; plain_text: string; additional_authenticated_data?: string }> =
  JSON.parse(readFileSync(join(FIXTURES, 'seed-ciphertexts.json'), 'utf8'));
const ORDERS = '3060aa64-d032-4edb-9bdb-58f569a2057a';
const SM4 = '6f8bd6d5-55cc-4962-bc50-cd4b7e304394';
const GUS_GRANT = 'a6aa6b2824fa2886fed8e1f7c84914c4097385a3561edd1f2a7ca1c6f486daf1';

describe('seeded keys and grants (--seed FILE, or keys and grants in the identities file)', () => {
  test('ciphertexts kept in the repository decrypt on every fresh start (new store, new root key)', async () => {
    const rootKeys = new Set<string>();
    for (let start = 0; start < 2; start++) {
      const world = await startWorld({ config: { seed: SEED } });
      try {
        rootKeys.add(readFileSync(join(world.dataDir, 'root.key'), 'utf8'));
        const alice = world.as('alice');
        const sm4 = await alice.kms('describe-key', { key_id: SM4 });
        assert.equal(sm4.body.key_info.key_state, '3');
        assert.equal(sm4.body.key_info.key_spec, 'SM4');
        assert.equal((await alice.kms('enable-key', { key_id: SM4 })).status, 200);
        for (const fixture of CIPHERTEXTS) {
          const { plain_text, key_id, ...body } = fixture;
          const r = await alice.kms('decrypt-data', body);
          assert.equal(r.status, 200, r.text);
          assert.equal(r.body.key_id, key_id);
          assert.equal(r.body.plain_text, plain_text);
        }
        // The material is kept sealed under this start's root key, like all material.
        assert.equal((await keyMaterial(world, ORDERS, 1)).toString('base64'), 'b3JFEEfMpn39nYr2iJUraCampMwLvF1imY30Fj6CEew=');
      } finally {
        await world.close();
      }
    }
    assert.equal(rootKeys.size, 2);
  });

  test('seeded keys have their ids, aliases, specs and states; seeded grants their ids, names, grantees and retiring principals', async () => {
    const world = await startWorld({ config: { seed: SEED } });
    try {
      const alice = world.as('alice');
      const orders = await alice.kms('describe-key', { key_id: ORDERS });
      assert.equal(orders.body.key_info.key_alias, 'fixture-orders');
      assert.equal(orders.body.key_info.key_state, '2');
      assert.equal(orders.body.key_info.key_spec, 'AES_256');
      assert.equal(orders.body.key_info.domain_id, world.users.alice.accountId);
      const grants = await alice.kms('list-grants', { key_id: ORDERS });
      assert.equal(grants.body.total, 2);
      const byName = Object.fromEntries(grants.body.grants.map((g: Record<string, unknown>) => [g.name, g]));
      assert.equal(byName['gus-decrypts'].grant_id, GUS_GRANT);
      assert.equal(byName['gus-decrypts'].grantee_principal, world.users.gus.id);
      assert.equal(byName['gus-decrypts'].issuing_principal, world.users.admin.id);
      assert.deepEqual(byName['gus-decrypts'].operations, ['decrypt-data', 'describe-key', 'retire-grant']);
      assert.equal(byName['globex-describes'].grantee_principal, world.users.boss.accountId);
      assert.equal(byName['globex-describes'].grantee_principal_type, 'domain');
      assert.equal(byName['globex-describes'].retiring_principal, world.users.rita.id);
      assert.match(byName['globex-describes'].grant_id, /^[0-9a-f]{64}$/);
      // The grant works as any other: gus decrypts through it; it may not retire it (it lacks the
      // IAM action kms:cmk:retireGrant), the owner revokes it, and gus is refused.
      const gus = world.as('gus');
      const { plain_text: _p, key_id: _k, ...body } = CIPHERTEXTS[0];
      assert.equal((await gus.kms('decrypt-data', body)).status, 200);
      assert.equal((await gus.kms('retire-grant', { key_id: ORDERS, grant_id: GUS_GRANT })).status, 403);
      assert.equal((await world.as('admin').kms('revoke-grant', { key_id: ORDERS, grant_id: GUS_GRANT })).status, 200);
      const refused = await gus.kms('decrypt-data', body);
      assert.equal(refused.status, 403);
      assert.deepEqual(refused.body, ERR('KMS.0306', 'No access permissions.'));
    } finally {
      await world.close();
    }
  });

  test('applying the seed again (a restart on the same store) changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-seed-'));
    try {
      const world = await startWorld({ dataDir: dir, config: { seed: SEED } });
      await world.close();
      const before = storeDigest(dir);
      const audits = auditCount(dir);
      const again = await startServer(testConfig({ dataDir: dir, identities: join(dir, 'identities.json'), seed: SEED, port: 0 }), { logger: false });
      await again.close();
      assert.equal(storeDigest(dir), before);
      assert.equal(auditCount(dir), audits);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the identities file may declare keys and grants beside its accounts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-seed-'));
    try {
      const path = join(dir, 'ids.json');
      writeFileSync(path, JSON.stringify({
        accounts: [{ name: 'ci', users: [{ name: 'admin', password: 'pw' }, { name: 'app', password: 'pw2' }] }],
        keys: [{ account: 'ci', key_id: ORDERS, alias: 'ci-key' }],
        grants: [{ key_id: ORDERS, name: 'app-uses', grantee: 'ci/app', operations: ['encrypt-data', 'decrypt-data'] }],
      }));
      const server = await startServer(testConfig({ dataDir: dir, identities: path, port: 0 }), { logger: false });
      try {
        const found = await server.store.read(async (tx) => ({ key: await tx.getKey(ORDERS), grants: await tx.listGrants(ORDERS, 0, 10) }));
        assert.equal(found.key?.alias, 'ci-key');
        assert.equal(found.grants.total, 1);
        assert.equal(found.grants.items[0].name, 'app-uses');
      } finally {
        await server.close();
      }
      const before = storeDigest(dir);
      const again = await startServer(testConfig({ dataDir: dir, identities: path, port: 0 }), { logger: false });
      await again.close();
      assert.equal(storeDigest(dir), before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a seed is checked before anything is written; every message names the bad entry', async () => {
    const bad = (seed: unknown) => {
      try {
        parseSeed(seed);
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    const key = { account: 'acme', key_id: ORDERS, alias: 'k' };
    assert.equal(bad({ keys: {} }), 'keys: must be an array');
    assert.equal(bad({ keys: [key, { ...key, key_id: 'NOT-A-KEY' }] }), 'keys[1].key_id: must be a key id such as "0d0466b0-5c1f-4a8e-9b7e-3f2a1c4d5e6f" (lower case)');
    assert.equal(bad({ keys: [key, { ...key, key_id: SM4 }] }), 'keys[1].alias: "k" is declared twice for account "acme"');
    assert.equal(bad({ keys: [{ ...key, spec: 'RSA_2048' }] }), 'keys[0].spec: must be AES_256 or SM4');
    assert.equal(bad({ keys: [{ ...key, state: 'pending_deletion' }] }), 'keys[0].state: must be enabled or disabled');
    assert.equal(bad({ keys: [{ ...key, spec: 'SM4', material: 'b3JFEEfMpn39nYr2iJUraCampMwLvF1imY30Fj6CEew=' }] }), 'keys[0].material: must be base64 of 16 bytes for SM4');
    assert.equal(bad({ keys: [{ ...key, alias: 'obs/default' }] }), 'keys[0].alias: must not end with /default (default keys are declared in accounts[].default_keys)');
    assert.equal(bad({ keys: [{ ...key, tags: [{ key: 'a', value: 'b' }] }] }), 'keys[0].tags: key tags are not served by this kmsd yet');
    assert.equal(bad({ keys: [{ ...key, colour: 'red' }] }), 'keys[0].colour: is not a seed field');
    const grant = { key_id: ORDERS, name: 'g', grantee: 'acme/gina', operations: ['describe-key'] };
    assert.equal(bad({ keys: [key], grants: [{ ...grant, key_id: SM4 }] }), `grants[0].key_id: "${SM4}" is not declared in keys`);
    assert.equal(bad({ keys: [key], grants: [{ ...grant, grant_id: 'ABC' }] }), 'grants[0].grant_id: must be 64 lower-case hex characters, as the cloud\'s grant ids');
    assert.equal(bad({ keys: [key], grants: [{ ...grant, grantee: 'gina' }] }), 'grants[0].grantee: must be a user as "account/user"');
    assert.equal(bad({ keys: [key], grants: [{ ...grant, operations: ['describe-key', 'fly'] }] }), 'grants[0].operations[1]: must be one of create-datakey, create-datakey-without-plaintext, encrypt-datakey, decrypt-datakey, describe-key, create-grant, retire-grant, encrypt-data, decrypt-data');
    assert.equal(bad({ keys: [key], grants: [grant, { ...grant }] }), `grants[1].name: "g" is declared twice for key ${ORDERS}`);
    assert.equal(bad({ keys: [key], grants: [grant] }), 'accepted');

    // Through a start: one line naming the file and the entry, and the store untouched.
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-seed-'));
    try {
      const world = await startWorld({ dataDir: dir });
      await world.close();
      const before = storeDigest(dir);
      const start = (seed: unknown) => {
        const path = join(dir, 'seed.json');
        writeFileSync(path, JSON.stringify(seed));
        return startServer(testConfig({ dataDir: dir, identities: join(dir, 'identities.json'), seed: path, port: 0 }), { logger: false });
      };
      await assert.rejects(start({ keys: [{ ...key, material: 'short' }] }), { message: `seed file ${join(dir, 'seed.json')}: keys[0].material: must be base64 of 32 bytes for AES_256` });
      await assert.rejects(start({ keys: [{ ...key, account: 'initech' }] }), { message: 'seed: keys[0].account: no account named "initech" in the identities' });
      await assert.rejects(start({ keys: [key], grants: [{ ...grant, grantee: 'acme/nobody-here' }] }), { message: 'seed: grants[0].grantee: account "acme" has no user "nobody-here"' });
      assert.equal(storeDigest(dir), before, 'a refused seed wrote nothing (the seed is applied all or nothing)');
      // A seed that contradicts the store: the key exists with other material.
      await (await start({ keys: [key] })).close();
      await assert.rejects(start({ keys: [{ ...key, material: 'b3JFEEfMpn39nYr2iJUraCampMwLvF1imY30Fj6CEew=' }] }), { message: `seed: keys[0].material: key ${ORDERS} exists with other material` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const kmsd = runKmsd;

describe('kmsd reset --data-dir DIR', () => {
  test('asks first (without a terminal: refuses unless --yes), then deletes the store, the root key and the development account', async () => {
    const world = await startWorld();
    const dir = world.dataDir;
    await world.server.close();
    try {
      writeFileSync(join(dir, 'dev-identities.json'), '{}');
      const files = readdirSync(dir).filter((n) => n !== 'identities.json').sort();
      assert.deepEqual(files, ['dev-identities.json', 'kmsd.db', 'kmsd.lock', 'root.key']);
      rmSync(join(dir, 'identities.json'));
      const asked = await kmsd(['reset', '--data-dir', dir]);
      assert.equal(asked.code, 2);
      assert.equal(asked.err, 'kmsd: reset deletes every key, grant and audit record in the store: confirm with --yes (there is no terminal to ask on)\n');
      assert.deepEqual(readdirSync(dir).sort(), files);
      const done = await kmsd(['reset', '--data-dir', dir, '--yes']);
      assert.equal(done.code, 0);
      assert.equal(done.out, `deleted kmsd.db, root.key, dev-identities.json in ${dir}; the next start begins with an empty store\n`);
      assert.deepEqual(readdirSync(dir), ['kmsd.lock']); // the lock's file stays (store/data-dir-lock.ts)
      assert.equal((await kmsd(['reset', '--data-dir', dir, '--yes'])).out, `nothing to reset: ${dir} is empty\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('refuses a directory that does not look like a kmsd data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-reset-'));
    try {
      writeFileSync(join(dir, 'kmsd.db'), '');
      writeFileSync(join(dir, 'thesis.tex'), 'precious');
      const r = await kmsd(['reset', '--data-dir', dir, '--yes']);
      assert.equal(r.code, 2);
      assert.equal(r.err, `kmsd: ${dir} does not look like a kmsd data directory (it also holds thesis.tex): refusing to reset it\n`);
      assert.equal(existsSync(join(dir, 'kmsd.db')), true);
      assert.equal(existsSync(join(dir, 'thesis.tex')), true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
