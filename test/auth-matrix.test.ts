import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATIONS } from '../src/api/routes.ts';
import type { Operation } from '../src/api/operation.ts';
import { iamTime } from '../src/auth/tokens.ts';
import { DAY_MS, ManualClock, newIdentityId } from '../src/core/runtime.ts';
import { ERR, hex, newGrant, newKey, raw, signedHeaders, startWorld, type TestUser, type World } from './harness.ts';
import { auditCount, storeDigest } from './support/store-digest.ts';
import { operationPath, sendsBody } from './support/operation-path.ts';
import { allowCsms } from './support/csms.ts';

/**
 * Issue #6 §3: every operation × every way of not being who you say. Each gets the exact
 * documented refusal, the store is unchanged, and the trail gains one denied record.
 */
const clock = new ManualClock(Date.now());
let world: World;
let body: string;
let tokens: { alice: string; otherProject: string; otherAccount: string; issuedAt: number };

const MINUTE = 60_000;

async function tokenFor(user: TestUser, projectId: string): Promise<string> {
  const r = await fetch(`${world.url}/v3/auth/tokens`, {
    method: 'POST',
    body: JSON.stringify({ auth: {
      identity: { methods: ['password'], password: { user: { name: user.name, password: user.password, domain: { name: user.account } } } },
      scope: { project: { id: projectId } },
    } }),
  });
  assert.equal(r.status, 201);
  return r.headers.get('x-subject-token') as string;
}

before(async () => {
  // Every refusal recorded: this suite counts one record per request (the per-address bound
  // on records of unknown callers is tested in test/audit-refusals.test.ts).
  world = await startWorld({ clock, config: { auditRefusalRate: 0 } });
  // alice (kms:*:*) holds the CSMS actions too, so that every operation would accept her.
  await allowCsms(world, 'alice');
  const alice = world.as('alice');
  const keyId = await newKey(alice);
  const grantId = await newGrant(alice, keyId, world.users.gus.id, ['describe-key']);
  const keystoreId = (await alice.request('POST', `/v1.0/${world.users.alice.projectId}/keystores`, { keystore_alias: `matrix-${hex(4)}` })).body.keystore.keystore_id;
  // A body every operation would accept from alice (kms:*:*): what refuses it must be the credentials.
  body = JSON.stringify({
    key_id: keyId, grant_id: grantId, key_alias: `matrix-${hex(4)}`, key_description: 'd', grantee_principal: world.users.gus.id,
    operations: ['describe-key'], plain_text: 'hello', datakey_length: '256', random_data_length: '32', pending_days: '7',
    rotation_interval: 30,
    key: 'matrix-tag', tag: { key: 'matrix-tag', value: 'v' }, tags: [{ key: 'matrix-tag', value: 'v' }], action: 'create',
    alias: 'matrix-alias', aliases: ['matrix-alias'], target_key_id: keyId,
    message: Buffer.alloc(32, 1).toString('base64'), signing_algorithm: 'ECDSA_SHA_256',
    signature: Buffer.alloc(70, 2).toString('base64'), mac_algorithm: 'HMAC_SHA_256', mac: Buffer.alloc(32, 3).toString('hex'),
    destination_key_id: keyId,
    wrapping_algorithm: 'RSAES_OAEP_SHA_256', import_token: 'A'.repeat(300), encrypted_key_material: 'A'.repeat(344),
    keystore_alias: `matrix-ks-${hex(4)}`, keystore_id: keystoreId, replica_region: 'cn-south-1', replica_project_id: hex(16),
    primary_region: 'cn-north-4',
    // CSMS (secrets).
    name: `matrix-${hex(4)}`, secret_string: 's', secret_name: `matrix-s-${hex(4)}`, secret_id: crypto.randomUUID(),
    version_id: 'v1', stage_name: 'matrix', recovery_window_in_days: 7,
  });
  // A second project of acme, so that a token can be scoped to a project other than the URL's.
  const other = { id: newIdentityId(), accountId: world.users.alice.accountId, name: 'cn-south-1' };
  await world.server.store.write((tx) => tx.insertProject(other));
  tokens = {
    issuedAt: clock.now(),
    alice: await tokenFor(world.users.alice, world.users.alice.projectId),
    otherProject: await tokenFor(world.users.alice, other.id),
    otherAccount: await tokenFor(world.users.gus, world.users.gus.projectId),
  };
});
after(() => world.close());

