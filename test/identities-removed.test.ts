import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testConfig } from '../src/config.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { Client, ERR, newGrant, newKey, startWorld, type TestUser, type World } from './harness.ts';

/**
 * Issue #11 §1: the identities file is the whole truth about who exists. Whatever it no longer
 * lists is disabled at start and on SIGHUP: every credential of it stops working at once, but
 * nothing is deleted, and listing it again brings it back.
 */

const gateway = (detail: string) => ({ error_msg: `Incorrect IAM authentication information: ${detail}`, error_code: 'APIGW.0301' });
const WRONG_PASSWORD = { error: { code: 401, title: 'Unauthorized', message: 'The username or password is wrong.' } };
const UNAUTHENTICATED = { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } };

async function post(url: string, path: string, headers: Record<string, string>, body: unknown) {
  const r = await fetch(`${url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text === '' ? undefined : JSON.parse(text), headers: r.headers };
}

const passwordLogin = (user: TestUser) => ({
  auth: {
    identity: { methods: ['password'], password: { user: { name: user.name, password: user.password, domain: { name: user.account } } } },
    scope: { project: { id: user.projectId } },
  },
});

/** The identities file without the named users and accounts. */
function shrink(path: string, gone: { users?: string[]; accounts?: string[] }): string {
  const original = readFileSync(path, 'utf8');
  const file = JSON.parse(original);
  file.accounts = file.accounts.filter((a: { name: string }) => !gone.accounts?.includes(a.name));
  for (const account of file.accounts) account.users = account.users.filter((u: { name: string }) => !gone.users?.includes(u.name));
  writeFileSync(path, JSON.stringify(file));
  return original;
}

interface Credentials {
  user: TestUser;
  token: string;
}

/** Every way the removed principal could get in: old token, AK/SK, password login, token login. */
async function assertLockedOut(url: string, world: World, { user, token }: Credentials): Promise<void> {
  const path = `/v1.0/${user.projectId}/kms/list-keys`;
  const byToken = await post(url, path, { 'X-Auth-Token': token }, {});
  assert.deepEqual([byToken.status, { ...byToken.body, request_id: undefined }], [401, { ...gateway('decrypt token fail'), request_id: undefined }], `${user.name}: old token`);
  const byAkSk = await new Client({ ...world, url }, user, 'aksk').kms('list-keys', {});
  assert.deepEqual([byAkSk.status, byAkSk.body.error_code, byAkSk.body.error_msg], [401, 'APIGW.0301', gateway('Get secretKey failed,ak:******,err:ak not exist').error_msg], `${user.name}: AK/SK`);
  const login = await post(url, '/v3/auth/tokens', {}, passwordLogin(user));
  assert.deepEqual([login.status, login.body, login.headers.get('x-subject-token')], [401, WRONG_PASSWORD, null], `${user.name}: password`);
  const renewed = await post(url, '/v3/auth/tokens', {}, { auth: { identity: { methods: ['token'], token: { id: token } } } });
  assert.deepEqual([renewed.status, renewed.body], [401, UNAUTHENTICATED], `${user.name}: token login`);
  const projects = await fetch(`${url}/v3/projects?name=cn-north-4`, { headers: { 'X-Auth-Token': token } });
  assert.equal(projects.status, 401, `${user.name}: project lookup`);
}

async function assertLetIn(url: string, world: World, { user, token }: Credentials): Promise<void> {
  const path = `/v1.0/${user.projectId}/kms/list-retirable-grants`;
  const byToken = await post(url, path, { 'X-Auth-Token': token }, {});
  assert.ok(byToken.status !== 401, `${user.name}: old token ${byToken.status}`);
  const byAkSk = await new Client({ ...world, url }, user, 'aksk').kms('list-retirable-grants', {});
  assert.ok(byAkSk.status !== 401, `${user.name}: AK/SK ${byAkSk.status}`);
  assert.equal((await post(url, '/v3/auth/tokens', {}, passwordLogin(user))).status, 201, `${user.name}: password`);
}

describe('identities the file no longer lists', () => {
  test('a restart with a shrunken file disables every credential of every removed user and account, deletes nothing, and listing them again brings them back', async (t) => {
    const world = await startWorld();
    const dir = world.dataDir;
    const identities = join(dir, 'identities.json');
    let server: RunningServer | null = null;
    try {
      const alice = world.as('alice');
      const keyId = await newKey(alice);
      const grantId = await newGrant(alice, keyId, world.users.gus.id, ['describe-key', 'encrypt-data']);
      assert.equal((await world.as('gus', 'aksk').kms('describe-key', { key_id: keyId })).status, 200);
      const bossKey = await newKey(world.as('boss'));
      // reader leaves acme; the whole globex account goes.
      const removed = ['reader', 'boss', 'gus', 'rita', 'greg'];
      const credentials = await Promise.all(removed.map(async (name) => ({ user: world.users[name], token: await world.as(name).getToken() })));
      const staying = { user: world.users.alice, token: await alice.getToken() };
      await world.server.close();

      const original = shrink(identities, { users: ['reader'], accounts: ['globex'] });
      server = await startServer(testConfig({ dataDir: dir, identities, port: 0 }), { clock: world.clock, logger: false });
      for (const c of credentials) await assertLockedOut(server.url, world, c);
      t.diagnostic(`attack: ${credentials.length} removed principals x 5 credential kinds (old token, AK/SK, password, token login, project lookup) + a grant + create-key in a removed account after a restart: all 401`);
      // A grant to a removed user does not let it in (it cannot authenticate at all).
      const viaGrant = await new Client({ ...world, url: server.url }, world.users.gus, 'aksk').kms('describe-key', { key_id: keyId });
      assert.equal(viaGrant.status, 401);
      // The removed account's administrator cannot create a key in it.
      const create = await new Client({ ...world, url: server.url }, world.users.boss, 'aksk').kms('create-key', { key_alias: 'in-a-removed-account' });
      assert.equal(create.status, 401);
      await assertLetIn(server.url, world, staying);
      // Nothing was deleted: keys, grants, audit records, the ids (disabled, reserved).
      const kept = await server.store.read(async (tx) => ({
        bossKey: (await tx.getKey(bossKey))?.keyId,
        grant: (await tx.getGrant(grantId))?.grantId,
        globex: await tx.findAccountByName('globex'),
        reader: (await tx.getUser(world.users.reader.id))?.disabled,
        gusKey: (await tx.getAccessKey(world.users.gus.ak))?.disabled,
        trail: (await tx.listAudit({ principal: world.users.boss.id }, 0, 100)).map((e) => `${e.operation} ${e.outcome}`),
      }));
      assert.deepEqual(kept, {
        bossKey, grant: grantId, globex: { id: world.users.boss.accountId, name: 'globex', disabled: true }, reader: true, gusKey: true,
        // boss's login and key before, and its refused password login after.
        trail: ['create-token allowed', 'create-key allowed', 'create-token denied'],
      });
      await server.close();
      server = null;

      // Listed again: every credential works again, the grant too.
      writeFileSync(identities, original);
      server = await startServer(testConfig({ dataDir: dir, identities, port: 0 }), { clock: world.clock, logger: false });
      for (const c of credentials) await assertLetIn(server.url, world, c);
      const back = await new Client({ ...world, url: server.url }, world.users.gus, 'aksk').kms('describe-key', { key_id: keyId });
      assert.equal(back.status, 200);
    } finally {
      if (server) await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('reloading the file (what SIGHUP does) disables removed identities at once, with no restart; a bad file changes nothing', async () => {
    const world = await startWorld();
    const identities = join(world.dataDir, 'identities.json');
    try {
      const rita = { user: world.users.rita, token: await world.as('rita').getToken() };
      const original = shrink(identities, { users: ['rita'] });
      await world.server.reloadIdentities();
      await assertLockedOut(world.url, world, rita);
      writeFileSync(identities, '{"accounts": [');
      await assert.rejects(world.server.reloadIdentities(), /not valid JSON/);
      await assertLockedOut(world.url, world, rita);
      writeFileSync(identities, original);
      await world.server.reloadIdentities();
      await assertLetIn(world.url, world, rita);
    } finally {
      await world.close();
    }
  });

  test('the development account is one file like any other: an identities file disables it, going back enables it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-dev-'));
    try {
      let server = await startServer(testConfig({ dataDir: dir, port: 0 }), { logger: false });
      const dev = server.devIdentities?.spec.accounts[0] as { name: string; users: Array<{ name: string; password: string }> };
      const devLogin = { auth: { identity: { methods: ['password'], password: { user: { name: dev.users[0].name, password: dev.users[0].password, domain: { name: dev.name } } } } } };
      assert.equal((await post(server.url, '/v3/auth/tokens', {}, devLogin)).status, 201);
      await server.close();
      const world = await startWorld({ dataDir: dir });
      assert.deepEqual((await post(world.url, '/v3/auth/tokens', {}, devLogin)).body, WRONG_PASSWORD);
      await world.close();
      server = await startServer(testConfig({ dataDir: dir, port: 0 }), { logger: false });
      assert.equal((await post(server.url, '/v3/auth/tokens', {}, devLogin)).status, 201);
      await server.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('kmsd serve re-reads its identities file on SIGHUP', async () => {
    const world = await startWorld();
    const { dataDir } = world;
    const identities = join(dataDir, 'identities.json');
    await world.server.close();
    const bin = fileURLToPath(new URL('../bin/kmsd.js', import.meta.url));
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--data-dir', dataDir, '--identities', identities], {
      env: { ...process.env, KMSD_LOG_LEVEL: 'warn' },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const until = async (what: RegExp) => {
      for (let i = 0; i < 200 && !what.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(out, what);
    };
    try {
      await until(/at (http:\/\/\S+)/);
      const url = /at (http:\/\/\S+)/.exec(out)?.[1] as string;
      const gus = world.users.gus;
      const login = await post(url, '/v3/auth/tokens', {}, passwordLogin(gus));
      assert.equal(login.status, 201);
      const token = login.headers.get('x-subject-token') as string;
      shrink(identities, { users: ['gus'] });
      child.kill('SIGHUP');
      await until(/identities reloaded/);
      await assertLockedOut(url, world, { user: gus, token });
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
