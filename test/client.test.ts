import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OPERATIONS } from '../src/api/routes.ts';
import { pathParams } from '../src/api/operation.ts';
import { checkSignature, parseAuthorization } from '../src/auth/signature.ts';
import { KMS_ERRORS } from '../src/core/error-table.ts';
import { ManualClock } from '../src/core/runtime.ts';
import { KmsClient, KmsConnectionError, KmsError, type KmsClientOptions } from '../src/client/index.ts';
import { hex, newGrant, newKey, startWorld, type World } from './harness.ts';
import { operationPath, sendsBody } from './support/operation-path.ts';

/** The client (src/client, as kmsd/client ships it) against a real kmsd on a random port. */
const clock = new ManualClock(Date.now());
let world: World;
before(async () => {
  world = await startWorld({ clock });
});
after(() => world.close());

const KEY_ID = /^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$/;
const REQUEST_ID = /^[0-9a-f]{32}$/;

/** A client of one world user: AK/SK (default) or password login. */
function clientOf(name: string, auth: 'aksk' | 'password' = 'aksk', extra: KmsClientOptions = {}): KmsClient {
  const u = world.users[name];
  const credentials = auth === 'aksk' ? { ak: u.ak, sk: u.sk } : { username: u.name, password: u.password, domain: u.account };
  return new KmsClient({ endpoint: world.url, now: () => clock.now(), retryDelayMs: 1, ...credentials, ...extra });
}

/** The refusal a call ends in. */
async function refusal(call: Promise<unknown>): Promise<KmsError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof KmsError) return error;
    throw error;
  }
  assert.fail('the call succeeded');
}

/** Asserts a KMS refusal: status, code and the table's exact message, with a request id. */
async function refused(call: Promise<unknown>, code: keyof typeof KMS_ERRORS): Promise<void> {
  const e = await refusal(call);
  const [status, message] = KMS_ERRORS[code];
  assert.deepEqual({ status: e.status, code: e.code, message: e.message }, { status, code, message });
  assert.match(e.requestId, REQUEST_ID);
}

const withDigest = (dek: Buffer) => Buffer.concat([dek, createHash('sha256').update(dek).digest()]).toString('hex');