interface Attempt {
  headers: Record<string, string>;
  path?: string;
  body?: string;
  /** Server clock offset while the request is answered. */
  skew?: number;
}

const JSON_TYPE = { 'Content-Type': 'application/json;charset=UTF-8' };
const pathOf = (op: Operation) => operationPath(op, world.users.alice.projectId, JSON.parse(body));
const bodyOf = (op: Operation) => (sendsBody(op) ? body : undefined);
const sign = (op: Operation, who: { ak: string; sk: string; projectId: string }, path = pathOf(op), sentBody = bodyOf(op)) =>
  signedHeaders(world.url, op.method, path, who, JSON_TYPE, sentBody);
const alice = () => world.users.alice;

const gateway = (detail: string) => ({ status: 401, detail });
const forbidden = { status: 403, code: 'KMS.0321' };

const CASES: Array<[string, (op: Operation) => Attempt, (attempt: Attempt) => { status: number; detail?: string; code?: string }]> = [
  ['no credentials', () => ({ headers: JSON_TYPE }), () => gateway('x-auth-token not found')],
  ['a malformed Authorization header', (op) => ({ headers: { ...sign(op, alice()), Authorization: 'SDK-HMAC-SHA256 Access=, Signature' } }),
    () => gateway('verify aksk signature fail')],
  ['a wrong secret key', (op) => ({ headers: sign(op, { ...alice(), sk: hex(20) }) }), () => gateway('verify aksk signature fail')],
  ['an unknown access key', (op) => ({ headers: sign(op, { ...alice(), ak: `AK${hex(8).toUpperCase()}` }) }),
    () => gateway('Get secretKey failed,ak:******,err:ak not exist')],
  ['X-Sdk-Date 16 minutes old', (op) => ({ headers: sign(op, alice()), skew: 16 * MINUTE }), (a) => expired(a)],
  ['X-Sdk-Date 16 minutes ahead', (op) => ({ headers: sign(op, alice()), skew: -16 * MINUTE }), (a) => expired(a)],
  ['a signed header changed after signing', (op) => ({ headers: { ...sign(op, alice()), 'X-Project-Id': hex(16) } }),
    () => gateway('verify aksk signature fail')],
  ['the body (or query) changed after signing', (op) => (sendsBody(op)
    ? { headers: sign(op, alice()), body: `${body} ` }
    : { headers: sign(op, alice()), path: `${pathOf(op)}?limit=1` }), () => gateway('verify aksk signature fail')],
  ['an expired token', () => ({ headers: { ...JSON_TYPE, 'X-Auth-Token': tokens.alice }, skew: DAY_MS + 1000 }),
    () => gateway(`token expires, expires_at: ${iamTime(tokens.issuedAt + DAY_MS)}`)],
  ['a tampered token', () => ({ headers: { ...JSON_TYPE, 'X-Auth-Token': tamper(tokens.alice) } }), () => gateway('decrypt token fail')],
  ['a token of another project', () => ({ headers: { ...JSON_TYPE, 'X-Auth-Token': tokens.otherProject } }), () => forbidden],
  ['a token of another account', () => ({ headers: { ...JSON_TYPE, 'X-Auth-Token': tokens.otherAccount } }), () => forbidden],
  ['an access key of another account', (op) => ({ headers: sign(op, world.users.gus) }), () => forbidden],
];

function tamper(token: string): string {
  const i = Math.floor(token.length / 2);
  return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
}

function expired(attempt: Attempt) {
  const sdkDate = attempt.headers['X-Sdk-Date'];
  const server = new Date(clock.now()).toISOString().replace(/[-:]|\.\d+/g, '');
  return gateway(`signature expired, signature time:${sdkDate}, server time:${server}`);
}

