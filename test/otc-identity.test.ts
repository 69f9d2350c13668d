// The identity calls Open Telekom Cloud's clients make (keystoneauth's version discovery,
// `openstack project list --my-projects`) and the catalog shape they look endpoints up in.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, testConfig } from '../src/config.ts';
import { startServer } from '../src/server.ts';
import { raw, signedHeaders, startWorld, type World } from './harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const FORBIDDEN = { error: { code: 403, title: 'Forbidden', message: 'You are not authorized to perform the requested action.' } };

describe('GET /v3: the Keystone v3 version document', () => {
  test('answered at /v3 and /v3/ without authentication, linking the public URL', async () => {
    for (const path of ['/v3', '/v3/']) {
      const r = await raw(world.url, 'GET', path);
      assert.equal(r.status, 200, path);
      assert.deepEqual(r.body, {
        version: {
          id: 'v3.6', status: 'stable', updated: '2016-04-04T00:00:00Z',
          'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
          links: [{ href: `${world.url}/v3/`, rel: 'self' }],
        },
      });
    }
  });

  test('another method on /v3 is 405 in Keystone form', async () => {
    const r = await raw(world.url, 'POST', '/v3', { body: '{}' });
    assert.deepEqual([r.status, r.body], [405, { error: { code: 405, title: 'Method Not Allowed', message: 'The method is not allowed for the requested URL.' } }]);
  });
});

describe('GET /v3/users/{user_id}/projects', () => {
  test("a user's own projects, by token and by AK/SK: every project of its account", async () => {
    const alice = world.users.alice;
    const expected = {
      projects: [{
        id: alice.projectId, name: 'cn-north-4', domain_id: alice.accountId, parent_id: alice.accountId, enabled: true,
        is_domain: false, description: '', links: { self: `${world.url}/v3/projects/${alice.projectId}` },
      }],
      links: { self: `${world.url}/v3/users/${alice.id}/projects`, previous: null, next: null },
    };
    const path = `/v3/users/${alice.id}/projects`;
    const byToken = await raw(world.url, 'GET', path, { headers: { 'X-Auth-Token': await world.as('alice').getToken() } });
    assert.deepEqual([byToken.status, byToken.body], [200, expected]);
    const bySignature = await raw(world.url, 'GET', path, { headers: signedHeaders(world.url, 'GET', path, alice, {}, undefined) });
    assert.deepEqual([bySignature.status, bySignature.body], [200, expected]);
  });

  test("another user's projects (same account, other account, unknown id) are 403; no credentials 401", async () => {
    const token = await world.as('alice').getToken();
    for (const id of [world.users.admin.id, world.users.boss.id, 'f'.repeat(32)]) {
      const r = await raw(world.url, 'GET', `/v3/users/${id}/projects`, { headers: { 'X-Auth-Token': token } });
      assert.deepEqual([r.status, r.body], [403, FORBIDDEN], id);
    }
    const anonymous = await raw(world.url, 'GET', `/v3/users/${world.users.alice.id}/projects`);
    assert.equal(anonymous.status, 401);
  });
});

describe('the token catalog', () => {
  test('a domain-scoped token lists kms and identity, no kmsv1 (no project to name)', async () => {
    const boss = world.users.boss;
    const r = await raw(world.url, 'POST', '/v3/auth/tokens', {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: boss.name, password: boss.password, domain: { name: boss.account } } } }, scope: { domain: { name: boss.account } } } }),
    });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body.token.catalog.map((s: { type: string; endpoints: Array<{ url: string; region: string }> }) => [s.type, s.endpoints[0].url, s.endpoints[0].region]),
      [['kms', `${world.url}/v1.0/`, 'cn-north-4'], ['identity', `${world.url}/v3`, 'cn-north-4']]);
  });
});

describe('GET /v3/auth/catalog (how the OTC Terraform provider finds kmsv1 when it signs with AK/SK)', () => {
  const catalogOf = (projectId: string) => {
    const at = (type: string, name: string, url: string) =>
      ({ type, id: `kmsd-${type}`, name, endpoints: [{ url, region: 'cn-north-4', region_id: 'cn-north-4', interface: 'public', id: `kmsd-${type}-endpoint` }] });
    return {
      catalog: [at('kms', 'key-management', `${world.url}/v1.0/`), at('kmsv1', 'kmsv1', `${world.url}/v1.0/${projectId}`), at('identity', 'keystone', `${world.url}/v3`)],
      links: { self: `${world.url}/v3/auth/catalog`, previous: null, next: null },
    };
  };

  test('signed with AK/SK and X-Project-Id, and by a project-scoped token: the catalog of that project', async () => {
    const admin = world.users.admin;
    const headers = signedHeaders(world.url, 'GET', '/v3/auth/catalog', admin, { 'Content-Type': 'application/json', 'X-Project-Id': admin.projectId }, undefined);
    const signed = await raw(world.url, 'GET', '/v3/auth/catalog', { headers });
    assert.deepEqual([signed.status, signed.body], [200, catalogOf(admin.projectId)]);
    const byToken = await raw(world.url, 'GET', '/v3/auth/catalog', { headers: { 'X-Auth-Token': await world.as('alice').getToken() } });
    assert.deepEqual([byToken.status, byToken.body], [200, catalogOf(world.users.alice.projectId)]);
  });

  test("another account's X-Project-Id names nothing: the caller's own project of the region; no credentials 401", async () => {
    const admin = world.users.admin;
    const headers = signedHeaders(world.url, 'GET', '/v3/auth/catalog', admin, { 'X-Project-Id': world.users.boss.projectId }, undefined);
    const r = await raw(world.url, 'GET', '/v3/auth/catalog', { headers });
    assert.deepEqual([r.status, r.body], [200, catalogOf(admin.projectId)]);
    const anonymous = await raw(world.url, 'GET', '/v3/auth/catalog');
    assert.equal(anonymous.status, 401);
  });
});