describe('one method per operation, each with its happy path and a refusal', () => {
  const c = () => clientOf('alice');
  const unknownKey = () => ({ key_id: crypto.randomUUID() });

  test('create-key, describe-key, list-keys', async () => {
    const alias = `client-${hex(4)}`;
    const created = await c().createKey({ key_alias: alias, key_description: 'made by the client' });
    assert.match(created.key_info?.key_id as string, KEY_ID);
    assert.deepEqual(Object.keys(created.key_info ?? {}), ['key_id', 'domain_id', 'region_id']);
    const described = await c().describeKey({ key_id: created.key_info?.key_id as string });
    assert.deepEqual([described.key_info?.key_alias, described.key_info?.key_state, described.key_info?.key_description], [alias, '2', 'made by the client']);
    const listed = await c().listKeys({ key_spec: 'ALL', limit: 1000 });
    assert.ok(listed.key_details?.some((k) => k.key_id === created.key_info?.key_id));
    assert.equal(typeof listed.total, 'number');
    await refused(c().createKey({ key_alias: 'bad alias!' }), 'KMS.1101');
    await refused(c().describeKey(unknownKey()), 'KMS.0207');
    await refused(c().listKeys({ limit: 'many' }), 'KMS.1601');
  });

  test('enable-key, disable-key, schedule-key-deletion, cancel-key-deletion', async () => {
    const keyId = await newKey(world.as('alice'));
    assert.deepEqual(await c().disableKey({ key_id: keyId }), { key_info: { key_id: keyId, key_state: '3' } });
    assert.deepEqual(await c().enableKey({ key_id: keyId }), { key_info: { key_id: keyId, key_state: '2' } });
    await refused(c().enableKey({ key_id: keyId }), 'KMS.1201');
    assert.deepEqual(await c().scheduleKeyDeletion({ key_id: keyId, pending_days: 7 }), { key_id: keyId, key_state: '4' });
    assert.deepEqual(await c().cancelKeyDeletion({ key_id: keyId }), { key_id: keyId, key_state: '3' });
    await refused(c().cancelKeyDeletion({ key_id: keyId }), 'KMS.1501');
    await refused(c().disableKey(unknownKey()), 'KMS.0207');
    await refused(c().scheduleKeyDeletion({ key_id: keyId, pending_days: '3' }), 'KMS.1401');
  });

  test('update-key-alias, update-key-description', async () => {
    const keyId = await newKey(world.as('alice'));
    const alias = `renamed-${hex(4)}`;
    assert.deepEqual(await c().updateKeyAlias({ key_id: keyId, key_alias: alias }), { key_info: { key_id: keyId, key_alias: alias } });
    assert.deepEqual(await c().updateKeyDescription({ key_id: keyId, key_description: 'new' }), { key_info: { key_id: keyId, key_description: 'new' } });
    await refused(c().updateKeyAlias({ key_id: keyId, key_alias: '' }), 'KMS.0204');
    await refused(c().updateKeyDescription({ ...unknownKey(), key_description: 'x' }), 'KMS.0207');
  });

  test('user-instances and user-quotas (GET)', async () => {
    const instances = await c().userInstances();
    assert.equal(typeof instances.instance_num, 'number');
    const quotas = await c().userQuotas({});
    assert.deepEqual(quotas.quotas?.resources?.map((r) => r.type), ['CMK', 'grant_per_CMK']);
    await refused(clientOf('nobody').userInstances(), 'KMS.0306');
    await refused(clientOf('nobody').userQuotas(), 'KMS.0306');
  });

  test('rotation: enable, interval, status, disable', async () => {
    const keyId = await newKey(world.as('alice'));
    assert.deepEqual(await c().enableKeyRotation({ key_id: keyId }), {});
    await refused(c().enableKeyRotation({ key_id: keyId }), 'KMS.2901');
    assert.deepEqual(await c().updateKeyRotationInterval({ key_id: keyId, rotation_interval: 30 }), {});
    const status = await c().getKeyRotationStatus({ key_id: keyId });
    assert.deepEqual([status.key_rotation_enabled, status.rotation_interval], [true, 30]);
    assert.deepEqual(await c().disableKeyRotation({ key_id: keyId }), {});
    await refused(c().disableKeyRotation({ key_id: keyId }), 'KMS.0313');
    await refused(c().getKeyRotationStatus(unknownKey()), 'KMS.0207');
    await refused(c().updateKeyRotationInterval({ key_id: keyId, rotation_interval: 'soon' as never }), 'KMS.3001');
  });

  test('grants: create, list, list-retirable, retire, revoke', async () => {
    const keyId = await newKey(world.as('alice'));
    const rita = clientOf('rita');
    const { grant_id } = await c().createGrant({ key_id: keyId, grantee_principal: world.users.rita.id, operations: ['describe-key', 'retire-grant'], name: 'g1' });
    assert.match(grant_id as string, /^[0-9a-f]{64}$/);
    const listed = await c().listGrants({ key_id: keyId });
    assert.deepEqual(listed.grants?.map((g) => [g.grant_id, g.name, g.operations]), [[grant_id, 'g1', ['describe-key', 'retire-grant']]]);
    const retirable = await rita.listRetirableGrants({});
    assert.ok(retirable.grants?.some((g) => g.grant_id === grant_id));
    assert.equal((await rita.describeKey({ key_id: keyId, sequence: undefined })).key_info?.key_id, keyId);
    assert.deepEqual(await rita.retireGrant({ key_id: keyId, grant_id: grant_id as string }), {});
    await refused(rita.describeKey({ key_id: keyId }), 'KMS.0306');
    await refused(rita.retireGrant({ key_id: keyId, grant_id: grant_id as string }), 'KMS.2501');
    const second = await newGrant(world.as('alice'), keyId, world.users.rita.id, ['describe-key']);
    await refused(rita.revokeGrant({ key_id: keyId, grant_id: second }), 'KMS.0306');
    assert.deepEqual(await c().revokeGrant({ key_id: keyId, grant_id: second }), {});
    await refused(c().createGrant({ key_id: keyId, grantee_principal: 'not a principal!', operations: ['describe-key'] }), 'KMS.2402');
    await refused(c().listGrants(unknownKey()), 'KMS.0207');
    await refused(c().listRetirableGrants({ limit: 'x' }), 'KMS.1601');
  });

  test('encrypt-data and decrypt-data', async () => {
    const keyId = await newKey(world.as('alice'));
    const { cipher_text } = await c().encryptData({ key_id: keyId, plain_text: 'card 4111', additional_authenticated_data: 'order-7' });
    const plain = await c().decryptData({ cipher_text: cipher_text as string, additional_authenticated_data: 'order-7' });
    assert.deepEqual([plain.key_id, plain.plain_text, plain.plain_text_base64], [keyId, 'card 4111', Buffer.from('card 4111').toString('base64')]);
    await refused(c().decryptData({ cipher_text: cipher_text as string, additional_authenticated_data: 'order-8' }), 'KMS.2201');
    await refused(c().encryptData({ ...unknownKey(), plain_text: 'x' }), 'KMS.0207');
  });

  test('data keys: create, create without plaintext, encrypt, decrypt', async () => {
    const keyId = await newKey(world.as('alice'));
    const created = await c().createDatakey({ key_id: keyId, datakey_length: 256 });
    assert.match(created.plain_text as string, /^[0-9A-F]{64}$/);
    const back = await c().decryptDatakey({ key_id: keyId, cipher_text: created.cipher_text as string, datakey_cipher_length: '32' });
    assert.equal(back.data_key, created.plain_text);
    const bare = await c().createDatakeyWithoutPlaintext({ key_id: keyId, key_spec: 'AES_128' });
    assert.deepEqual(Object.keys(bare), ['key_id', 'cipher_text']);
    const dek = randomBytes(32);
    const wrapped = await c().encryptDatakey({ key_id: keyId, plain_text: withDigest(dek), datakey_plain_length: '32' });
    assert.equal((await c().decryptDatakey({ key_id: keyId, cipher_text: wrapped.cipher_text as string, datakey_cipher_length: 32 })).data_key, dek.toString('hex').toUpperCase());
    await refused(c().createDatakey({ key_id: keyId, datakey_length: '7' }), 'KMS.1901');
    await refused(c().createDatakeyWithoutPlaintext(unknownKey()), 'KMS.0207');
    await refused(c().encryptDatakey({ key_id: keyId, plain_text: 'zz', datakey_plain_length: '32' }), 'KMS.2101');
    await refused(c().decryptDatakey({ key_id: keyId, cipher_text: 'ab', datakey_cipher_length: '32' }), 'KMS.2201');
  });

  test('gen-random', async () => {
    assert.match((await c().genRandom({ random_data_length: '256' })).random_data as string, /^[0-9A-Fa-f]{64}$/);
    await refused(c().genRandom({ random_data_length: '9' }), 'KMS.1802');
  });
});

