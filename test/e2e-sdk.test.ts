import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { systemClock } from '../src/core/runtime.ts';
import { startWorld, type TestUser, type World } from './harness.ts';

// The official Huawei Cloud Node.js SDK core: it signs every request with SDK-HMAC-SHA256
// and sends it over a real port, as a KMS client built on it would.
const require = createRequire(import.meta.url);
const { ClientBuilder } = require('@huaweicloud/huaweicloud-sdk-core/ClientBuilder');
const { BasicCredentials } = require('@huaweicloud/huaweicloud-sdk-core/auth/BasicCredentials');
// The SDK logs every 4xx it receives; the denials below are expected.
require('log4js').configure({ appenders: { out: { type: 'stdout' } }, categories: { default: { appenders: ['out'], level: 'off' } } });

let world: World;
before(async () => {
  // The SDK dates its signatures with the real clock. --node-sdk-error-fields lets the
  // SDK's own exception carry the KMS error code.
  world = await startWorld({ clock: systemClock, config: { nodeSdkErrorFields: true } });
});
after(() => world.close());

interface Outcome {
  status: number;
  body: any;
  errorCode?: string;
}

/** One KMS client per principal, built the way generated SDK clients are. */
function sdkClient(user: TestUser) {
  const credentials = new BasicCredentials().withAk(user.ak).withSk(user.sk).withProjectId(user.projectId);
  const hc = new ClientBuilder((client: unknown) => client).withEndpoint(world.url).withCredential(credentials).build();
  return async (operation: string, data: Record<string, unknown>): Promise<Outcome> => {
    try {
      const result = await hc.sendRequest({
        method: 'POST', url: `/v1.0/{project_id}/kms/${operation}`, contentType: 'application/json;charset=UTF-8',
        queryParams: {}, pathParams: {}, headers: {}, data,
      });
      const { httpStatusCode, ...body } = result;
      return { status: httpStatusCode, body };
    } catch (error) {
      const e = error as { httpStatusCode: number; errorCode?: string; errorMsg?: string };
      return { status: e.httpStatusCode, body: e.errorMsg, errorCode: e.errorCode };
    }
  };
}

