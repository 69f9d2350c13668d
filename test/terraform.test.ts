import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { OPERATIONS } from '../src/api/routes.ts';
import { hex, startWorld, type TestUser, type World } from './harness.ts';
import { signAsGolangsdk } from './support/golangsdk-signer.ts';
import { assertParses, type Shape } from './support/json-shape.ts';

/**
 * Issue 13 §7: the Huawei Cloud Terraform provider against kmsd, without Terraform. Per
 * resource and data source of reference terraform-calls.md, the provider's exact requests
 * (method, path, query, body bytes with the JSON types it sends, its headers, signed as
 * golangsdk signs them), each answer checked against the status codes it accepts and the
 * types its Go structs and PathSearch casts need (a wrong type there is an error or a panic).
 */

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

// ---- The JSON types the provider can parse (test/support/json-shape.ts) ----------------

/** golangsdk keys.Key: every field a string. */
const KEY: Shape = Object.fromEntries([
  'key_id', 'domain_id', 'key_alias', 'realm', 'key_spec', 'key_usage', 'key_description', 'creation_date', 'scheduled_deletion_date',
  'key_state', 'default_key_flag', 'key_type', 'expiration_time', 'origin', 'key_rotation_enabled', 'sys_enterprise_project_id',
  'keystore_id', 'key_label', 'partition_type',
].map((f) => [f, 'str']));
const DESCRIBED: Shape = { key_info: { ...KEY, key_id: 'str!', key_state: 'str!' } };
const GRANT: Shape = {
  grant_id: 'str!', key_id: 'str', name: 'str', grantee_principal: 'str', grantee_principal_type: 'str', operations: ['str'],
  issuing_principal: 'str', retiring_principal: 'str', creation_date: 'str',
};
const ALIAS: Shape = { domain_id: 'str', key_id: 'str', alias: 'str', alias_urn: 'str', create_time: 'str', update_time: 'str' };
const ROTATION: Shape = { key_rotation_enabled: 'bool', rotation_interval: 'int', number_of_rotations: 'int', last_rotation_time: 'str' };
const TAGS: Shape = { tags: [{ key: 'str', value: 'str' }] };

// ---- The provider as a client --------------------------------------------------------------

const USER_AGENT = 'terraform-provider-huaweicloud/1.80.0';
/** golangsdk's default OkCodes per method when a call gives none (terraform-calls.md §1.4). */
const DEFAULT_OK: Record<string, number[]> = { POST: [200, 201, 202], PUT: [200, 201, 202], GET: [200], DELETE: [200, 202, 204] };

/** A Go map marshals with its keys sorted (the generated-style resources build bodies as maps). */
function goMap(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(goMap);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, goMap((value as Record<string, unknown>)[k])]));
}

interface Call {
  /** Body as the provider builds it (struct field order, or goMap for maps); sent as json.Encoder writes it. */
  body?: unknown;
  query?: Record<string, string>;
  /** OkCodes the call pins; default per method. */
  ok?: number[];
  /** The tag GET adds Content-Type and X-Language (terraform-calls.md §3.1 Read 2). */
  tagGet?: boolean;
}

interface Answer {
  status: number;
  json: any;
}

class Provider {
  readonly user: TestUser;
  constructor(user: TestUser) {
    this.user = user;
  }

  /** One call to `<endpoint>v1.0/{pid}/kms/<path>`: the answer's status must be one the call accepts. */
  async kms(method: string, path: string, call: Call = {}): Promise<Answer> {
    const body = call.body === undefined ? undefined : `${JSON.stringify(call.body)}\n`;
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': USER_AGENT };
    if (body !== undefined || call.tagGet) headers['Content-Type'] = 'application/json';
    if (call.tagGet) headers['X-Language'] = 'en-us';
    const signed = signAsGolangsdk({ method, path: `/v1.0/${this.user.projectId}/kms/${path}`, query: call.query, headers, body }, this.user.ak, this.user.sk);
    const r = await fetch(`${world.url}${signed.url}`, {
      method, body, headers: { ...signed.headers, 'X-Project-Id': this.user.projectId },
    });
    const text = await r.text();
    const ok = call.ok ?? DEFAULT_OK[method];
    assert.ok(ok.includes(r.status), `${method} ${path}: ${r.status} not in ${ok} (${text.slice(0, 300)})`);
    if (r.status === 204) return { status: 204, json: undefined };
    // golangsdk and FlattenResponse decode every other success body: an empty one is an EOF error.
    assert.notEqual(text, '', `${method} ${path}: empty ${r.status} body (EOF in the provider)`);
    return { status: r.status, json: JSON.parse(text) };
  }