test('every operation of the server, called through the client, gets exactly what a raw request gets', async () => {
  // A refusal for every operation that takes input (a missing required field), the answer's shape for the others;
  // the same input sent by hand (Node SDK signer) must end the same way.
  const keyId = await newKey(world.as('alice'));
  const base: Record<string, string> = { key_id: keyId, grant_id: 'f'.repeat(64) };
  for (const op of OPERATIONS) {
    // Path parameters only: every other field is left out.
    const input = Object.fromEntries(pathParams(op).map((name) => [name, base[name] ?? 'x']));
    const byHand = await world.as('alice', 'aksk').request(op.method, operationPath(op, world.users.alice.projectId, input), sendsBody(op) ? {} : undefined);
    let outcome: { status: number; body: unknown };
    try {
      const answer = await clientOf('alice').call(op.name, input);
      outcome = { status: byHand.status === 204 ? 204 : 200, body: answer === undefined ? undefined : Object.keys(answer as object) };
    } catch (error) {
      assert.ok(error instanceof KmsError, `${op.name}: ${String(error)}`);
      outcome = { status: error.status, body: error.body };
    }
    const expected = byHand.status >= 400 ? byHand.body : byHand.body === undefined ? undefined : Object.keys(byHand.body);
    assert.deepEqual(outcome, { status: byHand.status, body: expected }, op.name);
  }
});