describe('a grant lifecycle over a real port, signed by the official SDK core', () => {
  test('owner, grantee, retiring principal and an outsider play it through', async () => {
    const owner = sdkClient(world.users.admin);
    const grantee = sdkClient(world.users.gus);
    const retiring = sdkClient(world.users.rita);
    const outsider = sdkClient(world.users.boss);
    const denied = (o: Outcome) => o.status === 403 && o.errorCode === 'KMS.0306' && o.body === 'No access permissions.';

    const created = await owner('create-key', { key_alias: 'e2e-sdk-key', key_description: 'grant lifecycle' });
    assert.equal(created.status, 200);
    const keyId = created.body.key_info.key_id;

    // 1. A grant the issuer itself retires.
    const g1 = (await owner('create-grant', { key_id: keyId, grantee_principal: world.users.gus.id, operations: ['describe-key'] })).body.grant_id;
    assert.equal((await grantee('describe-key', { key_id: keyId })).status, 200);
    assert.ok(denied(await outsider('retire-grant', { key_id: keyId, grant_id: g1 })));
    assert.ok(denied(await grantee('retire-grant', { key_id: keyId, grant_id: g1 })), 'a grantee without retire-grant');
    const notNamed = await retiring('retire-grant', { key_id: keyId, grant_id: g1 });
    assert.ok(denied(notNamed), `not named as retiring principal: ${JSON.stringify(notNamed)}`);
    assert.deepEqual(await owner('retire-grant', { key_id: keyId, grant_id: g1 }), { status: 200, body: {} });
    assert.ok(denied(await grantee('describe-key', { key_id: keyId })), 'denied right after retire');

    // 2. A grant the retiring principal (another account) retires.
    const g2 = (await owner('create-grant', {
      key_id: keyId, grantee_principal: world.users.gus.id, operations: ['describe-key'], retiring_principal: world.users.rita.id,
    })).body.grant_id;
    assert.equal((await grantee('describe-key', { key_id: keyId })).status, 200);
    const retirable = await retiring('list-retirable-grants', { limit: '100' });
    assert.deepEqual(retirable.body.grants.map((g: { grant_id: string }) => g.grant_id), [g2]);
    assert.deepEqual(await retiring('retire-grant', { key_id: keyId, grant_id: g2 }), { status: 200, body: {} });
    assert.ok(denied(await grantee('describe-key', { key_id: keyId })));

    // 3. A grant whose grantee holds retire-grant and retires it itself: as an IAM user it also
    //    needs kms:cmk:retireGrant (alias kms:grant:retire), which greg holds.
    const greg = sdkClient(world.users.greg);
    const g3 = (await owner('create-grant', {
      key_id: keyId, grantee_principal: world.users.greg.id, operations: ['describe-key', 'retire-grant'],
    })).body.grant_id;
    assert.equal((await greg('describe-key', { key_id: keyId })).status, 200);
    assert.ok(denied(await outsider('describe-key', { key_id: keyId })));
    assert.ok(denied(await outsider('revoke-grant', { key_id: keyId, grant_id: g3 })));
    assert.deepEqual(await greg('retire-grant', { key_id: keyId, grant_id: g3 }), { status: 200, body: {} });
    assert.ok(denied(await greg('describe-key', { key_id: keyId })));

    // 4. A grant the owner revokes; the grantee can never revoke, and without the IAM action
    //    not retire either, although the grant holds retire-grant.
    const g4 = (await owner('create-grant', { key_id: keyId, grantee_principal: world.users.gus.id, operations: ['describe-key', 'retire-grant'] })).body.grant_id;
    assert.ok(denied(await grantee('revoke-grant', { key_id: keyId, grant_id: g4 })));
    assert.ok(denied(await grantee('retire-grant', { key_id: keyId, grant_id: g4 })), 'retire-grant in the grant, not the IAM action');
    assert.deepEqual(await owner('revoke-grant', { key_id: keyId, grant_id: g4 }), { status: 200, body: {} });
    assert.ok(denied(await grantee('describe-key', { key_id: keyId })));

    const list = await owner('list-grants', { key_id: keyId, limit: 100 });
    assert.deepEqual(list.body, { grants: [], next_marker: '', truncated: 'false', total: 0 });
  });
});

describe('signatures and MACs, signed by the official SDK core', () => {
  test('create-key EC_P256, sign, verify and get-publickey; generate-mac and verify-mac on an HMAC_256 key', async () => {
    const owner = sdkClient(world.users.admin);
    const keyId = (await owner('create-key', { key_alias: `e2e-sign-${Date.now()}`, key_spec: 'EC_P256', key_usage: 'SIGN_VERIFY' })).body.key_info.key_id;
    const digest = createHash('sha256').update('signed through the SDK').digest('base64');
    const signed = await owner('sign', { key_id: keyId, message: digest, signing_algorithm: 'ECDSA_SHA_256', message_type: 'DIGEST' });
    assert.equal(signed.status, 200);
    assert.deepEqual(Object.keys(signed.body).sort(), ['key_id', 'signature']);
    const verified = await owner('verify', { key_id: keyId, message: digest, signature: signed.body.signature, signing_algorithm: 'ECDSA_SHA_256' });
    assert.deepEqual(verified, { status: 200, body: { key_id: keyId, signature_valid: 'true' } });
    const pub = await owner('get-publickey', { key_id: keyId });
    assert.equal(pub.status, 200);
    // Checked outside kmsd: node:crypto's verify on the public key the SDK received.
    assert.equal(verify('sha256', Buffer.from('signed through the SDK'), createPublicKey(pub.body.public_key), Buffer.from(signed.body.signature, 'base64')), true);

    const macKey = (await owner('create-key', { key_alias: `e2e-mac-${Date.now()}`, key_spec: 'HMAC_256', key_usage: 'GENERATE_VERIFY_MAC' })).body.key_info.key_id;
    const message = Buffer.from('mac through the SDK').toString('base64');
    const mac = await owner('generate-mac', { key_id: macKey, mac_algorithm: 'HMAC_SHA_256', message });
    assert.equal(mac.status, 200);
    assert.deepEqual(Object.keys(mac.body).sort(), ['key_id', 'mac', 'mac_algorithm']);
    const checked = await owner('verify-mac', { key_id: macKey, mac_algorithm: 'HMAC_SHA_256', message, mac: mac.body.mac });
    assert.deepEqual(checked, { status: 200, body: { key_id: macKey, mac_algorithm: 'HMAC_SHA_256', mac_valid: true } });
    const outsider = sdkClient(world.users.boss);
    assert.equal((await outsider('sign', { key_id: keyId, message: digest, signing_algorithm: 'ECDSA_SHA_256' })).errorCode, 'KMS.0306');
  });
});