describe('auth matrix: every operation refuses every bad credential, and nothing changes', () => {
  test('with good credentials every operation gets past authentication (the control)', async () => {
    for (const op of OPERATIONS) {
      const r = await raw(world.url, op.method, pathOf(op), { headers: sign(op, alice()), body: bodyOf(op) });
      assert.ok(![401, 403].includes(r.status), `${op.name}: ${r.status} ${r.text}`);
    }
  });

  for (const [name, make, expect] of CASES) {
    test(name, async (t) => {
      for (const op of OPERATIONS) {
        const attempt = make(op);
        const digest = storeDigest(world.dataDir);
        const recorded = auditCount(world.dataDir);
        clock.advance(attempt.skew ?? 0);
        const r = await raw(world.url, op.method, attempt.path ?? pathOf(op), { headers: attempt.headers, body: attempt.body ?? bodyOf(op) });
        const want = expect(attempt);
        clock.advance(-(attempt.skew ?? 0));
        const wantBody = want.status === 401
          ? { error_msg: `Incorrect IAM authentication information: ${want.detail}`, error_code: 'APIGW.0301', request_id: r.headers.get('x-request-id') }
          : op.service === 'csms'
            ? { error_code: 'CSMS.0302', error_msg: 'No access permissions.' }
            : ERR('KMS.0321', 'URIs in URL and X-Auth-Token do not match.');
        assert.deepEqual([r.status, r.body], [want.status, wantBody], `${op.name}: ${name}`);
        assert.equal(storeDigest(world.dataDir), digest, `${op.name}: ${name} changed the store`);
        assert.equal(auditCount(world.dataDir), recorded + 1, `${op.name}: ${name} not recorded once`);
      }
      t.diagnostic(`${OPERATIONS.length} operations`);
    });
  }
});

describe('auth matrix: IAM GET /v3/users (KeystoneListUsers)', () => {
  const PATH = '/v3/users';
  const signUsers = (who: { ak: string; sk: string; projectId: string }) => signedHeaders(world.url, 'GET', PATH, who, {}, undefined);
  const refusal = (r: Awaited<ReturnType<typeof raw>>, detail: string) =>
    ({ error_msg: `Incorrect IAM authentication information: ${detail}`, error_code: 'APIGW.0301', request_id: r.headers.get('x-request-id') });
  test('every bad credential is refused as the gateway refuses it; a user without iam:users:listUsers gets 403', async () => {
    const cases: Array<[string, Record<string, string>, number, string]> = [
      ['no credentials', {}, 0, 'x-auth-token not found'],
      ['a wrong secret key', signUsers({ ...alice(), sk: hex(20) }), 0, 'verify aksk signature fail'],
      ['an expired token', { 'X-Auth-Token': tokens.alice }, DAY_MS + 1000, `token expires, expires_at: ${iamTime(tokens.issuedAt + DAY_MS)}`],
      ['a tampered token', { 'X-Auth-Token': tamper(tokens.alice) }, 0, 'decrypt token fail'],
    ];
    for (const [name, headers, skew, detail] of cases) {
      clock.advance(skew);
      const r = await raw(world.url, 'GET', PATH, { headers });
      clock.advance(-skew);
      assert.deepEqual([r.status, r.body], [401, refusal(r, detail)], name);
    }
    // Good credentials of a user whose policies (kms:*:*) do not include the IAM action: refused,
    // and the trail gains one denied record of it.
    const recorded = auditCount(world.dataDir);
    const digest = storeDigest(world.dataDir);
    const forbidden = await raw(world.url, 'GET', PATH, { headers: signUsers(alice()) });
    assert.deepEqual([forbidden.status, forbidden.body],
      [403, { error: { code: 403, title: 'Forbidden', message: 'You are not authorized to perform the requested action: iam:users:listUsers.' } }]);
    assert.equal(auditCount(world.dataDir), recorded + 1);
    assert.equal(storeDigest(world.dataDir), digest);
    const trail = await world.as('alice').request('GET', `/v3/${alice().projectId}/traces?trace_type=system&limit=1`);
    assert.deepEqual([trail.body.traces[0].trace_name, trail.body.traces[0].message, trail.body.traces[0].code, trail.body.traces[0].user.id],
      ['listUsers', 'denied', '403', alice().id]);
    // The control: the administrator lists them.
    const admin = await raw(world.url, 'GET', PATH, { headers: signUsers(world.users.admin) });
    assert.equal(admin.status, 200);
  });
});