describe('authentication', () => {
  test('AK/SK without a project id finds it through GET /v3/projects?name=<region>', async () => {
    const client = clientOf('alice');
    assert.equal(await client.projectId(), world.users.alice.projectId);
    assert.equal(client.region, 'cn-north-4');
  });

  test('password login: one token for many calls, the project from its scope, a new token before the old one expires', async () => {
    let logins = 0;
    const counting: typeof fetch = (url, init) => {
      if (String(url).endsWith('/v3/auth/tokens')) logins++;
      return fetch(url, init);
    };
    const client = clientOf('alice', 'password', { fetch: counting });
    const keyId = (await client.createKey({ key_alias: `tok-${hex(4)}` })).key_info?.key_id as string;
    await client.describeKey({ key_id: keyId });
    assert.equal(await client.projectId(), world.users.alice.projectId);
    assert.equal(logins, 1);
    clock.advance(24 * 3_600_000 - 5 * 60_000); // 5 minutes before the token's end: renewed (default 10 minutes ahead)
    await client.describeKey({ key_id: keyId });
    assert.equal(logins, 2);
    await client.describeKey({ key_id: keyId });
    assert.equal(logins, 2);
  });

  test('a wrong password or secret key is a KmsError with the IAM or gateway code; the gateway body gives the request id', async () => {
    const wrongPassword = new KmsClient({ endpoint: world.url, username: 'alice', password: 'nope', domain: 'acme', retryDelayMs: 1 });
    const e = await refusal(wrongPassword.listKeys());
    assert.deepEqual([e.status, e.code, e.message], [401, '401', 'The username or password is wrong.']);
    const u = world.users.alice;
    const wrongSk = new KmsClient({ endpoint: world.url, ak: u.ak, sk: 'wrong', projectId: u.projectId, now: () => clock.now() });
    const g = await refusal(wrongSk.listKeys());
    assert.deepEqual([g.status, g.code, g.message], [401, 'APIGW.0301', 'Incorrect IAM authentication information: verify aksk signature fail']);
    assert.equal(g.requestId, (g.body as { request_id: string }).request_id);
    assert.match(g.requestId, REQUEST_ID);
  });

  test('a given token is sent as X-Auth-Token', async () => {
    const token = await world.as('alice').getToken();
    const client = new KmsClient({ endpoint: world.url, token, projectId: world.users.alice.projectId });
    assert.equal(typeof (await client.userInstances()).instance_num, 'number');
  });

  test('against https://kms.<region>.myhuaweicloud.com: the project lookup goes to iam.<region>, the call is signed for the kms host', async () => {
    const sent: Array<{ url: string; init: RequestInit }> = [];
    const cloud: typeof fetch = async (url, init) => {
      sent.push({ url: String(url), init: init as RequestInit });
      const body = String(url).includes('/v3/projects') ? { projects: [{ id: 'a'.repeat(32), name: 'ap-southeast-1' }] } : { keys: [], key_details: [], next_marker: '', truncated: 'false', total: 0 };
      return new Response(JSON.stringify(body), { status: 200 });
    };
    const client = new KmsClient({ endpoint: 'https://kms.ap-southeast-1.myhuaweicloud.com', ak: 'AKCLOUD', sk: 'SKCLOUD', fetch: cloud, now: () => clock.now() });
    assert.equal(client.region, 'ap-southeast-1');
    await client.listKeys({ limit: '10' });
    assert.deepEqual(sent.map((s) => `${s.init.method} ${s.url}`), [
      'GET https://iam.ap-southeast-1.myhuaweicloud.com/v3/projects?name=ap-southeast-1',
      `POST https://kms.ap-southeast-1.myhuaweicloud.com/v1.0/${'a'.repeat(32)}/kms/list-keys`,
    ]);
    // The server's own verifier accepts the signature, with the Host fetch sends.
    for (const { url, init } of sent) {
      const headers = new Map(Object.entries(init.headers as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
      headers.set('host', new URL(url).host);
      const u = new URL(url);
      const request = { method: init.method as string, url: `${u.pathname}${u.search}`, header: (n: string) => headers.get(n), body: Buffer.from((init.body as string | undefined) ?? '') };
      const auth = parseAuthorization(headers.get('authorization') as string);
      assert.ok(auth);
      assert.equal(checkSignature(request, auth, 'SKCLOUD', clock.now()), null, url);
      assert.ok(auth.signedHeaders.includes('host'));
    }
  });
});

describe('retries, timeouts, unreachable servers', () => {
  /** A fetch that fails the first `failures` calls (by throwing, or with a status), then passes on. */
  function flaky(failures: number, how: 'network' | number) {
    let calls = 0;
    const f: typeof fetch = async (url, init) => {
      calls++;
      if (calls <= failures) {
        if (how === 'network') throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNRESET'), { code: 'ECONNRESET' }) });
        return new Response(JSON.stringify({ error_msg: 'busy', error_code: 'APIGW.0308', request_id: 'r' }), { status: how });
      }
      return fetch(url, init);
    };
    return { fetch: f, calls: () => calls };
  }

  test('an idempotent call is retried after a network error, a 429 and a 5xx, then succeeds', async () => {
    const keyId = await newKey(world.as('alice'));
    for (const how of ['network', 429, 503] as const) {
      const f = flaky(2, how);
      const client = clientOf('alice', 'aksk', { fetch: f.fetch, projectId: world.users.alice.projectId });
      assert.equal((await client.describeKey({ key_id: keyId })).key_info?.key_id, keyId);
      assert.equal(f.calls(), 3, String(how));
    }
  });

  test('retries stop after `retries`; a call that changes state is never retried', async () => {
    const f = flaky(10, 503);
    const client = clientOf('alice', 'aksk', { fetch: f.fetch, projectId: world.users.alice.projectId, retries: 2 });
    assert.equal((await refusal(client.listKeys())).status, 503);
    assert.equal(f.calls(), 3);
    const g = flaky(1, 'network');
    const once = clientOf('alice', 'aksk', { fetch: g.fetch, projectId: world.users.alice.projectId });
    await assert.rejects(once.createKey({ key_alias: `r-${hex(4)}` }), (e: unknown) => e instanceof KmsConnectionError && !e.timedOut);
    assert.equal(g.calls(), 1);
    const h = flaky(1, 429);
    const twice = clientOf('alice', 'aksk', { fetch: h.fetch, projectId: world.users.alice.projectId });
    assert.equal((await refusal(twice.createKey({ key_alias: `r-${hex(4)}` }))).status, 429);
    assert.equal(h.calls(), 1);
    // A refusal is not retried either.
    const i = flaky(0, 'network');
    const refusedOnce = clientOf('alice', 'aksk', { fetch: i.fetch, projectId: world.users.alice.projectId });
    await refused(refusedOnce.describeKey({ key_id: crypto.randomUUID() }), 'KMS.0207');
    assert.equal(i.calls(), 1);
  });

  test('a server that does not answer: KmsConnectionError after the timeout; a closed port: unreachable', async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const client = new KmsClient({ endpoint: `http://127.0.0.1:${port}`, ak: 'a', sk: 'b', projectId: 'p', timeoutMs: 200, retries: 1, retryDelayMs: 1 });
      const started = Date.now();
      await assert.rejects(client.describeKey({ key_id: crypto.randomUUID() }), (e: unknown) => e instanceof KmsConnectionError && e.timedOut && e.message.includes('no answer within 200 ms'));
      assert.ok(Date.now() - started >= 400);
      silent.closeAllConnections();
    } finally {
      await new Promise((resolve) => silent.close(resolve));
    }
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const client = new KmsClient({ endpoint: `http://127.0.0.1:${port}`, ak: 'a', sk: 'b', projectId: 'p', retries: 0 });
    await assert.rejects(client.listKeys(), (e: unknown) => e instanceof KmsConnectionError && e.message.endsWith('ECONNREFUSED'));
  });
});

