import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { raw, startWorld, type World } from './harness.ts';
import { fill, firstValues } from './support/otc/placeholders.ts';

/**
 * Issue 27: Open Telekom Cloud's python-otcextensions (0.34.5, its `kms` proxy over Debian's
 * openstacksdk 0.101), replayed. Its requests were recorded once from the real client against
 * kmsd (test/support/otc/record-otcextensions.ts; Debian does not package otcextensions): its
 * headers and body bytes, sent to the URLs it builds, as the client does, from a live token's
 * catalog (the `kms` URL plus the project id, which must also be the `kmsv1` URL): a catalog of
 * another shape fails the replay.
 * Each answer must have the status it had and, field by field, the JSON types it had (errors:
 * the whole body, the client maps KMS.0205 and 404 to ResourceNotFound, KMS.1104 to
 * DuplicateResource).
 */

const fixtures = join(import.meta.dirname, 'fixtures', 'otc');
interface Recorded { method: string; path: string; headers: Record<string, string>; body: string; status: number; answer: unknown }
const recorded: Recorded[] = readFileSync(join(fixtures, 'otcextensions-requests.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const reads = JSON.parse(readFileSync(join(fixtures, 'otcextensions-reads.json'), 'utf8'));

/** The JSON type of every leaf, arrays by their first element (as the recorder keeps answers). */
function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? [] : [shapeOf(value[0])];
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shapeOf(v)]));
  return value === null ? 'null' : Number.isInteger(value) ? 'int' : typeof value;
}

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

interface CatalogEntry { type: string; endpoints: Array<{ url: string; region: string; interface: string }> }

/**
 * The identity calls the client made (otcextensions-identity.txt: discovery, then a password login
 * scoped to the region's project), replayed: the token and its catalog.
 */
async function login(): Promise<{ token: string; catalog: CatalogEntry[] }> {
  const calls = readFileSync(join(fixtures, 'otcextensions-identity.txt'), 'utf8').trim().split('\n');
  assert.deepEqual(calls, ['GET /v3 200', 'POST /v3/auth/tokens 201']);
  assert.equal((await raw(world.url, 'GET', '/v3')).status, 200);
  const alice = world.users.alice;
  const domain = { name: alice.account };
  const r = await raw(world.url, 'POST', '/v3/auth/tokens', {
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: alice.name, password: alice.password, domain } } }, scope: { project: { name: 'cn-north-4', domain } } } }),
  });
  assert.equal(r.status, 201);
  return { token: r.headers.get('x-subject-token') as string, catalog: r.body.token.catalog };
}

/** The public URL of a service type in the region, as keystoneauth picks it. */
function endpointOf(catalog: CatalogEntry[], type: string): string {
  const found = catalog.find((s) => s.type === type)?.endpoints.find((e) => e.region === 'cn-north-4' && e.interface === 'public');
  assert.ok(found, `no ${type} endpoint in cn-north-4: ${JSON.stringify(catalog)}`);
  return found.url;
}

describe('otcextensions KMS proxy, replayed', () => {
  test('every recorded request, at the URL the client builds from the catalog, gets the status and the JSON types the client read', async () => {
    const alice = world.users.alice;
    const { token, catalog } = await login();
    // otcextensions' kms service: the `kms` entry with the project id appended (append_project_id);
    // OTC lists the same URL as `kmsv1`.
    const base = `${endpointOf(catalog, 'kms').replace(/\/+$/, '')}/${alice.projectId}`;
    assert.equal(endpointOf(catalog, 'kmsv1'), base);
    const known = new Map([['project_id', alice.projectId], ['user_id', alice.id], ['alias', `otcext-${Date.now().toString(36)}`]]);
    const errors: Array<[number, string]> = [];
    for (const [n, call] of recorded.entries()) {
      const what = `#${n} ${call.method} ${call.path} ${call.body}`;
      const prefix = '/v1.0/{{project_id}}/kms/';
      assert.ok(call.path.startsWith(prefix), what);
      const url = new URL(`${base}/kms/${fill(call.path.slice(prefix.length), known)}`);
      assert.equal(url.origin, world.url, what);
      const r = await raw(world.url, call.method, `${url.pathname}${url.search}`, {
        headers: { ...call.headers, 'X-Auth-Token': token },
        body: call.method === 'GET' ? undefined : fill(call.body, known),
      });
      assert.equal(r.status, call.status, `${what}: ${JSON.stringify(r.body)}`);
      const answered = typeof call.answer === 'object' && call.answer !== null && 'error' in call.answer ? r.body : shapeOf(r.body);
      assert.deepEqual(answered, call.answer, what);
      if (r.status !== 200) errors.push([r.status, r.body.error.error_code]);
      for (const [field, value] of firstValues(r.body)) known.set(`${field}@${n}`, value);
    }
    // The answers the client maps to exceptions (KMS.1104 DuplicateResource, KMS.0205 and 404
    // KMS.0207 ResourceNotFound, per otcextensions-reads.json), as kmsd gave them.
    assert.deepEqual(errors, [[400, 'KMS.1104'], [400, 'KMS.0205'], [404, 'KMS.0207'], [400, 'KMS.0205']]);
    const raised = reads.reads.filter((s: { raised?: string }) => s.raised).map((s: { step: string; raised: string }) => [s.step, s.raised]);
    assert.deepEqual(raised, [['create_key_same_alias', 'DuplicateResource'], ['get_key_not_uuid', 'ResourceNotFound'], ['get_key_unknown', 'ResourceNotFound']]);
  });

  test("list-keys pages by truncated/next_marker strings, as the client's pager reads them", async () => {
    const client = world.as('alice');
    for (let i = 0; i < 2; i++) assert.equal((await client.kms('create-key', { key_alias: `page-${i}-${Date.now().toString(36)}` })).status, 200);
    const first = await client.kms('list-keys', { limit: 1 });
    assert.equal(first.body.truncated, 'true');
    assert.equal(typeof first.body.next_marker, 'string');
    const last = await client.kms('list-keys', { limit: 1000, marker: first.body.next_marker });
    assert.equal(last.body.truncated, 'false');
  });

  test('a query the proxy may add (base_path=None) is ignored on its GETs', async () => {
    const token = await world.as('alice').getToken();
    for (const op of ['user-instances', 'user-quotas']) {
      const plain = await raw(world.url, 'GET', `/v1.0/${world.users.alice.projectId}/kms/${op}`, { headers: { 'X-Auth-Token': token } });
      const withQuery = await raw(world.url, 'GET', `/v1.0/${world.users.alice.projectId}/kms/${op}?base_path=None`, { headers: { 'X-Auth-Token': token } });
      assert.deepEqual([withQuery.status, withQuery.body], [200, plain.body], op);
    }
  });
});
