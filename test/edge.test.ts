import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, newKey, raw, signedHeaders, startWorld, type World } from './harness.ts';

let world: World;
before(async () => {
  world = await startWorld({ config: { bodyLimit: 4096 } });
});
after(() => world.close());

const gateway = (detail: string) => ({ error_code: 'APIGW.0301', error_msg: `Incorrect IAM authentication information: ${detail}` });

function withoutRequestId(body: Record<string, unknown>): Record<string, unknown> {
  const { request_id, ...rest } = body;
  assert.match(String(request_id), /^[0-9a-f]{32}$/);
  return rest;
}

describe('the HTTP edge', () => {
  test('GET / and GET /v1.0 answer the version documents without authentication', async () => {
    const all = await raw(world.url, 'GET', '/');
    const host = new URL(world.url).host;
    const detail = { id: 'v1.0', links: [{ href: `http://${host}/v1.0/`, rel: 'self' }], version: '', status: 'CURRENT', updated: '2016-10-29T02:00:00Z', min_version: '' };
    assert.deepEqual([all.status, all.body], [200, { versions: [detail] }]);
    const one = await raw(world.url, 'GET', '/v1.0');
    assert.deepEqual([one.status, one.body], [200, { version: detail }]);
  });

  test('every response carries X-Request-Id, errors included, and the gateway body repeats it', async () => {
    const r = await raw(world.url, 'POST', `/v1.0/${world.users.admin.projectId}/kms/describe-key`, { body: '{}' });
    assert.equal(r.status, 401);
    assert.equal(r.body.request_id, r.headers.get('x-request-id'));
    const ok = await world.as('admin').kms('list-keys', {});
    assert.match(ok.headers.get('x-request-id') ?? '', /^[0-9a-f]{32}$/);
  });

  test('an unknown path is 400 KMS.0201; a known path with the wrong method is 405 KMS.0215', async () => {
    const unknown = await world.as('admin').kms('no-such-operation', {});
    assert.deepEqual([unknown.status, unknown.body], [400, ERR('KMS.0201', 'Invalid request URL.')]);
    const wrong = await raw(world.url, 'DELETE', `/v1.0/${world.users.admin.projectId}/kms/retire-grant`);
    assert.deepEqual([wrong.status, wrong.body], [405, ERR('KMS.0215', 'Request method not supported.')]);
    const version = await raw(world.url, 'GET', '/v9.9');
    assert.deepEqual([version.status, version.body], [400, ERR('KMS.0201', 'Invalid request URL.')]);
  });

  test('a path that names no operation of a route serving several (src/api/route-groups.ts) is answered as when no route matched: after the body is read', async () => {
    const project = world.users.admin.projectId;
    const big = 'x'.repeat(300_000);
    // Under /v1.0/ and /v1/ (CSMS), an unknown path or another method: a body over the limit first.
    for (const [method, path] of [['POST', `/v1.0/${project}/kms/no-such-operation`], ['PUT', `/v1.0/${project}/kms/create-key`], ['PUT', `/v1/${project}/secrets/s/scheduled-deleted-tasks/create`], ['POST', `/v1/${project}/secrets/s/versions/v1`]]) {
      const r = await raw(world.url, method, path, { body: big });
      assert.deepEqual([r.status, r.body], [400, ERR('KMS.0203', 'Request message too long.')], `${method} ${path}`);
    }
    const unknown = await raw(world.url, 'POST', `/v1.0/${project}/kms/no-such-operation`, { body: '{}' });
    assert.deepEqual([unknown.status, unknown.body], [400, ERR('KMS.0201', 'Invalid request URL.')]);
    const csms = await raw(world.url, 'POST', `/v1/${project}/secrets/s/versions/v1`, { body: '{}' });
    assert.deepEqual([csms.status, csms.body], [400, { error_code: 'CSMS.0003', error_msg: 'The request is invalid.' }]);
  });

  test('a body over the limit is 400 KMS.0203', async () => {
    const r = await world.as('admin').kms('create-key', { key_alias: 'big', key_description: 'x'.repeat(5000) });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0203', 'Request message too long.')]);
  });

  test('invalid UTF-8 in a body is 400 KMS.0202, not a 500', async () => {
    const token = await world.as('admin').getToken();
    const body = Buffer.concat([Buffer.from('{"key_alias":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const r = await raw(world.url, 'POST', `/v1.0/${world.users.admin.projectId}/kms/create-key`, {
      headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' }, body: new Uint8Array(body) as unknown as string,
    });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0202', 'Invalid JSON format of the request message.')]);
  });

  test('any content type is read as JSON, as the SDK variants send several', async () => {
    const token = await world.as('admin').getToken();
    for (const type of ['application/json', 'application/json;charset=UTF-8', 'text/plain']) {
      const r = await raw(world.url, 'POST', `/v1.0/${world.users.admin.projectId}/kms/list-keys`, {
        headers: { 'X-Auth-Token': token, 'Content-Type': type }, body: '{"limit":"1"}',
      });
      assert.equal(r.status, 200, type);
    }
  });

  test('a member named __proto__ is an unknown field, never the prototype; a "" member is not given', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const token = await admin.getToken();
    const send = (body: string) => raw(world.url, 'POST', `/v1.0/${world.users.admin.projectId}/kms/describe-key`, {
      headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' }, body,
    });
    const named = await send(`{"key_id":"${keyId}","__proto__":{"key_id":"not-this"}}`);
    assert.deepEqual([named.status, named.body.key_info.key_id], [200, keyId]);
    const hidden = await send(`{"__proto__":{"key_id":"${keyId}"}}`);
    assert.deepEqual([hidden.status, hidden.body], [400, ERR('KMS.0204', 'Parameters missing in the request message.')]);
    const empty = await send(`{"key_id":"","__proto__":{"key_id":"${keyId}"}}`);
    assert.deepEqual([empty.status, empty.body], [400, ERR('KMS.0204', 'Parameters missing in the request message.')]);
  });

  test('no credentials, a garbage token, a garbage signature: 401 APIGW.0301 before the body is read', async () => {
    const path = `/v1.0/${world.users.admin.projectId}/kms/create-key`;
    const none = await raw(world.url, 'POST', path, { body: 'not json' });
    assert.deepEqual([none.status, withoutRequestId(none.body)], [401, gateway('x-auth-token not found')]);
    const badToken = await raw(world.url, 'POST', path, { headers: { 'X-Auth-Token': 'MIIxyz' }, body: '{}' });
    assert.deepEqual([badToken.status, withoutRequestId(badToken.body)], [401, gateway('decrypt token fail')]);
    const badAuth = await raw(world.url, 'POST', path, { headers: { Authorization: 'SDK-HMAC-SHA256 nonsense' }, body: '{}' });
    assert.deepEqual([badAuth.status, withoutRequestId(badAuth.body)], [401, gateway('verify aksk signature fail')]);
  });

  test('an unknown AK, a wrong SK and a body changed after signing are refused', async () => {
    const admin = world.users.admin;
    const path = `/v1.0/${admin.projectId}/kms/list-keys`;
    const body = '{"limit":"10"}';
    const headers = { 'Content-Type': 'application/json' };
    const unknownAk = signedHeaders(world.url, 'POST', path, { ...admin, ak: 'NOSUCHAK' }, headers, body);
    const r1 = await raw(world.url, 'POST', path, { headers: unknownAk, body });
    assert.deepEqual([r1.status, withoutRequestId(r1.body)], [401, gateway('Get secretKey failed,ak:******,err:ak not exist')]);
    const wrongSk = signedHeaders(world.url, 'POST', path, { ...admin, sk: 'wrong' }, headers, body);
    const r2 = await raw(world.url, 'POST', path, { headers: wrongSk, body });
    assert.deepEqual([r2.status, withoutRequestId(r2.body)], [401, gateway('verify aksk signature fail')]);
    const good = signedHeaders(world.url, 'POST', path, admin, headers, body);
    const r3 = await raw(world.url, 'POST', path, { headers: good, body: '{"limit":"11"}' });
    assert.deepEqual([r3.status, withoutRequestId(r3.body)], [401, gateway('verify aksk signature fail')]);
    const r4 = await raw(world.url, 'POST', path, { headers: good, body });
    assert.equal(r4.status, 200);
  });

  test('a project of another account in the URL is 403 KMS.0321, by token and by signature', async () => {
    const other = world.users.boss.projectId;
    for (const auth of ['token', 'aksk'] as const) {
      const r = await world.as('admin', auth).kms('list-keys', {}, other);
      assert.deepEqual([r.status, r.body], [403, ERR('KMS.0321', 'URIs in URL and X-Auth-Token do not match.')], auth);
    }
    const unknown = await world.as('admin').kms('list-keys', {}, '0'.repeat(32));
    assert.deepEqual([unknown.status, unknown.body], [403, ERR('KMS.0321', 'URIs in URL and X-Auth-Token do not match.')]);
  });

  test('a trailing slash on the path is the same operation', async () => {
    const keyId = await newKey(world.as('admin'));
    const r = await world.as('admin').request('POST', `/v1.0/${world.users.admin.projectId}/kms/describe-key/`, { key_id: keyId });
    assert.equal(r.status, 200);
  });
});
