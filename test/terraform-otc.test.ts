import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { raw, signedHeaders, startWorld, type TestUser, type World } from './harness.ts';
import { assertParses, type Shape } from './support/json-shape.ts';

/**
 * Issue 27: Open Telekom Cloud's Terraform provider (terraform-provider-opentelekomcloud, over
 * gophertelekomcloud) against kmsd, without Terraform: per resource and data source of
 * docs/terraform-otc-calls.md, the provider's requests as it builds them (endpoint: the catalog's
 * `kmsv1` entry for the region, `<url>/v1.0/<project id>/`; bodies: maps, so json.Marshal sorts
 * their keys; RotationOpts always sends rotation_interval, 0 when unset; pending_days a string),
 * each answer checked against the OkCodes it pins and the Go struct types it decodes into.
 */

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

// ---- The Go types gophertelekomcloud decodes into (openstack/kms/v1/keys, grants; common/tags) --

const KEY: Shape = Object.fromEntries(['key_id', 'domain_id', 'key_alias', 'realm', 'key_description', 'creation_date',
  'scheduled_deletion_date', 'key_state', 'default_key_flag', 'expiration_time', 'origin'].map((f) => [f, 'str']));
const KEY_INFO: Shape = { key_info: { ...KEY, key_id: 'str!', key_state: 'str!' } };
const ROTATION: Shape = { key_rotation_enabled: 'bool', rotation_interval: 'int', last_rotation_time: 'str', number_of_rotations: 'int' };
const GRANT: Shape = {
  key_id: 'str', grant_id: 'str!', grantee_principal: 'str', operations: ['str'], issuing_principal: 'str', creation_date: 'str',
  name: 'str', retiring_principal: 'str',
};
const LIST_GRANTS: Shape = { grants: [GRANT], next_marker: 'str', truncated: 'str', total: 'int' };
const LIST_KEYS: Shape = { keys: ['str'], key_details: [KEY], next_marker: 'str', truncated: 'str' };
const TAGS: Shape = { tags: [{ key: 'str', value: 'str' }] };

/** A Go map marshals with its keys sorted (BuildRequestBody returns maps). */
function goMap(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(goMap);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, goMap((value as Record<string, unknown>)[k])]));
}

const USER_AGENT = 'terraform-provider-opentelekomcloud golangsdk/2.0.0';

interface Answer { status: number; json: any }

/** The provider's KMS client: a token from POST /v3/auth/tokens, the endpoint from its catalog. */
class Provider {
  readonly token: string;
  readonly endpoint: string;
  constructor(token: string, endpoint: string) {
    this.token = token;
    this.endpoint = endpoint;
  }

  /** The provider's login (password, scoped to the project named after the region) and its kmsv1 lookup. */
  static async login(user: TestUser, region = 'cn-north-4'): Promise<Provider> {
    const r = await raw(world.url, 'POST', '/v3/auth/tokens', {
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'User-Agent': USER_AGENT },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: user.name, password: user.password, domain: { name: user.account } } } }, scope: { project: { name: region, domain: { name: user.account } } } } }),
    });
    assert.equal(r.status, 201);
    return new Provider(r.headers.get('x-subject-token') as string, kmsv1(r.body.token.catalog, region));
  }

  /** One call to `<kmsv1 endpoint>kms/<path>`: its status must be among the OkCodes it pins. */
  async kms(method: 'POST' | 'GET', path: string, body: unknown, ok: number[] = [200]): Promise<Answer> {
    const text = body === undefined ? undefined : JSON.stringify(goMap(body));
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': USER_AGENT, 'X-Auth-Token': this.token };
    if (text !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(`${this.endpoint}kms/${path}`, { method, headers, body: text });
    const answer = await r.text();
    assert.ok(ok.includes(r.status), `${method} ${path}: ${r.status} not in ${ok} (${answer.slice(0, 300)})`);
    return { status: r.status, json: answer === '' ? undefined : JSON.parse(answer) };
  }

  async describe(keyId: string): Promise<any> {
    const r = await this.kms('POST', 'describe-key', { key_id: keyId });
    assertParses(r.json, KEY_INFO, 'describe-key');
    return r.json.key_info;
  }

  /** RotationOpts: key_id and rotation_interval (no omitempty: 0 when the call has none). */
  async rotation(keyId: string): Promise<any> {
    const r = await this.kms('POST', 'get-key-rotation-status', { key_id: keyId, rotation_interval: 0 });
    assertParses(r.json, ROTATION, 'get-key-rotation-status');
    return r.json;
  }

  async tags(keyId: string): Promise<Array<{ key: string; value: string }>> {
    const r = await this.kms('GET', `${keyId}/tags`, undefined, [202, 200]);
    assertParses(r.json, TAGS, 'GET tags');
    return r.json.tags;
  }
}

