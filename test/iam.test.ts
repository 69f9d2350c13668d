import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TOKEN_TTL_MS } from '../src/auth/tokens.ts';
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
    const unknown = await raw(world.url, 'GET', '/v3/users');
    assert.deepEqual([unknown.status, unknown.body], [404, { error: { code: 404, title: 'Not Found', message: 'Could not find the requested resource.' } }]);
    const wrong = await raw(world.url, 'DELETE', '/v3/projects');
    assert.deepEqual([wrong.status, wrong.body], [405, { error: { code: 405, title: 'Method Not Allowed', message: 'The method is not allowed for the requested URL.' } }]);
  });
});