  describe(keyId: string, ok = [200]): Promise<Answer> {
    return this.kms('POST', 'describe-key', { body: { key_id: keyId }, ok });
  }

  /** A "no content" call (rotation, key material): JSON or 204 (terraform-calls.md §7). */
  async noContent(path: string, body: unknown): Promise<void> {
    const r = await this.kms('POST', path, { body, ok: [200, 201, 202, 204] });
    if (r.status !== 204) assert.equal(typeof r.json, 'object', `${path}: not a JSON object`);
  }

  /** The key's tags as the provider reads them on every refresh. */
  async tags(keyId: string): Promise<Array<{ key: string; value: string }>> {
    const r = await this.kms('GET', `${keyId}/tags`, { tagGet: true, ok: [200, 202] });
    assertParses(r.json, TAGS, 'GET tags');
    return r.json.tags;
  }

  async rotation(keyId: string): Promise<any> {
    const r = await this.kms('POST', 'get-key-rotation-status', { body: { key_id: keyId } });
    assertParses(r.json, ROTATION, 'get-key-rotation-status');
    return r.json;
  }

  /** Pages a list while next_marker is not "" (list-grants, list-retirable-grants, kms_keys), collecting `field`. */
  async pages(path: string, body: Record<string, unknown>, field: string, item: Shape, ok?: number[]): Promise<any[]> {
    const all: any[] = [];
    for (let marker = '', i = 0; i < 100; i++) {
      const r = await this.kms('POST', path, { body: goMap(marker ? { ...body, marker } : body), ok });
      assertParses(r.json, { [field]: [item], next_marker: 'str' }, path);
      all.push(...(r.json[field] ?? []));
      marker = r.json.next_marker ?? '';
      if (marker === '') return all;
    }
    assert.fail(`${path}: next_marker never became "" (the provider would loop forever)`);
  }
}

const sortTags = (tags: Array<{ key: string; value: string }>) => [...tags].sort((a, b) => (a.key < b.key ? -1 : 1));
const sorted = (xs: string[]) => [...xs].sort();

// ---- Resources ----------------------------------------------------------------------------

