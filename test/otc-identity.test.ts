// The identity calls Open Telekom Cloud's clients make (keystoneauth's version discovery,
// `openstack project list --my-projects`) and the catalog shape they look endpoints up in.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
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
    // GET /v3/auth/catalog with that token answers the same catalog, whatever X-Project-Id says.
    const token = r.headers.get('x-subject-token') as string;
    const asks: Array<Record<string, string>> = [{ 'X-Auth-Token': token }, { 'X-Auth-Token': token, 'X-Project-Id': boss.projectId }];
    for (const headers of asks) {
      const asked = await raw(world.url, 'GET', '/v3/auth/catalog', { headers });
      assert.deepEqual([asked.status, asked.body.catalog], [200, r.body.token.catalog]);
    }
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
    const boss = world.users.boss;
    assert.notEqual(admin.accountId, boss.accountId);
    // signedHeaders sends the signer's projectId as X-Project-Id: the signer carries boss's.
    const headers = signedHeaders(world.url, 'GET', '/v3/auth/catalog', { ...admin, projectId: boss.projectId }, {}, undefined);
    assert.equal(headers['X-Project-Id'], boss.projectId);
    const r = await raw(world.url, 'GET', '/v3/auth/catalog', { headers });
    assert.deepEqual([r.status, r.body], [200, catalogOf(admin.projectId)]);
    assert.ok(!JSON.stringify(r.body).includes(boss.projectId));
    const anonymous = await raw(world.url, 'GET', '/v3/auth/catalog');
    assert.equal(anonymous.status, 401);
  });
});