describe('the Node SDK and the default error shape', () => {
  test('without --node-sdk-error-fields the SDK sees the status but not the KMS code (reference §1.4)', async () => {
    const plain = await startWorld({ clock: systemClock });
    try {
      const saved = world;
      world = plain;
      const outsider = sdkClient(plain.users.boss);
      world = saved;
      const r = await outsider('describe-key', { key_id: crypto.randomUUID() });
      assert.deepEqual(r, { status: 404, body: 'Request failed with status code 404', errorCode: undefined });
    } finally {
      await plain.close();
    }
  });
});

describe('tags and aliases through the Node SDK core (path parameters, GET query, DELETE with a body)', () => {
  /** A request as KmsClient's generated methods build it: path template, path and query parameters. */
  function rest(user: TestUser) {
    const credentials = new BasicCredentials().withAk(user.ak).withSk(user.sk).withProjectId(user.projectId);
    const hc = new ClientBuilder((client: unknown) => client).withEndpoint(world.url).withCredential(credentials).build();
    return async (method: string, url: string, pathParams: Record<string, string>, data?: unknown, queryParams: Record<string, string> = {}) => {
      const result = await hc.sendRequest({ method, url, contentType: 'application/json', queryParams, pathParams, headers: {}, data });
      const { httpStatusCode, ...body } = result;
      return { status: httpStatusCode, body };
    };
  }

  test('BatchCreateKmsTags, ShowKmsTags, DeleteTag, ListKmsByTags, CreateAlias, ListAliases, AssociateAlias, DeleteAlias', async () => {
    const call = rest(world.users.alice);
    const created = await call('POST', '/v1.0/{project_id}/kms/create-key', {}, { key_alias: `sdk-tags-${Date.now()}` });
    const keyId = created.body.key_info.key_id;
    const other = (await call('POST', '/v1.0/{project_id}/kms/create-key', {}, { key_alias: `sdk-tags-2-${Date.now()}` })).body.key_info.key_id;
    assert.equal((await call('POST', '/v1.0/{project_id}/kms/{key_id}/tags/action', { key_id: keyId },
      { action: 'create', tags: [{ key: 'env', value: 'prod' }, { key: 'team', value: 'x' }] })).status, 204);
    assert.deepEqual((await call('GET', '/v1.0/{project_id}/kms/{key_id}/tags', { key_id: keyId })).body,
      { tags: [{ key: 'env', value: 'prod' }, { key: 'team', value: 'x' }], existTagsNum: 2 });
    assert.equal((await call('DELETE', '/v1.0/{project_id}/kms/{key_id}/tags/{key}', { key_id: keyId, key: 'team' })).status, 204);
    // A tag key that is not plain ASCII: the Node SDK signs the path encoded twice; kmsd accepts that form too.
    await call('POST', '/v1.0/{project_id}/kms/{key_id}/tags', { key_id: keyId }, { tag: { key: '成本 中心', value: 'x' } });
    assert.equal((await call('DELETE', '/v1.0/{project_id}/kms/{key_id}/tags/{key}', { key_id: keyId, key: '成本 中心' })).status, 204);
    assert.deepEqual((await call('GET', '/v1.0/{project_id}/kms/{key_id}/tags', { key_id: keyId })).body.tags, [{ key: 'env', value: 'prod' }]);
    const found = await call('POST', '/v1.0/{project_id}/kms/{resource_instances}/action', { resource_instances: 'resource_instances' },
      { action: 'filter', limit: '10', offset: '0', tags: [{ key: 'env', values: ['prod'] }] });
    assert.deepEqual(found.body.resources.map((r: { resource_id: string }) => r.resource_id), [keyId]);

    const alias = `sdk-alias-${Date.now()}`;
    const made = await call('POST', '/v1.0/{project_id}/kms/aliases', {}, { key_id: keyId, alias });
    assert.deepEqual([made.status, made.body.alias, made.body.key_id], [201, alias, keyId]);
    // The Node SDK hands back the JSON it received: the documented object.
    const listed = await call('GET', '/v1.0/{project_id}/kms/aliases', {}, undefined, { key_id: keyId, limit: '50' });
    assert.deepEqual([listed.body.aliases.map((a: { alias: string }) => a.alias), listed.body.page_info], [[alias], { next_marker: '', current_count: 1 }]);
    assert.equal((await call('POST', '/v1.0/{project_id}/kms/alias/associate', {}, { alias, target_key_id: other })).body.key_id, other);
    assert.equal((await call('DELETE', '/v1.0/{project_id}/kms/aliases', {}, { key_id: other, aliases: [alias] })).status, 204);
  });
});

