import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { hex, startWorld, type TestUser, type World } from './harness.ts';
import { signAsGolangsdk } from './support/golangsdk-signer.ts';
import { assertParses, type Shape } from './support/json-shape.ts';

/**
 * Issue #26: the Terraform provider's CSMS resources against kmsd, without Terraform
 * (docs/terraform-csms-calls.md): huaweicloud_csms_secret and
 * huaweicloud_csms_secret_version_state through their create → read → update → read → delete
 * calls, signed as golangsdk signs, each answer checked against the status codes the provider
 * accepts and the JSON types its structs and PathSearch casts read.
 */

let world: World;
let provider: Provider;
before(async () => {
  world = await startWorld();
  provider = new Provider(world.users.admin);
});
after(() => world.close());

const USER_AGENT = 'terraform-provider-huaweicloud/1.80.0';
const DEFAULT_OK: Record<string, number[]> = { POST: [200, 201, 202], PUT: [200, 201, 202], GET: [200], DELETE: [200, 202, 204] };

// golangsdk's csms/v1/secrets structs, as the resource reads them (create_time and update_time are numbers it divides by 1000).
const SECRET: Shape = {
  id: 'str!', name: 'str', state: 'str', kms_key_id: 'str', description: 'str', create_time: 'num', update_time: 'num',
  scheduled_delete_time: 'num', secret_type: 'str', enterprise_project_id: 'str', event_subscriptions: ['str'],
};
const VERSION_METADATA: Shape = { id: 'str!', create_time: 'num', expire_time: 'num', kms_key_id: 'str', secret_name: 'str', version_stages: ['str'] };
const STAGE: Shape = { stage: { name: 'str!', secret_name: 'str', version_id: 'str', update_time: 'num' } };

interface Answer {
  status: number;
  json: any;
}

class Provider {
  readonly user: TestUser;
  constructor(user: TestUser) {
    this.user = user;
  }

  /** One call to `<kms endpoint>v1/{pid}/<path>`: the status must be one the call accepts. */
  async call(method: string, path: string, body?: unknown, ok = DEFAULT_OK[method]): Promise<Answer> {
    const text = body === undefined ? undefined : `${JSON.stringify(body)}\n`;
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': USER_AGENT };
    if (text !== undefined) headers['Content-Type'] = 'application/json';
    const signed = signAsGolangsdk({ method, path: `/v1/${this.user.projectId}/${path}`, headers, body: text }, this.user.ak, this.user.sk);
    const r = await fetch(`${world.url}${signed.url}`, { method, body: text, headers: { ...signed.headers, 'X-Project-Id': this.user.projectId } });
    const answer = await r.text();
    assert.ok(ok.includes(r.status), `${method} ${path}: ${r.status} not in ${ok} (${answer.slice(0, 300)})`);
    if (r.status === 204) return { status: 204, json: undefined };
    assert.notEqual(answer, '', `${method} ${path}: empty ${r.status} body (EOF in the provider)`);
    return { status: r.status, json: JSON.parse(answer) };
  }

  /** What CheckDeletedDiag needs to call a resource gone: a 404. */
  async gone(path: string): Promise<void> {
    await this.call('GET', path, undefined, [404]);
  }
}