/** gophertelekomcloud's V3EndpointURL: type kmsv1, interface public, the region; then a trailing slash. */
function kmsv1(catalog: Array<{ type: string; endpoints: Array<{ url: string; region: string; interface: string }> }>, region: string): string {
  const found = catalog.filter((s) => s.type === 'kmsv1').flatMap((s) => s.endpoints).filter((e) => e.interface === 'public' && e.region === region);
  assert.equal(found.length, 1, `one kmsv1 endpoint in ${region}: ${JSON.stringify(catalog)}`);
  return found[0].url.endsWith('/') ? found[0].url : `${found[0].url}/`;
}

describe('OTC Terraform provider: finding kmsv1', () => {
  test('by password: the token catalog; by AK/SK: GET /v3/projects?name=<region>, then GET /v3/auth/catalog', async () => {
    const alice = world.users.alice;
    const byPassword = await Provider.login(alice);
    assert.equal(byPassword.endpoint, `${world.url}/v1.0/${alice.projectId}/`);
    const projectsPath = '/v3/projects?name=cn-north-4';
    const projects = await raw(world.url, 'GET', projectsPath, { headers: signedHeaders(world.url, 'GET', projectsPath, alice, { 'Content-Type': 'application/json' }, undefined) });
    const projectId = projects.body.projects[0].id;
    assert.equal(projectId, alice.projectId);
    const catalog = await raw(world.url, 'GET', '/v3/auth/catalog', { headers: signedHeaders(world.url, 'GET', '/v3/auth/catalog', alice, { 'Content-Type': 'application/json', 'X-Project-Id': projectId }, undefined) });
    assert.equal(catalog.status, 200);
    assert.equal(kmsv1(catalog.body.catalog, 'cn-north-4'), `${world.url}/v1.0/${alice.projectId}/`);
  });
});

describe('OTC Terraform provider replay: resources', () => {
  test('opentelekomcloud_kms_key_v1: create (disabled, rotation, interval, tags), read, update, delete', async () => {
    const tf = await Provider.login(world.users.alice);
    const alias = `otc-tf-${Date.now().toString(36)}`;
    // Create: CreateOpts (key_alias required; description, realm omitempty) -> ExtractKeyInfo.
    const created = await tf.kms('POST', 'create-key', { key_alias: alias, key_description: 'terraform' });
    assertParses(created.json, { key_info: { key_id: 'str!', domain_id: 'str' } }, 'create-key');
    const keyId = created.json.key_info.key_id;
    // is_enabled = false: disable-key -> ExtractKeyInfo, key_state must be "3".
    const disabled = await tf.kms('POST', 'disable-key', { key_id: keyId });
    assertParses(disabled.json, { key_info: { key_id: 'str!', key_state: 'str!' } }, 'disable-key');
    assert.equal(disabled.json.key_info.key_state, '3');
    await tf.kms('POST', 'enable-key', { key_id: keyId });
    // rotation_enabled = true, rotation_interval = 30: status, enable (interval 0 in the body), interval.
    assert.equal((await tf.rotation(keyId)).key_rotation_enabled, false);
    await tf.kms('POST', 'enable-key-rotation', { key_id: keyId, rotation_interval: 0 });
    await tf.kms('POST', 'update-key-rotation-interval', { key_id: keyId, rotation_interval: 30 });
    // tags: tags.Create -> POST <kmsv1>kms/{key_id}/tags/action, OkCodes 200, 204.
    await tf.kms('POST', `${keyId}/tags/action`, { action: 'create', tags: [{ key: 'env', value: 'dev' }] }, [200, 204]);
    // Read: describe-key, GET tags (OkCodes 202, 200), rotation status.
    const read = await tf.describe(keyId);
    assert.deepEqual([read.key_alias, read.key_description, read.key_state, read.default_key_flag], [alias, 'terraform', '2', '0']);
    assert.deepEqual(await tf.tags(keyId), [{ key: 'env', value: 'dev' }]);
    const rotation = await tf.rotation(keyId);
    assert.deepEqual([rotation.key_rotation_enabled, rotation.rotation_interval], [true, 30]);
    // Update: alias, description (ExtractKeyInfo), then is_enabled by key_state.
    const renamed = await tf.kms('POST', 'update-key-alias', { key_alias: `${alias}-2`, key_id: keyId });
    assertParses(renamed.json, { key_info: KEY }, 'update-key-alias');
    const described = await tf.kms('POST', 'update-key-description', { key_description: 'changed', key_id: keyId });
    assertParses(described.json, { key_info: KEY }, 'update-key-description');
    assert.equal((await tf.describe(keyId)).key_alias, `${alias}-2`);
    // Delete: describe, rotation status, disable rotation, schedule-key-deletion (pending_days a string),
    // decoded as a top-level Key whose key_state must be "4".
    await tf.describe(keyId);
    assert.equal((await tf.rotation(keyId)).key_rotation_enabled, true);
    await tf.kms('POST', 'disable-key-rotation', { key_id: keyId, rotation_interval: 0 });
    const deleted = await tf.kms('POST', 'schedule-key-deletion', { key_id: keyId, pending_days: '7' });
    assertParses(deleted.json, { key_id: 'str!', key_state: 'str!' }, 'schedule-key-deletion');
    assert.equal(deleted.json.key_state, '4');
    // A refresh afterwards finds key_state "4" and drops the resource from the state.
    assert.equal((await tf.describe(keyId)).key_state, '4');
  });

  test('opentelekomcloud_kms_key_v1 with allow_cancel_deletion: a key pending deletion is cancelled and enabled', async () => {
    const tf = await Provider.login(world.users.alice);
    const keyId = (await tf.kms('POST', 'create-key', { key_alias: `otc-tf-c-${Date.now().toString(36)}` })).json.key_info.key_id;
    await tf.kms('POST', 'schedule-key-deletion', { key_id: keyId, pending_days: '7' });
    assert.equal((await tf.describe(keyId)).key_state, '4');
    const cancelled = await tf.kms('POST', 'cancel-key-deletion', { key_id: keyId });
    assertParses(cancelled.json, { key_id: 'str!', key_state: 'str!' }, 'cancel-key-deletion');
    const enabled = await tf.kms('POST', 'enable-key', { key_id: keyId });
    assert.equal(enabled.json.key_info.key_state, '2');
  });

  test('opentelekomcloud_kms_grant_v1: create, read (list-grants by key), delete (revoke-grant), read again', async () => {
    const tf = await Provider.login(world.users.alice);
    const keyId = (await tf.kms('POST', 'create-key', { key_alias: `otc-tf-g-${Date.now().toString(36)}` })).json.key_info.key_id;
    const grantee = world.users.gina.id;
    const created = await tf.kms('POST', 'create-grant', {
      grantee_principal: grantee, key_id: keyId, name: 'tf-grant', operations: ['describe-key', 'encrypt-datakey'], retiring_principal: world.users.admin.id,
    });
    assertParses(created.json, { grant_id: 'str!' }, 'create-grant');
    const grantId = created.json.grant_id;
    // Read: ListOpts{KeyID} only; the grant is found by grant_id in the first page.
    const listed = await tf.kms('POST', 'list-grants', { key_id: keyId });
    assertParses(listed.json, LIST_GRANTS, 'list-grants');
    const grant = listed.json.grants.find((g: { grant_id: string }) => g.grant_id === grantId);
    assert.deepEqual({ ...grant, creation_date: typeof grant.creation_date }, {
      key_id: keyId, grant_id: grantId, grantee_principal: grantee, grantee_principal_type: 'user', operations: ['describe-key', 'encrypt-datakey'],
      issuing_principal: world.users.alice.id, creation_date: 'string', name: 'tf-grant', retiring_principal: world.users.admin.id,
    });
    // Delete: revoke-grant {grant_id, key_id}, OkCodes 200.
    await tf.kms('POST', 'revoke-grant', { grant_id: grantId, key_id: keyId });
    const after = await tf.kms('POST', 'list-grants', { key_id: keyId });
    assert.deepEqual([after.json.grants, after.json.truncated, after.json.total], [[], 'false', 0]);
  });
});