describe("the new identity reads refuse bad credentials, and odd user and project ids are 403/404, never 500", () => {
  const gateway = (detail: string, requestId: string | null) =>
    ({ error_msg: `Incorrect IAM authentication information: ${detail}`, error_code: 'APIGW.0301', request_id: requestId });

  test('a tampered token, a signature whose signed header changed: 401 in the gateway form', async () => {
    const alice = world.users.alice;
    const token = await world.as('alice').getToken();
    const tampered = token.slice(0, 40) + (token[40] === 'A' ? 'B' : 'A') + token.slice(41);
    for (const path of [`/v3/users/${alice.id}/projects`, '/v3/auth/catalog', `/v3/projects/${alice.projectId}`]) {
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
      const project = await raw(world.url, 'GET', `/v3/projects/${id}`, { headers: { 'X-Auth-Token': token } });
      assert.deepEqual([project.status, project.body], [404, { error: { code: 404, title: 'Not Found', message: `Could not find project: ${decodeURIComponent(id)}.` } }], id.slice(0, 20));
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

  test('a URL the parser would silently rewrite is refused: dot segments (encoded too), empty segments, empty credentials, backslashes', () => {
    const parsed = (url: string) => parseConfig(['--public-url', url], {}).publicUrl;
    const bad = [
      'https://gateway.example/kms/../x', 'https://gateway.example/./kms', 'https://gateway.example/kms/..', 'https://gateway.example/kms/.',
      'https://gateway.example/kms/%2e%2E/x', 'https://gateway.example/%2e/kms', 'https://gateway.example/kms/.%2e',
      'https://gateway.example//kms', 'https://gateway.example/kms//', 'https://gateway.example//',
      'http://:@gateway.example/', 'http://@gateway.example/', 'https://gateway.example\\kms',
    ];
    for (const url of bad) {
      assert.throws(() => parsed(url), { message: `--public-url must be written as it is served (no credentials, no empty, "." or ".." path segments), got "${url}"` }, url);
    }
    // Dots inside a segment are a name, not a dot segment.
    assert.equal(parsed('https://gateway.example/kms.v1/..x/'), 'https://gateway.example/kms.v1/..x');
  });

  test('kmsd serve refuses it in one line, exit 2', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kmsd-otc-bad-url-'));
    const args = ['serve', '--port', '0', '--data-dir', dataDir, '--public-url', 'http://:@gateway.example/kms/../'];
    const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'bin', 'kmsd.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Were it accepted, kmsd would serve: stopped rather than waited for.
    const stop = setTimeout(() => child.kill('SIGKILL'), 20_000);
    let err = '';
    child.stderr.on('data', (chunk) => { err += chunk; });
    const [code] = await once(child, 'close');
    clearTimeout(stop);
    rmSync(dataDir, { recursive: true, force: true });
    assert.equal(code, 2);
    assert.equal(err, 'kmsd: --public-url must be written as it is served (no credentials, no empty, "." or ".." path segments), got "http://:@gateway.example/kms/../"\n');
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

describe('GET /v3/projects/{project_id}: where every project link points (openstack project show)', () => {
  const NOT_FOUND = (id: string) => ({ error: { code: 404, title: 'Not Found', message: `Could not find project: ${id}.` } });

  test("a project of the caller's account, by token and by AK/SK, at the URL its links.self names", async () => {
    const alice = world.users.alice;
    const token = await world.as('alice').getToken();
    const listed = await raw(world.url, 'GET', `/v3/users/${alice.id}/projects`, { headers: { 'X-Auth-Token': token } });
    const self: string = listed.body.projects[0].links.self;
    assert.ok(self.startsWith(`${world.url}/`));
    const path = self.slice(world.url.length);
    const expected = { project: listed.body.projects[0] };
    const byToken = await raw(world.url, 'GET', path, { headers: { 'X-Auth-Token': token } });
    assert.deepEqual([byToken.status, byToken.body], [200, expected]);
    const bySignature = await raw(world.url, 'GET', path, { headers: signedHeaders(world.url, 'GET', path, alice, {}, undefined) });
    assert.deepEqual([bySignature.status, bySignature.body], [200, expected]);
    // A domain-scoped token of the account reads it too (the account's projects, whatever the scope).
    const domain = await raw(world.url, 'POST', '/v3/auth/tokens', {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: alice.name, password: alice.password, domain: { name: alice.account } } } }, scope: { domain: { name: alice.account } } } }),
    });
    const byDomain = await raw(world.url, 'GET', path, { headers: { 'X-Auth-Token': domain.headers.get('x-subject-token') as string } });
    assert.deepEqual([byDomain.status, byDomain.body], [200, expected]);
  });

  test("another account's project and an unknown id are the same 404 in Keystone form; no credentials 401", async () => {
    const token = await world.as('alice').getToken();
    assert.notEqual(world.users.alice.accountId, world.users.boss.accountId);
    for (const id of [world.users.boss.projectId, 'f'.repeat(32), 'cn-north-4']) {
      const r = await raw(world.url, 'GET', `/v3/projects/${id}`, { headers: { 'X-Auth-Token': token } });
      assert.deepEqual([r.status, r.body], [404, NOT_FOUND(id)], id);
    }
    const anonymous = await raw(world.url, 'GET', `/v3/projects/${world.users.alice.projectId}`);
    assert.equal(anonymous.status, 401);
    const post = await raw(world.url, 'POST', `/v3/projects/${world.users.alice.projectId}`, { headers: { 'X-Auth-Token': token }, body: '{}' });
    assert.deepEqual([post.status, post.body], [405, { error: { code: 405, title: 'Method Not Allowed', message: 'The method is not allowed for the requested URL.' } }]);
  });
});

describe("a path with an invalid percent-encoding is answered in its service's form, not Fastify's", () => {
  test('/v3: Keystone 400; /v1.0: KMS.0202; /v1: CSMS.0003', async () => {
    const token = await world.as('alice').getToken();
    const cases: Array<[string, number, unknown]> = [
      ['/v3/users/%ZZ/projects', 400, { error: { code: 400, title: 'Bad Request', message: 'The request URL has an invalid percent-encoding.' } }],
      ['/v3/projects/%E0%A4%A', 400, { error: { code: 400, title: 'Bad Request', message: 'The request URL has an invalid percent-encoding.' } }],
      ['/v1.0/%ZZ/kms/list-keys', 400, { error: { error_code: 'KMS.0202', error_msg: 'Invalid JSON format of the request message.' } }],
      [`/v1.0/${world.users.alice.projectId}/kms/%ZZ`, 400, { error: { error_code: 'KMS.0202', error_msg: 'Invalid JSON format of the request message.' } }],
      ['/v1/%ZZ/secrets', 400, { error_code: 'CSMS.0003', error_msg: 'The request is invalid.' }],
    ];
    for (const [path, status, body] of cases) {
      for (const method of ['GET', 'POST']) {
        const r = await raw(world.url, method, path, { headers: { 'X-Auth-Token': token }, body: method === 'POST' ? '{}' : undefined });
        assert.deepEqual([r.status, r.body], [status, body], `${method} ${path}`);
      }
    }
  });
});
