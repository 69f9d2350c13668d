import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { TOKEN_TTL_MS } from '../src/auth/tokens.ts';
import { DECISIONS } from '../src/core/decisions.ts';
import type { ManualClock } from '../src/core/runtime.ts';
import { raw, signedHeaders, startWorld, type World } from './harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const passwordAuth = (user: { name: string; password: string; account: string }, scope: unknown) => ({
  auth: { identity: { methods: ['password'], password: { user: { name: user.name, password: user.password, domain: { name: user.account } } } }, scope },
});

async function issue(body: unknown, query = ''): Promise<{ status: number; token: string | null; body: any }> {
  const r = await raw(world.url, 'POST', `/v3/auth/tokens${query}`, { headers: { 'Content-Type': 'application/json;charset=utf8' }, body: JSON.stringify(body) });
  return { status: r.status, token: r.headers.get('x-subject-token'), body: r.body };
}

describe('IAM: POST /v3/auth/tokens', () => {
  test('a project-scoped password token: 201, X-Subject-Token, the Keystone token body', async () => {
    const alice = world.users.alice;
    const r = await issue(passwordAuth(alice, { project: { name: 'cn-north-4' } }));
    assert.equal(r.status, 201);
    assert.match(r.token ?? '', /^MII[A-Za-z0-9_-]{64}$/);
    const t = r.body.token;
    const now = world.clock.now();
    const domain = { id: alice.accountId, name: 'acme' };
    assert.deepEqual(t.methods, ['password']);
    assert.equal(t.issued_at, new Date(now).toISOString().replace('Z', '000Z'));
    assert.equal(t.expires_at, new Date(now + TOKEN_TTL_MS).toISOString().replace('Z', '000Z'));
    assert.deepEqual(t.user, { domain, id: alice.id, name: 'alice', password_expires_at: '' });
    assert.deepEqual(t.project, { id: alice.projectId, name: 'cn-north-4', domain });
    // Open Telekom Cloud's catalog shape (src/iam/catalog.ts), with the served region everywhere.
    const at = (type: string, name: string, url: string) =>
      ({ type, id: `kmsd-${type}`, name, endpoints: [{ url, region: 'cn-north-4', region_id: 'cn-north-4', interface: 'public', id: `kmsd-${type}-endpoint` }] });
    assert.deepEqual(t.catalog, [
      at('kms', 'key-management', `${world.url}/v1.0/`),
      at('kmsv1', 'kmsv1', `${world.url}/v1.0/${alice.projectId}`),
      at('identity', 'keystone', `${world.url}/v3`),
    ]);
    assert.deepEqual(t.roles, [{ name: 'kms:*:*', id: '0' }]);
  });

  test('a domain-scoped token, with nocatalog', async () => {
    const r = await issue(passwordAuth(world.users.boss, { domain: { name: 'globex' } }), '?nocatalog=true');
    assert.equal(r.status, 201);
    assert.deepEqual(r.body.token.domain, { id: world.users.boss.accountId, name: 'globex' });
    assert.equal(r.body.token.project, undefined);
    assert.equal(r.body.token.catalog, undefined);
  });

  test('a domain-scoped token may act in any project of its account', async () => {
    const r = await issue(passwordAuth(world.users.admin, { domain: { id: world.users.admin.accountId } }));
    const list = await raw(world.url, 'POST', `/v1.0/${world.users.admin.projectId}/kms/list-keys`, { headers: { 'X-Auth-Token': r.token as string }, body: '{}' });
    assert.equal(list.status, 200);
  });

  test('a wrong password, an unknown user, a scope of another account: 401 in Keystone form', async () => {
    const alice = world.users.alice;
    const cases = [
      passwordAuth({ ...alice, password: 'wrong' }, { project: { name: 'cn-north-4' } }),
      passwordAuth({ ...alice, name: 'mallory' }, { project: { name: 'cn-north-4' } }),
      passwordAuth(alice, { project: { id: world.users.boss.projectId } }),
      passwordAuth(alice, { domain: { name: 'globex' } }),
    ];
    for (const body of cases) {
      const r = await issue(body);
      assert.equal(r.status, 401, JSON.stringify(body));
      assert.equal(r.token, null);
      assert.equal(r.body.error.code, 401);
      assert.equal(r.body.error.title, 'Unauthorized');
    }
  });

  test('malformed bodies are 400', async () => {
    for (const body of ['nope', '{}', '{"auth":{"identity":{"methods":["password"]}}}']) {
      const r = await raw(world.url, 'POST', '/v3/auth/tokens', { body });
      assert.equal(r.status, 400, body);
      assert.equal(r.body.error.code, 400);
    }
  });

  test('an expired token is refused with the gateway message naming its expiry', async () => {
    const r = await issue(passwordAuth(world.users.alice, { project: { name: 'cn-north-4' } }));
    (world.clock as ManualClock).advance(TOKEN_TTL_MS);
    const used = await raw(world.url, 'POST', `/v1.0/${world.users.alice.projectId}/kms/list-keys`, { headers: { 'X-Auth-Token': r.token as string }, body: '{}' });
    assert.equal(used.status, 401);
    assert.equal(used.body.error_msg, `Incorrect IAM authentication information: token expires, expires_at: ${r.body.token.expires_at}`);
    (world.clock as ManualClock).advance(-TOKEN_TTL_MS);
  });

  test('re-scoping with the token method', async () => {
    const first = await issue(passwordAuth(world.users.alice, { domain: { name: 'acme' } }));
    const second = await issue({ auth: { identity: { methods: ['token'], token: { id: first.token } }, scope: { project: { name: 'cn-north-4' } } } });
    assert.equal(second.status, 201);
    assert.equal(second.body.token.project.id, world.users.alice.projectId);
  });
});