test('paginators walk every page: paginateGrants, paginateKeys, paginateRetirableGrants', async () => {
  const alice = world.as('alice');
  const keyId = await newKey(alice);
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push(await newGrant(alice, keyId, world.users.rita.id, ['describe-key'], { retiring_principal: world.users.rita.id }));
  const sent: string[] = [];
  const client = clientOf('alice', 'aksk', { fetch: (url, init) => (sent.push(String(init?.body)), fetch(url, init)) });
  const seen = [];
  for await (const grant of client.paginateGrants({ key_id: keyId, limit: 2 })) seen.push(grant.grant_id);
  assert.deepEqual(seen.sort(), ids.sort());
  assert.deepEqual(sent.filter((b) => b.includes('limit')), [
    `{"key_id": "${keyId}", "limit": 2}`, `{"key_id": "${keyId}", "limit": 2, "marker": "2"}`, `{"key_id": "${keyId}", "limit": 2, "marker": "4"}`,
  ]);
  const rita = [];
  for await (const grant of clientOf('rita').paginateRetirableGrants({ limit: '3' })) if (grant.key_id === keyId) rita.push(grant.grant_id);
  assert.deepEqual(rita.sort(), ids);
  const keys = [];
  for await (const key of clientOf('alice').paginateKeys({ key_spec: 'ALL', limit: 1 })) keys.push(key.key_id);
  assert.ok(keys.includes(keyId));
  assert.equal(new Set(keys).size, keys.length);
});

test('the client refuses to start without credentials, and calls need their path parameters', () => {
  assert.throws(() => new KmsClient({ endpoint: world.url }), /give ak and sk, or username, password and domain, or a token/);
  assert.throws(() => new KmsClient({ ak: 'only' }), /give both ak and sk/);
});