describe('OTC Terraform provider replay: data sources', () => {
  test('opentelekomcloud_kms_key_v1 (data): list-keys pages while truncated == "true", then filters key_details', async () => {
    const tf = await Provider.login(world.users.admin);
    const alias = `otc-ds-${Date.now().toString(36)}`;
    for (let i = 0; i < 3; i++) await tf.kms('POST', 'create-key', { key_alias: `${alias}-${i}` });
    // The data source sends ListOpts{KeyState, Marker}, both omitempty, no limit.
    const all: any[] = [];
    for (let marker = '', more = true, i = 0; more && i < 100; i++) {
      const r = await tf.kms('POST', 'list-keys', marker === '' ? {} : { marker });
      assertParses(r.json, LIST_KEYS, 'list-keys');
      all.push(...r.json.key_details);
      more = r.json.truncated === 'true';
      marker = r.json.next_marker;
    }
    assert.deepEqual(all.filter((k) => k.key_alias.startsWith(alias)).map((k) => k.key_alias).sort(), [`${alias}-0`, `${alias}-1`, `${alias}-2`]);
    const enabled = await tf.kms('POST', 'list-keys', { key_state: '2' });
    assert.ok(enabled.json.key_details.every((k: { key_state: string }) => k.key_state === '2'));
  });

  test('opentelekomcloud_kms_data_key_v1: create-datakey with datakey_length a string', async () => {
    const tf = await Provider.login(world.users.admin);
    const keyId = (await tf.kms('POST', 'create-key', { key_alias: `otc-dk-${Date.now().toString(36)}` })).json.key_info.key_id;
    const r = await tf.kms('POST', 'create-datakey', { datakey_length: '512', key_id: keyId });
    assertParses(r.json, { key_id: 'str!', plain_text: 'str!', cipher_text: 'str!' }, 'create-datakey');
    assert.equal(r.json.plain_text.length, 128);
    // Its encryption_context is a Go string: sent as a JSON string holding the object, accepted as such.
    const context = await tf.kms('POST', 'create-datakey', { datakey_length: '512', encryption_context: '{"app":"x"}', key_id: keyId });
    assertParses(context.json, { key_id: 'str!', plain_text: 'str!', cipher_text: 'str!' }, 'create-datakey with encryption_context');
  });
});
