import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, hex, newGrant, newKey, startWorld, type Client, type World } from '../harness.ts';
import { defaultKeyOf } from './key-state-helpers.ts';

// Aliases of the aliases API (reference §2.6): create (201), list (GET with query paging),
// associate to another key, delete (DELETE with a JSON body, 204).

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const aliasesPath = (c: Client) => `/v1.0/${c.user.projectId}/kms/aliases`;
const create = (c: Client, body: unknown) => c.request('POST', aliasesPath(c), body);
const list = (c: Client, query = '', headers: Record<string, string> = {}) => c.request('GET', `${aliasesPath(c)}${query}`, undefined, headers);
const remove = (c: Client, body: unknown) => c.request('DELETE', aliasesPath(c), body);
const associate = (c: Client, body: unknown) => c.request('POST', `/v1.0/${c.user.projectId}/kms/alias/associate`, body);

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const NO_ACCESS = ERR('KMS.0306', 'No access permissions.');

describe('aliases', () => {
  test('create answers 201 with the AliasEntity (all strings, times as 2024-04-01T00:00:00Z, the alias URN)', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    const alias = `kms-${hex(3)}`;
    const r = await create(alice, { key_id: keyId, alias });
    assert.equal(r.status, 201);
    const { create_time, update_time, ...rest } = r.body;
    assert.deepEqual(rest, {
      domain_id: alice.user.accountId, key_id: keyId, alias,
      alias_urn: `kms:cn-north-4:${alice.user.accountId}:alias:${alias}`,
    });
    assert.match(create_time, ISO);
    assert.equal(update_time, create_time);
  });

  test('list: the documented object {aliases, page_info: {next_marker, current_count}}, by name; filtered by key_id', async () => {
    const admin = world.as('admin');
    const [k1, k2] = [await newKey(admin), await newKey(admin)];
    const names = [`b-${hex(3)}`, `a-${hex(3)}`, `c-${hex(3)}`];
    await create(admin, { key_id: k1, alias: names[0] });
    await create(admin, { key_id: k1, alias: names[1] });
    await create(admin, { key_id: k2, alias: names[2] });
    const r = await list(admin, `?key_id=${k1}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.aliases.map((a: { alias: string }) => a.alias), [names[1], names[0]]);
    assert.deepEqual(r.body.page_info, { next_marker: '', current_count: 2 });
    for (const entry of r.body.aliases) {
      assert.deepEqual(Object.keys(entry), ['domain_id', 'key_id', 'alias', 'alias_urn', 'create_time', 'update_time']);
      for (const value of Object.values(entry)) assert.equal(typeof value, 'string');
    }
    // Without key_id: every alias of the account in the region.
    const all = await list(admin);
    assert.ok(names.every((n) => all.body.aliases.some((a: { alias: string }) => a.alias === n)));
  });

  test('list pages with limit and marker (the last alias of a page) until next_marker is ""', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    const names = Array.from({ length: 5 }, (_, i) => `page-${i}-${hex(2)}`);
    for (const alias of names) await create(alice, { key_id: keyId, alias });
    const seen: string[] = [];
    let marker = '';
    for (let i = 0; i < 10; i++) {
      const r = await list(alice, `?key_id=${keyId}&limit=2${marker ? `&marker=${marker}` : ''}`);
      assert.equal(r.status, 200);
      seen.push(...r.body.aliases.map((a: { alias: string }) => a.alias));
      assert.equal(r.body.page_info.current_count, r.body.aliases.length);
      marker = r.body.page_info.next_marker;
      if (marker === '') break;
      assert.equal(marker, seen.at(-1));
    }
    assert.deepEqual(seen, names);
  });

  test('the Go SDK, whose model wants a top-level array, gets [{aliases, page_info}]', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    const alias = `go-${hex(3)}`;
    await create(alice, { key_id: keyId, alias });
    const r = await list(alice, `?key_id=${keyId}`, { 'User-Agent': 'huaweicloud-usdk-go/3.0' });
    assert.equal(r.status, 200);
    assert.ok(Array.isArray(r.body));
    assert.deepEqual(r.body.map((page: { aliases: Array<{ alias: string }>; page_info: unknown }) =>
      [page.aliases.map((a) => a.alias), page.page_info]), [[[alias], { next_marker: '', current_count: 1 }]]);
  });

  test('associate moves an alias to another key (200, update_time moves); delete removes aliases of one key (204)', async () => {
    const alice = world.as('alice');
    const [from, to] = [await newKey(alice), await newKey(alice)];
    const alias = `move-${hex(3)}`;
    await create(alice, { key_id: from, alias });
    const moved = await associate(alice, { alias, target_key_id: to });
    assert.equal(moved.status, 200);
    assert.equal(moved.body.key_id, to);
    assert.equal(moved.body.alias, alias);
    assert.equal((await list(alice, `?key_id=${from}`)).body.aliases.length, 0);
    assert.deepEqual((await list(alice, `?key_id=${to}`)).body.aliases.map((a: { alias: string }) => a.alias), [alias]);
    // Deleting under the old key is refused; under its key, it goes, and a repeat is harmless.
    const wrongKey = await remove(alice, { key_id: from, aliases: [alias] });
    assert.deepEqual([wrongKey.status, wrongKey.body], [400, ERR('KMS.0308', 'Invalid parameter.')]);
    const r = await remove(alice, { key_id: to, aliases: [alias] });
    assert.deepEqual([r.status, r.text], [204, '']);
    assert.equal((await remove(alice, { key_id: to, aliases: [alias] })).status, 204);
    assert.equal((await list(alice, `?key_id=${to}`)).body.aliases.length, 0);
  });

  test('every documented refusal, with its whole body', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    const taken = `taken-${hex(3)}`;
    await create(alice, { key_id: keyId, alias: taken });
    const cases: Array<[Promise<{ status: number; body: unknown }>, number, string, string]> = [
      [create(alice, { key_id: keyId }), 400, 'KMS.0204', 'Parameters missing in the request message.'],
      [create(alice, { key_id: keyId, alias: taken }), 400, 'KMS.1104', 'Duplicate key aliases.'],
      [create(alice, { key_id: keyId, alias: 'bad alias' }), 400, 'KMS.1101', 'Invalid key_alias.'],
      [create(alice, { key_id: keyId, alias: 'x/default' }), 400, 'KMS.1101', 'Invalid key_alias.'],
      [create(alice, { key_id: keyId, alias: 'a'.repeat(256) }), 400, 'KMS.1101', 'Invalid key_alias.'],
      [create(alice, { key_id: 'nope', alias: 'a' }), 400, 'KMS.0205', 'Invalid key ID.'],
      [create(alice, { key_id: crypto.randomUUID(), alias: `n-${hex(3)}` }), 404, 'KMS.0207', 'The key does not exist.'],
      [create(alice, { key_id: await defaultKeyOf(alice), alias: `d-${hex(3)}` }), 400, 'KMS.0211', 'Cannot perform this operation on Default Master Keys.'],
      [list(alice, '?limit=0'), 400, 'KMS.1601', 'Invalid limit.'],
      [list(alice, '?limit=101'), 400, 'KMS.1601', 'Invalid limit.'],
      [list(alice, '?key_id=bad'), 400, 'KMS.0205', 'Invalid key ID.'],
      [list(alice, '?marker=a%20b'), 400, 'KMS.0308', 'Invalid parameter.'],
      [associate(alice, { alias: `never-${hex(3)}`, target_key_id: keyId }), 400, 'KMS.0308', 'Invalid parameter.'],
      [associate(alice, { alias: taken }), 400, 'KMS.0204', 'Parameters missing in the request message.'],
      [remove(alice, { key_id: keyId }), 400, 'KMS.0204', 'Parameters missing in the request message.'],
      [remove(alice, { key_id: keyId, aliases: [] }), 400, 'KMS.0308', 'Invalid parameter.'],
      [remove(alice, { key_id: keyId, aliases: [{}] }), 400, 'KMS.1101', 'Invalid key_alias.'],
    ];
    for (const [pending, status, code, message] of cases) {
      const r = await pending;
      assert.deepEqual([r.status, r.body], [status, ERR(code, message)], code);
    }
  });

  test('no alias for a key pending deletion (KMS.0210); at most 50 aliases per key (KMS.0308)', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    for (let i = 0; i < 50; i++) assert.equal((await create(alice, { key_id: keyId, alias: `many-${i}-${hex(2)}` })).status, 201);
    const r = await create(alice, { key_id: keyId, alias: `many-x-${hex(2)}` });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0308', 'Invalid parameter.')]);
    const other = await newKey(alice);
    await alice.kms('schedule-key-deletion', { key_id: other, pending_days: '7' });
    const pending = await create(alice, { key_id: other, alias: `p-${hex(3)}` });
    assert.deepEqual([pending.status, pending.body], [400, ERR('KMS.0210', 'The key is in Scheduled deletion state and cannot be used.')]);
  });

  test('aliases are the owner\'s: a grantee, another account and a user without kms:alias:* are refused; lists show only the caller account', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    const alias = `own-${hex(3)}`;
    await create(alice, { key_id: keyId, alias });
    await newGrant(alice, keyId, world.users.gus.id, ['encrypt-data', 'describe-key']);
    for (const name of ['gus', 'boss', 'reader']) {
      const c = world.as(name);
      for (const r of [await create(c, { key_id: keyId, alias: `theirs-${hex(3)}` }), await remove(c, { key_id: keyId, aliases: [alias] })]) {
        assert.deepEqual([r.status, r.body], [403, NO_ACCESS], name);
      }
    }
    // boss lists its own account's aliases: alice's key id matches none of them.
    const boss = await list(world.as('boss'), `?key_id=${keyId}`);
    assert.deepEqual([boss.status, boss.body], [200, { aliases: [], page_info: { next_marker: '', current_count: 0 } }]);
    // Another account cannot move an alias of acme to its own key: it does not see it.
    const bossKey = await newKey(world.as('boss'));
    const steal = await associate(world.as('boss'), { alias, target_key_id: bossKey });
    assert.deepEqual([steal.status, steal.body], [400, ERR('KMS.0308', 'Invalid parameter.')]);
    const readerList = await list(world.as('reader'));
    assert.deepEqual([readerList.status, readerList.body], [403, NO_ACCESS]);
  });

  test('aliases and key_alias are separate names: neither changes the other, and they may be equal', async () => {
    const alice = world.as('alice');
    const name = `both-${hex(3)}`;
    const keyId = await newKey(alice, { key_alias: name });
    assert.equal((await create(alice, { key_id: keyId, alias: name })).status, 201);
    const renamed = `renamed-${hex(3)}`;
    await alice.kms('update-key-alias', { key_id: keyId, key_alias: renamed });
    assert.deepEqual((await list(alice, `?key_id=${keyId}`)).body.aliases.map((a: { alias: string }) => a.alias), [name]);
    assert.equal((await alice.kms('describe-key', { key_id: keyId })).body.key_info.key_alias, renamed);
  });

  test('a key deleted for good takes its aliases along; the name is free again', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    const alias = `gone-${hex(3)}`;
    await create(alice, { key_id: keyId, alias });
    await world.server.store.write((tx) => tx.deleteKey(keyId));
    assert.equal((await create(alice, { key_id: await newKey(alice), alias })).status, 201);
  });

  test('a wrong method on the alias paths is 405 KMS.0215', async () => {
    const alice = world.as('alice');
    for (const [method, path] of [['PUT', aliasesPath(alice)], ['GET', `/v1.0/${alice.user.projectId}/kms/alias/associate`]]) {
      const r = await alice.request(method, path, method === 'GET' ? undefined : {});
      assert.deepEqual([r.status, r.body], [405, ERR('KMS.0215', 'Request method not supported.')], `${method} ${path}`);
    }
  });
});