describe('IAM: GET /v3/auth/tokens and GET /v3/projects', () => {
  test('validating a token answers the same body and X-Subject-Token', async () => {
    const issued = await issue(passwordAuth(world.users.alice, { project: { name: 'cn-north-4' } }));
    const caller = await world.as('admin').getToken();
    const r = await raw(world.url, 'GET', '/v3/auth/tokens', { headers: { 'X-Auth-Token': caller, 'X-Subject-Token': issued.token as string } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-subject-token'), issued.token);
    assert.deepEqual(r.body.token.user, issued.body.token.user);
    const bogus = await raw(world.url, 'GET', '/v3/auth/tokens', { headers: { 'X-Auth-Token': caller, 'X-Subject-Token': 'MIIbogus' } });
    assert.equal(bogus.status, 404);
  });

  test('the project lookup the SDKs make, signed with AK/SK', async () => {
    const admin = world.users.admin;
    const path = '/v3/projects?name=cn-north-4';
    const headers = signedHeaders(world.url, 'GET', path, admin, { 'Content-Type': 'application/json' }, undefined);
    const r = await raw(world.url, 'GET', path, { headers });
    assert.equal(r.status, 200);
    assert.equal(r.body.projects.length, 1);
    assert.deepEqual(r.body.projects[0], {
      id: admin.projectId, name: 'cn-north-4', domain_id: admin.accountId, parent_id: admin.accountId, enabled: true,
      is_domain: false, description: '', links: { self: `${world.url}/v3/projects/${admin.projectId}` },
    });
    const none = await raw(world.url, 'GET', '/v3/projects?name=eu-west-0', { headers: signedHeaders(world.url, 'GET', '/v3/projects?name=eu-west-0', admin, {}, undefined) });
    assert.deepEqual(none.body.projects, []);
    const anonymous = await raw(world.url, 'GET', path);
    assert.equal(anonymous.status, 401);
  });
});

describe('IAM: unknown paths and methods', () => {
  test('an unknown /v3 path is 404 and a known one with another method 405, in Keystone form', async () => {
    const unknown = await raw(world.url, 'GET', '/v3/groups');
    assert.deepEqual([unknown.status, unknown.body], [404, { error: { code: 404, title: 'Not Found', message: 'Could not find the requested resource.' } }]);
    const wrong = await raw(world.url, 'DELETE', '/v3/projects');
    assert.deepEqual([wrong.status, wrong.body], [405, { error: { code: 405, title: 'Method Not Allowed', message: 'The method is not allowed for the requested URL.' } }]);
    const post = await raw(world.url, 'POST', '/v3/users', { body: '{}' });
    assert.deepEqual([post.status, post.body], [405, { error: { code: 405, title: 'Method Not Allowed', message: 'The method is not allowed for the requested URL.' } }]);
  });
});

describe('IAM: GET /v3/users (KeystoneListUsers)', () => {
  const tokenOf = async (user: { name: string; password: string; account: string }) =>
    (await issue(passwordAuth(user, { project: { name: 'cn-north-4' } }))).token as string;
  const get = async (path: string, token: string) => raw(world.url, 'GET', path, { headers: { 'X-Auth-Token': token } });
  const userOf = (name: string) => {
    const u = world.users[name];
    return { id: u.id, name, domain_id: u.accountId, enabled: true, description: '', password_expires_at: null, pwd_status: false };
  };
  const forbidden = { error: { code: 403, title: 'Forbidden', message: 'You are not authorized to perform the requested action: iam:users:listUsers.' } };

  test('the administrator lists its account\'s users (and only them), by name, with the Keystone fields', async () => {
    const token = await tokenOf(world.users.admin);
    const r = await get('/v3/users', token);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      users: ['admin', 'alice', 'gina', 'nobody', 'reader'].map(userOf),
      links: { self: `${world.url}/v3/users`, previous: null, next: null },
    });
    const byDomain = await get(`/v3/users?domain_id=${world.users.admin.accountId}&name=gina&enabled=true`, token);
    assert.deepEqual(byDomain.body.users, [userOf('gina')]);
    // The list's URL, never the query echoed; no user has a self link (kmsd serves no GET /v3/users/{id}).
    assert.deepEqual(byDomain.body.links, { self: `${world.url}/v3/users`, previous: null, next: null });
    const echoed = await get('/v3/users?name=gina&x=%3Cscript%3E', token);
    assert.deepEqual([echoed.status, echoed.body.links.self], [200, `${world.url}/v3/users`]);
    assert.equal(DECISIONS.listUsersLinks, 'list-url-only');
    const gina = await get(`/v3/users/${world.users.gina.id}`, token);
    assert.equal(gina.status, 404);
    assert.deepEqual((await get('/v3/users?enabled=false', token)).body.users, []);
    assert.deepEqual((await get('/v3/users?name=nobody-at-all', token)).body.users, []);
    // No kmsd password expires: no user's expiry compares with a time.
    assert.deepEqual((await get('/v3/users?password_expires_at=lt:2016-12-08T22:02:00Z', token)).body.users, []);
    // Signed with AK/SK too (the SDKs' way).
    const boss = world.users.boss;
    const signed = await raw(world.url, 'GET', '/v3/users?name=gus', { headers: signedHeaders(world.url, 'GET', '/v3/users?name=gus', boss, {}, undefined) });
    assert.deepEqual([signed.status, signed.body.users], [200, [userOf('gus')]]);
  });

  test('a user without iam:users:listUsers is refused 403; another account\'s domain_id is refused 403; bad filters 400', async () => {
    for (const name of ['alice', 'nobody', 'gina']) {
      const r = await get('/v3/users', await tokenOf(world.users[name]));
      assert.deepEqual([r.status, r.body], [403, forbidden], name);
    }
    const admin = await tokenOf(world.users.admin);
    const other = await get(`/v3/users?domain_id=${world.users.boss.accountId}`, admin);
    assert.deepEqual([other.status, other.body], [DECISIONS.listUsersOwnAccount, forbidden]);
    const enabled = await get('/v3/users?enabled=yes', admin);
    assert.deepEqual([enabled.status, enabled.body], [400, { error: { code: 400, title: 'Bad Request', message: "Invalid input for field 'enabled': expected true or false." } }]);
    const expires = await get('/v3/users?password_expires_at=2016-12-08', admin);
    assert.deepEqual([expires.status, expires.body], [400, { error: { code: 400, title: 'Bad Request', message: "Invalid input for field 'password_expires_at': expected {operator}:YYYY-MM-DDTHH:mm:ssZ." } }]);
    // Parameters it does not know are ignored (Keystone's way), even twice.
    assert.deepEqual((await get('/v3/users?name=gina&page=1&page=2', admin)).body.users, [userOf('gina')]);
    const twice = await get('/v3/users?name=a&name=b', admin);
    assert.deepEqual([twice.status, twice.body], [400, { error: { code: 400, title: 'Bad Request', message: "Invalid input for field 'name': given more than once." } }]);
  });

  test('its request lines name the caller and list-users, and a refusal\'s code, as KMS lines do', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    const logged = await startWorld({ logger: pino({ level: 'info' }, stream) });
    try {
      const tokenAt = async (user: { name: string; password: string; account: string }) =>
        (await raw(logged.url, 'POST', '/v3/auth/tokens', { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(passwordAuth(user, { project: { name: 'cn-north-4' } })) })).headers.get('x-subject-token') as string;
      const ok = await raw(logged.url, 'GET', '/v3/users?name=gina', { headers: { 'X-Auth-Token': await tokenAt(logged.users.admin) } });
      const refused = await raw(logged.url, 'GET', '/v3/users', { headers: { 'X-Auth-Token': await tokenAt(logged.users.alice) } });
      assert.deepEqual([ok.status, refused.status], [200, 403]);
      const requests = lines.filter((l) => l.msg === 'request' && l.path === '/v3/users')
        .map(({ method, path, status, caller, operation, code, reason }) => ({ method, path, status, caller, operation, code, reason }));
      assert.deepEqual(requests, [
        { method: 'GET', path: '/v3/users', status: 200, caller: 'admin@acme', operation: 'list-users', code: undefined, reason: undefined },
        {
          method: 'GET', path: '/v3/users', status: 403, caller: 'alice@acme', operation: 'list-users', code: 'IAM.403',
          reason: 'You are not authorized to perform the requested action: iam:users:listUsers.',
        },
      ]);
    } finally {
      await logged.close();
    }
  });
});