describe('CSMS secrets through the Node SDK core, as CsmsClient builds its requests (issue #26)', () => {
  // The Python huaweicloudsdkcsms is not installable here (PyPI is out of reach) and the Node.js
  // CSMS package is not on npm: the requests are CsmsClient's own (method, path template, path
  // and query parameters, content type: the SDKs' csms_meta definitions), sent and signed by the
  // official SDK core. CSMS errors are flat, which the SDK core reads without any option.
  function csms(user: TestUser) {
    const credentials = new BasicCredentials().withAk(user.ak).withSk(user.sk).withProjectId(user.projectId);
    const hc = new ClientBuilder((client: unknown) => client).withEndpoint(world.url).withCredential(credentials).build();
    return async (method: string, url: string, pathParams: Record<string, string> = {}, data?: unknown, queryParams: Record<string, string> = {}): Promise<Outcome> => {
      const contentType = method === 'POST' || method === 'PUT' ? 'application/json;charset=UTF-8' : 'application/json';
      try {
        const result = await hc.sendRequest({ method, url, contentType, queryParams, pathParams, headers: {}, data });
        const { httpStatusCode, ...body } = result;
        return { status: httpStatusCode, body };
      } catch (error) {
        const e = error as { httpStatusCode: number; errorCode?: string; errorMsg?: string };
        return { status: e.httpStatusCode, body: e.errorMsg, errorCode: e.errorCode };
      }
    };
  }

  test('create → versions → stages → schedule deletion → restore → delete, and the refusals on the way', async () => {
    const call = csms(world.users.admin);
    const name = `sdk-secret-${Date.now()}`;
    const secretPath = '/v1/{project_id}/secrets/{secret_name}';
    const created = await call('POST', '/v1/{project_id}/secrets', {}, { name, secret_string: 'first', description: 'through the SDK' });
    assert.equal(created.status, 200);
    assert.deepEqual([created.body.secret.name, created.body.secret.state, created.body.secret.description], [name, 'ENABLED', 'through the SDK']);
    const secretId = created.body.secret.id;

    const v2 = await call('POST', `${secretPath}/versions`, { secret_name: name }, { secret_string: 'second' });
    assert.deepEqual([v2.status, v2.body.version_metadata.id, v2.body.version_metadata.version_stages], [200, 'v2', ['SYSCURRENT']]);
    const latest = await call('GET', `${secretPath}/versions/{version_id}`, { secret_name: name, version_id: 'latest' });
    assert.deepEqual([latest.body.version.secret_string, latest.body.version.version_metadata.id], ['second', 'v2']);
    const versions = await call('GET', `${secretPath}/versions`, { secret_name: name }, undefined, { limit: '10' });
    assert.deepEqual(versions.body.version_metadatas.map((v: { id: string; version_stages: string[] }) => [v.id, v.version_stages]), [['v1', ['SYSPREVIOUS']], ['v2', ['SYSCURRENT']]]);

    const stage = await call('PUT', `${secretPath}/stages/{stage_name}`, { secret_name: name, stage_name: 'canary' }, { version_id: 'v1' });
    assert.deepEqual([stage.status, stage.body.stage.name, stage.body.stage.version_id], [200, 'canary', 'v1']);
    assert.equal((await call('GET', `${secretPath}/stages/{stage_name}`, { secret_name: name, stage_name: 'canary' })).body.stage.secret_name, name);
    assert.equal((await call('DELETE', `${secretPath}/stages/{stage_name}`, { secret_name: name, stage_name: 'canary' })).status, 204);
    const system = await call('DELETE', `${secretPath}/stages/{stage_name}`, { secret_name: name, stage_name: 'SYSCURRENT' });
    assert.deepEqual([system.status, system.errorCode, system.body], [400, 'CSMS.0105', 'Can not delete the system internal stage.']);

    assert.equal((await call('POST', '/v1/{project_id}/csms/{secret_id}/tags', { secret_id: secretId }, { tag: { key: 'env', value: 'prod' } })).status, 204);
    assert.deepEqual((await call('GET', '/v1/{project_id}/csms/{secret_id}/tags', { secret_id: secretId })).body.tags, [{ key: 'env', value: 'prod' }]);
    const found = await call('POST', '/v1/{project_id}/csms/{resource_instances}/action', { resource_instances: 'resource_instances' },
      { action: 'filter', limit: '10', offset: '0', tags: [{ key: 'env', values: ['prod'] }] });
    assert.deepEqual(found.body.resources.map((r: { resource_name: string }) => r.resource_name), [name]);

    const scheduled = await call('POST', `${secretPath}/scheduled-deleted-tasks/create`, { secret_name: name }, { recovery_window_in_days: 7 });
    assert.deepEqual([scheduled.status, scheduled.body.secret.state], [200, 'PENDING_DELETE']);
    const unreadable = await call('GET', `${secretPath}/versions/{version_id}`, { secret_name: name, version_id: 'v2' });
    assert.deepEqual([unreadable.status, unreadable.errorCode], [400, 'CSMS.0103']);
    const restored = await call('POST', `${secretPath}/scheduled-deleted-tasks/cancel`, { secret_name: name });
    assert.deepEqual([restored.status, restored.body.secret.state, restored.body.secret.scheduled_delete_time], [200, 'ENABLED', null]);

    const password = await call('POST', '/v1/{project_id}/csms/generate-password', {}, { length: 20, require_each_included_type: true });
    assert.equal(password.body.password.length, 20);

    const outsider = await csms(world.users.nobody)('GET', secretPath, { secret_name: name });
    assert.deepEqual([outsider.status, outsider.errorCode, outsider.body], [403, 'CSMS.0302', 'No access permissions.']);
    assert.equal((await call('DELETE', secretPath, { secret_name: name })).status, 204);
    const gone = await call('GET', secretPath, { secret_name: name });
    assert.deepEqual([gone.status, gone.errorCode, gone.body], [404, 'CSMS.0005', 'The resource does not exist.']);
  });
});
