import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
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
