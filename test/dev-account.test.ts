import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../src/server.ts';
import { systemClock } from '../src/core/runtime.ts';
import { Client, ERR, newKey, type TestUser, type World } from './harness.ts';
import { testConfig } from '../src/config.ts';

// The development account out of the box: admin (every action) and app (a grantee's IAM actions),
// so that the headline flow (grant → use → retire → refused) runs right after the quick start.

let dir: string;
let server: RunningServer;
let users: Record<string, TestUser>;
const worldOf = (url: string) => ({ url, clock: systemClock }) as unknown as World;

async function devUsers(s: RunningServer, dataDir: string): Promise<Record<string, TestUser>> {
  const file = JSON.parse(readFileSync(join(dataDir, 'dev-identities.json'), 'utf8'));
  const out: Record<string, TestUser> = {};
  await s.store.read(async (tx) => {
    const account = await tx.findAccountByName('dev');
    const projectId = (await tx.projectsOfAccount(account!.id)).find((p) => p.name === 'cn-north-4')!.id;
    for (const u of file.accounts[0].users) {
      const id = (await tx.findUser(account!.id, u.name))!.id;
      out[u.name] = { name: u.name, id, account: 'dev', accountId: account!.id, projectId, password: u.password, ak: u.access_keys[0].ak, sk: u.access_keys[0].sk };
    }
  });
  return out;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kmsd-devacct-'));
  server = await startServer(testConfig({ dataDir: dir, identities: null, port: 0 }), { logger: false });
  users = await devUsers(server, dir);
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the development account', () => {
  test('has admin (*:*:*) and app (kms:cmk:retireGrant, kms:cmk:listRetirableGrants), each with a password and an AK/SK, in a 0600 file', () => {
    const file = JSON.parse(readFileSync(join(dir, 'dev-identities.json'), 'utf8'));
    assert.deepEqual(file.accounts[0].users.map((u: { name: string; policies: string[] }) => [u.name, u.policies]), [
      ['admin', ['*:*:*']],
      ['app', ['kms:cmk:retireGrant', 'kms:cmk:listRetirableGrants']],
    ]);
    assert.equal(statSync(join(dir, 'dev-identities.json')).mode & 0o777, 0o600);
  });

  test('the headline flow: admin grants app, app encrypts and decrypts, app retires, app is refused at once', async () => {
    const admin = new Client(worldOf(server.url), users.admin, 'token');
    const app = new Client(worldOf(server.url), users.app, 'aksk');
    const keyId = await newKey(admin);
    const grant = await admin.kms('create-grant', { key_id: keyId, grantee_principal: users.app.id, operations: ['encrypt-data', 'decrypt-data', 'retire-grant'] });
    assert.equal(grant.status, 200);
    const sealed = await app.kms('encrypt-data', { key_id: keyId, plain_text: 'hello' });
    assert.equal(sealed.status, 200);
    assert.equal((await app.kms('decrypt-data', { cipher_text: sealed.body.cipher_text })).body.plain_text, 'hello');
    assert.deepEqual((await app.kms('list-retirable-grants', {})).body.grants.map((g: { grant_id: string }) => g.grant_id), [grant.body.grant_id]);
    assert.deepEqual(await app.kms('retire-grant', { key_id: keyId, grant_id: grant.body.grant_id }).then((r) => [r.status, r.body]), [200, {}]);
    const refused = await app.kms('decrypt-data', { cipher_text: sealed.body.cipher_text });
    assert.deepEqual([refused.status, refused.body], [403, ERR('KMS.0306', 'No access permissions.')]);
    // app holds no key administration of its own.
    assert.equal((await app.kms('create-key', { key_alias: 'app-own' })).status, 403);
  });

  test('a file written before app existed gains app at the next start; admin keeps its credentials', async () => {
    const old = mkdtempSync(join(tmpdir(), 'kmsd-devold-'));
    try {
      const admin = { name: 'admin', password: 'old-password-1', access_keys: [{ ak: 'DEVOLDAK0000000000001', sk: 'old-secret-key-000000000000' }], policies: ['*:*:*'] };
      writeFileSync(join(old, 'dev-identities.json'), JSON.stringify({ accounts: [{ name: 'dev', users: [admin] }] }), { mode: 0o600 });
      const s = await startServer(testConfig({ dataDir: old, identities: null, port: 0 }), { logger: false });
      try {
        const file = JSON.parse(readFileSync(join(old, 'dev-identities.json'), 'utf8'));
        assert.deepEqual(file.accounts[0].users.map((u: { name: string }) => u.name), ['admin', 'app']);
        assert.deepEqual(file.accounts[0].users[0], admin);
        const found = await devUsers(s, old);
        assert.equal((await new Client(worldOf(s.url), found.app, 'token').kms('list-retirable-grants', {})).status, 200);
      } finally {
        await s.close();
      }
    } finally {
      rmSync(old, { recursive: true, force: true });
    }
  });

  test('the banner prints both users with ids, passwords and AK/SK; SIGHUP names the users it added', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'kmsd-devbanner-'));
    const child = spawn(process.execPath, ['bin/kmsd.js', 'serve', '--port', '0', '--data-dir', fresh, '--workers', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const until = async (re: RegExp) => {
      for (let i = 0; i < 300 && !re.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(out, re);
    };
    try {
      await until(/AK \/ SK .*\n.*user {8}app \(id [0-9a-f]{32}\)\n {2}password {4}\S+\n {2}AK \/ SK {5}DEV[0-9A-F]{18} \/ \S+\n/);
      assert.match(out, /user {8}admin \(id [0-9a-f]{32}\)\n {2}password/);
      const file = JSON.parse(readFileSync(join(fresh, 'dev-identities.json'), 'utf8'));
      file.accounts[0].users.push({ name: 'ci', password: 'ci-password-1', policies: [] });
      writeFileSync(join(fresh, 'dev-identities.json'), JSON.stringify(file));
      child.kill('SIGHUP');
      await until(/kmsd: identities reloaded; added user ci \(id [0-9a-f]{32}\) in dev\n/);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});