describe('Terraform provider replay: resources', () => {
  test('huaweicloud_kms_key: create with tags and rotation, read, update (alias, description, enable/disable, tags, rotation), delete', async () => {
    const tf = new Provider(world.users.alice);
    const alias = `tf-key-${hex(3)}`;
    // Create 1: golangsdk CreateOpts, fields in struct order, empty ones omitted; OkCodes [200].
    const created = await tf.kms('POST', 'create-key', { body: { key_alias: alias, key_description: 'terraform' }, ok: [200] });
    assertParses(created.json, { key_info: { key_id: 'str!', domain_id: 'str' } }, 'create-key');
    const keyId: string = created.json.key_info.key_id;
    // Create 2: polling describe-key until the state is "2" (or "5").
    const polled = await tf.describe(keyId);
    assertParses(polled.json, DESCRIBED, 'describe-key');
    assert.ok(['2', '5'].includes(polled.json.key_info.key_state));
    // Create 4-6: tags (a map: keys sorted), then rotation with an int interval.
    await tf.kms('POST', `${keyId}/tags/action`, { body: goMap({ action: 'create', tags: [{ key: 'env', value: 'dev' }, { key: 'owner', value: 'tf' }] }), ok: [200, 204] });
    await tf.noContent('enable-key-rotation', { key_id: keyId });
    await tf.noContent('update-key-rotation-interval', { key_id: keyId, rotation_interval: 30 });

    // Read: describe-key, the tags GET, get-key-rotation-status.
    const read = await tf.describe(keyId);
    assertParses(read.json, DESCRIBED, 'describe-key');
    assert.deepEqual([read.json.key_info.key_alias, read.json.key_info.key_description, read.json.key_info.key_state], [alias, 'terraform', '2']);
    assert.deepEqual(sortTags(await tf.tags(keyId)), [{ key: 'env', value: 'dev' }, { key: 'owner', value: 'tf' }]);
    const rotation = await tf.rotation(keyId);
    assert.deepEqual([rotation.key_rotation_enabled, rotation.rotation_interval], [true, 30]);

    // Update 1-2: alias and description (a JSON answer with key_info).
    const renamed = `tf-renamed-${hex(3)}`;
    const a = await tf.kms('POST', 'update-key-alias', { body: { key_id: keyId, key_alias: renamed }, ok: [200] });
    assertParses(a.json, { key_info: { key_id: 'str', key_alias: 'str' } }, 'update-key-alias');
    const d = await tf.kms('POST', 'update-key-description', { body: { key_id: keyId, key_description: 'changed' }, ok: [200] });
    assertParses(d.json, { key_info: { key_id: 'str', key_description: 'str' } }, 'update-key-description');
    // Update 3: is_enabled false, then true: key_info.key_state "3", then "2".
    const off = await tf.kms('POST', 'disable-key', { body: { key_id: keyId }, ok: [200] });
    assertParses(off.json, { key_info: { key_id: 'str', key_state: 'str!' } }, 'disable-key');
    assert.equal(off.json.key_info.key_state, '3');
    const on = await tf.kms('POST', 'enable-key', { body: { key_id: keyId }, ok: [200] });
    assert.equal(on.json.key_info.key_state, '2');
    // Update 4: every old tag deleted (with its value), then every new one created.
    await tf.kms('POST', `${keyId}/tags/action`, { body: goMap({ action: 'delete', tags: [{ key: 'env', value: 'dev' }, { key: 'owner', value: 'tf' }] }), ok: [200, 204] });
    await tf.kms('POST', `${keyId}/tags/action`, { body: goMap({ action: 'create', tags: [{ key: 'env', value: 'prod' }] }), ok: [200, 204] });
    // Update 5: rotation off.
    await tf.noContent('disable-key-rotation', { key_id: keyId });
    const reread = await tf.describe(keyId);
    assertParses(reread.json, DESCRIBED, 'describe-key');
    assert.deepEqual([reread.json.key_info.key_alias, reread.json.key_info.key_description], [renamed, 'changed']);
    assert.deepEqual(await tf.tags(keyId), [{ key: 'env', value: 'prod' }]);
    // With rotation off the interval must read 0: the provider's own check refuses a key whose
    // rotation is off and whose rotation_interval is set, on every later apply.
    const rotationOff = await tf.rotation(keyId);
    assert.deepEqual([rotationOff.key_rotation_enabled, rotationOff.rotation_interval], [false, 0]);

    // Delete: describe-key, then schedule-key-deletion with pending_days a string; read at the top level.
    await tf.describe(keyId);
    const deleted = await tf.kms('POST', 'schedule-key-deletion', { body: { key_id: keyId, pending_days: '7' }, ok: [200] });
    assertParses(deleted.json, { key_id: 'str!', key_state: 'str!' }, 'schedule-key-deletion');
    assert.equal(deleted.json.key_state, '4');
    // The next refresh drops it: key_state "4" (or a 404).
    const gone = await tf.describe(keyId, [200, 404]);
    if (gone.status === 200) assert.equal(gone.json.key_info.key_state, '4');
  });

  test('huaweicloud_kms_key with is_enabled = false: created, then disabled (key_state "3")', async () => {
    const tf = new Provider(world.users.alice);
    const created = await tf.kms('POST', 'create-key', { body: { key_alias: `tf-off-${hex(3)}` }, ok: [200] });
    const keyId = created.json.key_info.key_id;
    assert.equal((await tf.describe(keyId)).json.key_info.key_state, '2');
    assert.equal((await tf.kms('POST', 'disable-key', { body: { key_id: keyId }, ok: [200] })).json.key_info.key_state, '3');
    const read = await tf.describe(keyId);
    assertParses(read.json, DESCRIBED, 'describe-key');
    assert.equal(read.json.key_info.key_state, '3');
    const rotation = await tf.rotation(keyId);
    assert.deepEqual([rotation.key_rotation_enabled, rotation.rotation_interval], [false, 0]);
  });

  test('huaweicloud_kms_grant and huaweicloud_kms_retire_grant: create, read (echoed exactly), retire, refresh drops it; revoke', async () => {
    const owner = new Provider(world.users.alice);
    const keyId = (await owner.kms('POST', 'create-key', { body: { key_alias: `tf-grant-${hex(3)}` }, ok: [200] })).json.key_info.key_id;
    const grant = {
      key_id: keyId, grantee_principal_type: 'user', grantee_principal: world.users.gus.id,
      operations: ['encrypt-data', 'describe-key', 'retire-grant'], name: 'tf-grant', retiring_principal: world.users.rita.id,
    };
    const created = await owner.kms('POST', 'create-grant', { body: goMap(grant), ok: [200] });
    assertParses(created.json, { grant_id: 'str!' }, 'create-grant');
    const grantId = created.json.grant_id;
    // Read: list-grants with limit 100 (a number), paging on next_marker; OkCodes [200].
    const listed = await owner.pages('list-grants', { key_id: keyId, limit: 100 }, 'grants', GRANT, [200]);
    const found = listed.find((g) => g.grant_id === grantId);
    assert.ok(found, 'the grant is listed');
    assert.deepEqual(
      [found.name, found.key_id, found.grantee_principal_type, found.grantee_principal, sorted(found.operations), found.retiring_principal, found.issuing_principal],
      [grant.name, keyId, 'user', grant.grantee_principal, sorted(grant.operations), grant.retiring_principal, world.users.alice.id],
    );
    // huaweicloud_kms_retire_grant (here configured as the grant's issuer, who holds kms:cmk:retireGrant):
    // retire-grant with default OkCodes, answer not read.
    await owner.kms('POST', 'retire-grant', { body: goMap({ key_id: keyId, grant_id: grantId }) });
    const after = await owner.pages('list-grants', { key_id: keyId, limit: 100 }, 'grants', GRANT, [200]);
    assert.equal(after.some((g) => g.grant_id === grantId), false, 'the refresh no longer finds the retired grant');
    // Delete of another grant: revoke-grant, OkCodes [200].
    const second = (await owner.kms('POST', 'create-grant', { body: goMap({ ...grant, name: 'tf-grant-2' }), ok: [200] })).json.grant_id;
    await owner.kms('POST', 'revoke-grant', { body: goMap({ grant_id: second, key_id: keyId }), ok: [200] });
  });

  test('huaweicloud_kms_alias and huaweicloud_kms_alias_associate: create, read by key_id&limit=50, associate, delete with a body', async () => {
    const tf = new Provider(world.users.alice);
    const keyId = (await tf.kms('POST', 'create-key', { body: { key_alias: `tf-alias-key-${hex(3)}` }, ok: [200] })).json.key_info.key_id;
    const target = (await tf.kms('POST', 'create-key', { body: { key_alias: `tf-alias-target-${hex(3)}` }, ok: [200] })).json.key_info.key_id;
    const alias = `tf-alias-${hex(3)}`;
    await tf.kms('POST', 'aliases', { body: goMap({ key_id: keyId, alias }) });
    const readAliases = async (key: string): Promise<any[]> => {
      const all: any[] = [];
      for (let marker = '', i = 0; i < 100; i++) {
        const r = await tf.kms('GET', 'aliases', { query: { key_id: key, limit: '50', ...(marker && { marker }) } });
        assertParses(r.json, { aliases: [ALIAS], page_info: { next_marker: 'str', current_count: 'int' } }, 'GET aliases');
        assert.equal(Array.isArray(r.json), false, 'a top-level object: PathSearch("aliases") on an array finds nothing');
        all.push(...r.json.aliases);
        marker = r.json.page_info.next_marker;
        if (marker === '' || r.json.aliases.length === 0) return all;
      }
      assert.fail('next_marker never became ""');
    };
    const mine = (await readAliases(keyId)).find((x) => x.alias === alias);
    assert.deepEqual([mine?.key_id, mine?.alias_urn], [keyId, `kms:cn-north-4:${world.users.alice.accountId}:alias:${alias}`]);
    // huaweicloud_kms_alias_associate: POST alias/associate, read by the target key.
    await tf.kms('POST', 'alias/associate', { body: goMap({ alias, target_key_id: target }) });
    assert.ok((await readAliases(target)).some((x) => x.alias === alias));
    assert.equal((await readAliases(keyId)).some((x) => x.alias === alias), false);
    // Delete: DELETE with a JSON body; then the refresh finds nothing.
    await tf.kms('DELETE', 'aliases', { body: goMap({ key_id: target, aliases: [alias] }) });
    assert.equal((await readAliases(target)).some((x) => x.alias === alias), false);
  });

  const importable = OPERATIONS.some((op) => op.name === 'import-key-material') && OPERATIONS.some((op) => op.name === 'get-parameters-for-import');
  test('huaweicloud_kms_key_material: external key, parameters for import, import, read, delete imported material', { skip: importable ? false : 'needs import-key-material' }, async () => {
    const tf = new Provider(world.users.alice);
    const keyId = (await tf.kms('POST', 'create-key', { body: { key_alias: `tf-byok-${hex(3)}`, origin: 'external' }, ok: [200] })).json.key_info.key_id;
    assert.equal((await tf.describe(keyId)).json.key_info.key_state, '5');
    // data source huaweicloud_kms_parameters_for_import: expiration_time must be a number.
    const params = await tf.kms('POST', 'get-parameters-for-import', { body: goMap({ key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_256' }) });
    assertParses(params.json, { key_id: 'str', import_token: 'str!', public_key: 'str!', expiration_time: 'int' }, 'get-parameters-for-import');
    const publicKey = createPublicKey({ key: Buffer.from(params.json.public_key, 'base64'), format: 'der', type: 'spki' });
    const wrapped = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, randomBytes(32));
    // Create: golangsdk ImportMaterialOpts in struct order; expiration_time a string of seconds.
    const expiresSeconds = Math.floor(Date.now() / 1000) + 86_400;
    const imported = await tf.kms('POST', 'import-key-material', {
      body: { key_id: keyId, import_token: params.json.import_token, encrypted_key_material: wrapped.toString('base64'), expiration_time: String(expiresSeconds) },
    });
    assert.equal(typeof imported.json, 'object');
    assert.notEqual(imported.json, null);
    // Read: key_state, key_usage, and expiration_time in milliseconds (the provider divides by 1000).
    const read = await tf.describe(keyId);
    assertParses(read.json, DESCRIBED, 'describe-key');
    assert.equal(read.json.key_info.key_state, '2');
    assert.equal(Math.floor(Number(read.json.key_info.expiration_time) / 1000), expiresSeconds);
    // Delete: describe-key, then delete-imported-key-material (a JSON answer).
    await tf.describe(keyId);
    await tf.noContent('delete-imported-key-material', { key_id: keyId });
    assert.equal((await tf.describe(keyId)).json.key_info.key_state, '5');
  });
});

// ---- Data sources -------------------------------------------------------------------------

describe('Terraform provider replay: data sources', () => {
  let keyId: string;
  let alias: string;
  before(async () => {
    const tf = new Provider(world.users.boss);
    alias = `tf-ds-${hex(3)}`;
    keyId = (await tf.kms('POST', 'create-key', { body: { key_alias: alias, key_description: 'data sources' }, ok: [200] })).json.key_info.key_id;
    await tf.kms('POST', `${keyId}/tags/action`, { body: goMap({ action: 'create', tags: [{ key: 'ds', value: 'yes' }] }), ok: [200, 204] });
    for (let i = 0; i < 3; i++) await tf.kms('POST', 'create-key', { body: { key_alias: `tf-ds-extra-${i}-${hex(2)}` }, ok: [200] });
  });

  test('huaweicloud_kms_key: list-keys {} (then with key_state), paged while truncated == "true"; then tags and rotation', async () => {
    const tf = new Provider(world.users.boss);
    for (const filter of [{}, { key_state: '2' }]) {
      const details: any[] = [];
      for (let marker = '', i = 0; i < 100; i++) {
        const r = await tf.kms('POST', 'list-keys', { body: marker ? { ...filter, marker } : filter, ok: [200] });
        assertParses(r.json, { keys: ['str'], key_details: [KEY], next_marker: 'str', truncated: 'str' }, 'list-keys');
        assert.ok(['true', 'false'].includes(r.json.truncated));
        details.push(...r.json.key_details);
        if (r.json.truncated !== 'true') break;
        marker = r.json.next_marker;
      }
      assert.equal(details.filter((k) => k.key_alias === alias).length, 1, 'exactly one match');
    }
    assert.deepEqual(await tf.tags(keyId), [{ key: 'ds', value: 'yes' }]);
    await tf.rotation(keyId);
  });

  test('huaweicloud_kms_keys: list-keys {limit: 2000} paged on next_marker; dates and key_rotation_enabled strings', async () => {
    const tf = new Provider(world.users.boss);
    const all = await tf.pages('list-keys', { limit: 2000 }, 'key_details', {
      ...KEY, key_id: 'str!', creation_date: 'str!', expiration_time: 'str', scheduled_deletion_date: 'str', key_rotation_enabled: 'str!',
    });
    assert.ok(all.some((k) => k.key_id === keyId));
    const byState = await tf.pages('list-keys', { limit: 2000, key_state: '2', key_spec: 'AES_256' }, 'key_details', KEY);
    assert.ok(byState.every((k) => k.key_state === '2'));
  });

  test('huaweicloud_kms_grants and huaweicloud_kms_retirable_grants: limits 1000 and 100 as numbers, creation_date a string', async () => {
    const owner = new Provider(world.users.boss);
    const grantId = (await owner.kms('POST', 'create-grant', {
      body: goMap({ key_id: keyId, grantee_principal_type: 'user', grantee_principal: world.users.gus.id, operations: ['describe-key'], retiring_principal: world.users.rita.id }),
      ok: [200],
    })).json.grant_id;
    const grants = await owner.pages('list-grants', { key_id: keyId, limit: 1000 }, 'grants', { ...GRANT, creation_date: 'str!' });
    assert.ok(grants.some((g) => g.grant_id === grantId));
    const retirable = await new Provider(world.users.rita).pages('list-retirable-grants', { limit: 100 }, 'grants', { ...GRANT, creation_date: 'str!' });
    assert.ok(retirable.some((g) => g.grant_id === grantId));
  });

  test('huaweicloud_kms_data_key: create-datakey with datakey_length "512" and encryption_context a JSON string', async () => {
    const tf = new Provider(world.users.boss);
    for (const body of [{ key_id: keyId, datakey_length: '512' }, { key_id: keyId, encryption_context: '{"k":"v"}', datakey_length: '512' }]) {
      const r = await tf.kms('POST', 'create-datakey', { body, ok: [200] });
      assertParses(r.json, { key_id: 'str!', plain_text: 'str!', cipher_text: 'str!' }, 'create-datakey');
    }
  });

  test('huaweicloud_kms_key_tags: GET kms/tags, {tags: [{key, values: [str]}]}', async () => {
    const r = await new Provider(world.users.boss).kms('GET', 'tags');
    assertParses(r.json, { tags: [{ key: 'str!', values: ['str'] }] }, 'GET kms/tags');
    assert.deepEqual(r.json.tags.find((t: { key: string }) => t.key === 'ds'), { key: 'ds', values: ['yes'] });
  });

  test('huaweicloud_kms_aliases: GET aliases?limit=50 paged on page_info.next_marker', async () => {
    const tf = new Provider(world.users.boss);
    const names = Array.from({ length: 3 }, (_, i) => `tf-ds-alias-${i}-${hex(2)}`);
    for (const name of names) await tf.kms('POST', 'aliases', { body: goMap({ key_id: keyId, alias: name }) });
    const seen: string[] = [];
    for (let marker = '', i = 0; i < 100; i++) {
      const r = await tf.kms('GET', 'aliases', { query: { limit: '50', ...(marker && { marker }) } });
      assertParses(r.json, { aliases: [ALIAS], page_info: { next_marker: 'str', current_count: 'int' } }, 'GET aliases');
      seen.push(...r.json.aliases.map((x: { alias: string }) => x.alias));
      marker = r.json.page_info.next_marker;
      if (marker === '') break;
    }
    assert.ok(names.every((n) => seen.includes(n)));
  });

  test('huaweicloud_kms_custom_keys_by_tags: filter with limit "1000" and a number offset until an empty page; count a number', async () => {
    const tf = new Provider(world.users.boss);
    const body = { action: 'filter', tags: [{ key: 'ds', values: ['yes'] }], matches: [{ key: 'resource_name', value: 'tf-ds' }] };
    const found: any[] = [];
    for (let offset = 0, i = 0; i < 100; i++) {
      const r = await tf.kms('POST', 'resource_instances/action', { body: goMap({ ...body, limit: '1000', offset }) });
      assertParses(r.json, { resources: [{ resource_id: 'str!', resource_name: 'str', resource_detail: KEY, tags: [{ key: 'str', value: 'str' }] }], total_count: 'int' }, 'resource_instances filter');
      if (r.json.resources.length === 0) break;
      found.push(...r.json.resources);
      offset += r.json.resources.length;
    }
    assert.deepEqual(found.map((x) => x.resource_id), [keyId]);
    const count = await tf.kms('POST', 'resource_instances/action', { body: goMap({ action: 'count', tags: body.tags }) });
    assertParses(count.json, { total_count: 'num' }, 'resource_instances count');
    assert.equal(count.json.total_count, 1);
  });

  test('huaweicloud_kms_quotas: used and quota numbers', async () => {
    const r = await new Provider(world.users.boss).kms('GET', 'user-quotas');
    assertParses(r.json, { quotas: { resources: [{ type: 'str', used: 'int', quota: 'int' }] } }, 'user-quotas');
  });
});
