import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/core/runtime.ts';
import { ERR, newGrant, newKey, raw, startWorld, type Client, type World } from '../harness.ts';

/** ListTraces (CTS v3): the audit trail as Huawei Cloud's Cloud Trace Service lists it. */
let world: World;
const clock = new ManualClock(Date.now());
before(async () => {
  world = await startWorld({ clock });
});
after(() => world.close());

const traces = (client: Client, query = '') => client.request('GET', `/v3/${client.user.projectId}/traces?trace_type=system${query}`);
const names = (r: { body: { traces: Array<{ trace_name: string }> } }) => r.body.traces.map((t) => t.trace_name);

describe('list-traces', () => {
  test('an owner sees what its users did to its keys, newest first, as CTS traces', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    clock.advance(1);
    const created = await alice.kms('create-grant', { key_id: keyId, grantee_principal: world.users.gus.id, operations: ['describe-key'] });
    const r = await traces(alice, `&resource_id=${keyId}`);
    assert.equal(r.status, 200);
    assert.deepEqual(names(r), ['createGrant', 'createKey']);
    const alice_ = world.users.alice;
    assert.deepEqual(r.body.traces[0], {
      trace_id: r.body.traces[0].trace_id, trace_name: 'createGrant', trace_rating: 'normal', trace_type: 'ApiCall',
      service_type: 'KMS', resource_type: 'cmk', resource_id: keyId, resource_name: keyId,
      request: JSON.stringify({ key_id: keyId, grant_id: created.body.grant_id }), response: '', code: '200', api_version: 'v1.0',
      message: 'allowed', time: clock.now(), record_time: clock.now(), request_id: created.headers.get('x-request-id'),
      user: { id: alice_.id, name: 'alice', domain: { id: alice_.accountId, name: 'acme' } },
    });
    assert.match(r.body.traces[0].trace_id, /^[0-9]+$/);
    assert.deepEqual(r.body.meta_data, { count: 2 });
  });

  test("a grantee's refused use of a key is in the owner's trail, with the code it was refused with", async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    const grantId = await newGrant(alice, keyId, world.users.greg.id, ['encrypt-data', 'retire-grant']);
    const gus = world.as('greg');
    assert.equal((await gus.kms('retire-grant', { key_id: keyId, grant_id: grantId })).status, 200);
    const refused = await gus.kms('encrypt-data', { key_id: keyId, plain_text: 'hello' });
    assert.deepEqual([refused.status, refused.body], [403, ERR('KMS.0306', 'No access permissions.')]);
    const r = await traces(alice, `&resource_id=${keyId}`);
    assert.deepEqual(names(r), ['encryptData', 'retireGrant', 'createGrant', 'createKey']);
    const [denied, retired] = r.body.traces;
    assert.deepEqual(
      [denied.trace_rating, denied.message, denied.code, denied.response, denied.user.name, denied.user.domain.name],
      ['warning', 'denied', '403', JSON.stringify(ERR('KMS.0306', 'No access permissions.')), 'greg', 'globex'],
    );
    assert.equal(denied.request_id, refused.headers.get('x-request-id'));
    assert.deepEqual([retired.message, retired.user.id], ['allowed', world.users.greg.id]);
    // Filters: by user, by rating, by name (either spelling).
    assert.deepEqual(names(await traces(alice, `&resource_id=${keyId}&user=${world.users.greg.id}`)), ['encryptData', 'retireGrant']);
    assert.deepEqual(names(await traces(alice, `&resource_id=${keyId}&trace_rating=warning`)), ['encryptData']);
    assert.deepEqual(names(await traces(alice, `&resource_id=${keyId}&trace_name=retireGrant`)), ['retireGrant']);
    assert.deepEqual(names(await traces(alice, `&resource_id=${keyId}&trace_name=retire-grant`)), ['retireGrant']);
  });

  test('pages newest first: limit, then next from meta_data.marker; from and to bound the time', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    const start = clock.now();
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await newGrant(alice, keyId, world.users.gus.id, ['describe-key']);
    }
    const first = await traces(alice, `&resource_id=${keyId}&limit=2`);
    assert.deepEqual(names(first), ['createGrant', 'createGrant']);
    assert.deepEqual(first.body.meta_data, { count: 2, marker: first.body.traces[1].trace_id });
    const second = await traces(alice, `&resource_id=${keyId}&limit=2&next=${first.body.meta_data.marker}`);
    assert.deepEqual(names(second), ['createGrant', 'createKey']);
    assert.deepEqual(second.body.meta_data, { count: 2 });
    const window = await traces(alice, `&resource_id=${keyId}&from=${start + 1500}&to=${start + 2500}`);
    assert.deepEqual(window.body.traces.map((t: { time: number }) => t.time), [start + 2000]);
    const one = await traces(alice, `&trace_id=${first.body.traces[1].trace_id}`);
    assert.deepEqual(one.body.traces.map((t: { trace_id: string }) => t.trace_id), [first.body.traces[1].trace_id]);
  });

  test("another account sees none of the owner's own doings; data traces and other services are empty", async () => {
    const keyId = await newKey(world.as('alice'));
    const r = await traces(world.as('boss'), `&resource_id=${keyId}`);
    assert.deepEqual([r.status, r.body], [200, { traces: [], meta_data: { count: 0 } }]);
    const alice = world.as('alice');
    assert.deepEqual((await alice.request('GET', `/v3/${alice.user.projectId}/traces?trace_type=data`)).body, { traces: [], meta_data: { count: 0 } });
    assert.deepEqual((await traces(alice, '&service_type=ECS')).body, { traces: [], meta_data: { count: 0 } });
  });

  test('refusals: no action, bad values, missing trace_type, another project; AK/SK works as a token does', async () => {
    const gus = world.as('gus');
    const denied = await traces(gus);
    assert.deepEqual([denied.status, denied.body], [403, ERR('KMS.0306', 'No access permissions.')]);
    assert.deepEqual((await traces(world.as('reader'))).body, ERR('KMS.0306', 'No access permissions.'));
    const alice = world.as('alice');
    for (const [query, code, msg] of [
      ['&limit=0', 'KMS.1601', 'Invalid limit.'], ['&limit=201', 'KMS.1601', 'Invalid limit.'], ['&limit=x', 'KMS.1601', 'Invalid limit.'],
      ['&next=abc', 'KMS.1602', 'marker must be greater than or equals 0.'], ['&from=yesterday', 'KMS.0308', 'Invalid parameter.'],
      ['&trace_rating=bad', 'KMS.0308', 'Invalid parameter.'], ['&user=a%20b', 'KMS.0308', 'Invalid parameter.'],
    ] as const) {
      const r = await traces(alice, query);
      assert.deepEqual([r.status, r.body], [400, ERR(code, msg)], query);
    }
    const missing = await alice.request('GET', `/v3/${alice.user.projectId}/traces`);
    assert.deepEqual([missing.status, missing.body], [400, ERR('KMS.0204', 'Parameters missing in the request message.')]);
    const other = await alice.request('GET', `/v3/${world.users.gus.projectId}/traces?trace_type=system`);
    assert.deepEqual([other.status, other.body], [403, ERR('KMS.0321', 'URIs in URL and X-Auth-Token do not match.')]);
    assert.equal((await traces(world.as('alice', 'aksk'), '&limit=1')).status, 200);
  });

  test('the IAM routes beside it keep their own answers', async () => {
    const token = await world.as('alice').getToken();
    const projects = await raw(world.url, 'GET', '/v3/projects', { headers: { 'X-Auth-Token': token } });
    assert.equal(projects.status, 200);
    const wrongMethod = await raw(world.url, 'DELETE', `/v3/${world.users.alice.projectId}/traces`, { headers: { 'X-Auth-Token': token } });
    assert.deepEqual([wrongMethod.status, wrongMethod.body], [405, { error: { code: 405, message: 'The method is not allowed for the requested URL.', title: 'Method Not Allowed' } }]);
    const unknown = await raw(world.url, 'GET', `/v3/${world.users.alice.projectId}/nothing`, { headers: { 'X-Auth-Token': token } });
    assert.equal(unknown.status, 404);
    const tokens = await raw(world.url, 'GET', '/v3/auth/tokens');
    assert.notEqual(tokens.status, 200);
  });
});