describe("the new identity reads refuse bad credentials, and odd user ids are 403, never 500", () => {
  const gateway = (detail: string, requestId: string | null) =>
    ({ error_msg: `Incorrect IAM authentication information: ${detail}`, error_code: 'APIGW.0301', request_id: requestId });

  test('a tampered token, a signature whose signed header changed: 401 in the gateway form', async () => {
    const alice = world.users.alice;
    const token = await world.as('alice').getToken();
    const tampered = token.slice(0, 40) + (token[40] === 'A' ? 'B' : 'A') + token.slice(41);
    for (const path of [`/v3/users/${alice.id}/projects`, '/v3/auth/catalog']) {
      const r = await raw(world.url, 'GET', path, { headers: { 'X-Auth-Token': tampered } });
      assert.deepEqual([r.status, r.body], [401, gateway('decrypt token fail', r.headers.get('x-request-id'))], path);
      const headers = { ...signedHeaders(world.url, 'GET', path, alice, { 'X-Project-Id': alice.projectId }, undefined), 'X-Project-Id': world.users.boss.projectId };
      const s = await raw(world.url, 'GET', path, { headers });
      assert.deepEqual([s.status, s.body], [401, gateway('verify aksk signature fail', s.headers.get('x-request-id'))], path);
    }
  });

  test('generated user ids (long, encoded, unicode, dots) are 403 or 404, in Keystone form', async () => {
    const token = await world.as('alice').getToken();
    // Up to Fastify's 100-character path parameter: past it every route (KMS ones too) answers
    // Fastify's own 414 body, a server-wide matter reported apart.
    const ids = ['x'.repeat(100), '..%2Fprojects', encodeURIComponent('ü😀'), '%00', `${world.users.alice.id}%20`, "' OR 1=1 --"];
    for (const id of ids) {
      const r = await raw(world.url, 'GET', `/v3/users/${id}/projects`, { headers: { 'X-Auth-Token': token } });
      assert.ok([403, 404].includes(r.status), `${id.slice(0, 20)}: ${r.status} ${JSON.stringify(r.body)}`);
      assert.deepEqual(Object.keys(r.body.error).sort(), ['code', 'message', 'title'], id.slice(0, 20));
    }
  });
});

describe('--public-url may carry a path (kmsd behind a proxy that serves it under a prefix)', () => {
  test('kept without its trailing slash; a query, fragment or credentials refused', () => {
    const parsed = (url: string) => parseConfig(['--public-url', url], {}).publicUrl;
    assert.equal(parsed('https://gateway.example/kms/'), 'https://gateway.example/kms');
    assert.equal(parsed('https://gateway.example:8443/'), 'https://gateway.example:8443');
    for (const bad of ['https://gateway.example/kms?x=1', 'https://gateway.example/#top', 'https://user:pw@gateway.example/', 'ftp://gateway.example/']) {
      assert.throws(() => parsed(bad), /--public-url must be an http:\/\/ or https:\/\/ URL/, bad);
    }
  });

  test('the catalog, the identity version document and the KMS version document are built under it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kmsd-otc-prefix-'));
    const server = await startServer(testConfig({ dataDir, identities: join(world.dataDir, 'identities.json'), port: 0, publicUrl: 'https://gateway.example/kms' }), { logger: false });
    try {
      const alice = world.users.alice;
      const login = await raw(server.url, 'POST', '/v3/auth/tokens', {
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: alice.name, password: alice.password, domain: { name: alice.account } } } } } }),
      });
      assert.deepEqual(login.body.token.catalog.map((s: { endpoints: Array<{ url: string }> }) => s.endpoints[0].url),
        ['https://gateway.example/kms/v1.0/', `https://gateway.example/kms/v1.0/${alice.projectId}`, 'https://gateway.example/kms/v3']);
      assert.equal((await raw(server.url, 'GET', '/v3')).body.version.links[0].href, 'https://gateway.example/kms/v3/');
      assert.equal((await raw(server.url, 'GET', '/v1.0')).body.version.links[0].href, 'https://gateway.example/kms/v1.0/');
    } finally {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