const hashHex = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('huaweicloud_csms_secret', () => {
  test('create, read, update the value, the key, the description, tags and expire_time; delete', async () => {
    const name = `tf-${hex(4)}`;
    // Create (secrets.CreateSecretOpts: empty strings and lists omitted).
    const created = await provider.call('POST', 'secrets', { name, secret_string: '{"user":"app","password":"one"}' });
    assertParses(created.json, { secret: SECRET }, 'create');
    assert.equal(created.json.secret.state, 'ENABLED');
    const id = created.json.secret.id;
    await provider.call('POST', `csms/${id}/tags/action`, { action: 'create', tags: [{ key: 'foo', value: 'bar' }] }, [200, 201, 202, 204]);

    // Read: the secret, the newest version (by create_time), its value, the tags.
    const read = async () => {
      const secret = await provider.call('GET', `secrets/${name}`);
      assertParses(secret.json, { secret: SECRET }, 'GET secret');
      const versions = await provider.call('GET', `secrets/${name}/versions`);
      assertParses(versions.json, { version_metadatas: [VERSION_METADATA] }, 'GET versions');
      const newest = [...versions.json.version_metadatas].sort((a, b) => b.create_time - a.create_time)[0];
      const version = await provider.call('GET', `secrets/${name}/versions/${newest.id}`);
      assertParses(version.json, { version: { version_metadata: VERSION_METADATA, secret_string: 'str', secret_binary: 'str' } }, 'GET version');
      const tags = await provider.call('GET', `csms/${id}/tags`);
      assertParses(tags.json, { tags: [{ key: 'str', value: 'str' }] }, 'GET tags');
      return { secret: secret.json.secret, version: version.json.version, tags: tags.json.tags, newest };
    };
    let state = await read();
    assert.equal(hashHex(state.version.secret_string), hashHex('{"user":"app","password":"one"}'));
    assert.deepEqual(state.version.version_metadata.version_stages, ['SYSCURRENT']);
    // create_time / 1000 is a time in seconds of this year, not of the year 58000.
    assert.equal(new Date(Math.floor(state.secret.create_time / 1000) * 1000).getUTCFullYear(), new Date().getUTCFullYear());
    assert.deepEqual(state.tags, [{ key: 'foo', value: 'bar' }]);

    // Update: metadata (description "" allowed), a new value, the newest version's expire_time, tags.
    const keyId = (await world.as('admin').kms('create-key', { key_alias: `tf-key-${hex(4)}` })).body.key_info.key_id;
    const updated = await provider.call('PUT', `secrets/${name}`, { kms_key_id: keyId, description: '' });
    assertParses(updated.json, { secret: SECRET }, 'PUT secret');
    const version = await provider.call('POST', `secrets/${name}/versions`, { secret_string: 'two', expire_time: 4102444800000 });
    assertParses(version.json, { version_metadata: VERSION_METADATA }, 'POST version');
    state = await read();
    assert.deepEqual([state.newest.id, state.version.secret_string, state.version.version_metadata.expire_time], ['v2', 'two', 4102444800000]);
    const expiry = await provider.call('PUT', `secrets/${name}/versions/${state.newest.id}`, { expire_time: 4133980800000 });
    assertParses(expiry.json, { version_metadata: VERSION_METADATA }, 'PUT version');
    await provider.call('POST', `csms/${id}/tags/action`, { action: 'delete', tags: [{ key: 'foo', value: 'bar' }] }, [200, 201, 202, 204]);
    state = await read();
    assert.deepEqual([state.secret.kms_key_id, state.secret.description, state.version.version_metadata.expire_time, state.tags], [keyId, '', 4133980800000, []]);

    // Delete, then the next refresh finds it gone.
    await provider.call('DELETE', `secrets/${name}`);
    await provider.gone(`secrets/${name}`);
  });

  test('a binary secret reads back as secret_binary', async () => {
    const name = `tf-bin-${hex(4)}`;
    await provider.call('POST', 'secrets', { name, secret_binary: Buffer.from('bytes\u0000here').toString('base64') });
    const r = await provider.call('GET', `secrets/${name}/versions/v1`);
    assert.equal(Buffer.from(r.json.version.secret_binary, 'base64').toString(), 'bytes\u0000here');
    await provider.call('DELETE', `secrets/${name}`);
  });
});

describe('huaweicloud_csms_secret_version_state', () => {
  test('create (PUT), read, update (PUT), delete (GET, DELETE 204, GET gone)', async () => {
    const name = `tf-st-${hex(4)}`;
    await provider.call('POST', 'secrets', { name, secret_string: 'one' });
    await provider.call('POST', `secrets/${name}/versions`, { secret_string: 'two' });
    const created = await provider.call('PUT', `secrets/${name}/stages/blue`, { version_id: 'v1' });
    assertParses(created.json, STAGE, 'PUT stage');
    assert.equal(created.json.stage.name, 'blue');
    const read = await provider.call('GET', `secrets/${name}/stages/blue`);
    assertParses(read.json, STAGE, 'GET stage');
    assert.deepEqual([read.json.stage.secret_name, read.json.stage.version_id], [name, 'v1']);
    assert.equal(new Date(Math.floor(read.json.stage.update_time / 1000) * 1000).getUTCFullYear(), new Date().getUTCFullYear());
    await provider.call('PUT', `secrets/${name}/stages/blue`, { version_id: 'v2' });
    assert.equal((await provider.call('GET', `secrets/${name}/stages/blue`)).json.stage.version_id, 'v2');
    await provider.call('GET', `secrets/${name}/stages/blue`);
    await provider.call('DELETE', `secrets/${name}/stages/blue`, undefined, [204]);
    await provider.gone(`secrets/${name}/stages/blue`);
  });
});
