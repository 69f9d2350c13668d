import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, hex, newGrant, newKey, startWorld, type Client, type World } from '../harness.ts';
import { defaultKeyOf } from './key-state-helpers.ts';

// Tags of keys (reference §2.5, §7): create one, batch create/delete, delete one, show a key's
// tags, list the project's tags, and resource_instances/action.

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const tagsPath = (c: Client, keyId: string) => `/v1.0/${c.user.projectId}/kms/${keyId}/tags`;
const tagsOf = async (c: Client, keyId: string) => (await c.request('GET', tagsPath(c, keyId))).body;
const batch = (c: Client, keyId: string, body: unknown) => c.request('POST', `${tagsPath(c, keyId)}/action`, body);
const createOne = (c: Client, keyId: string, body: unknown) => c.request('POST', tagsPath(c, keyId), body);
const deleteOne = (c: Client, keyId: string, key: string) => c.request('DELETE', `${tagsPath(c, keyId)}/${encodeURIComponent(key)}`);
const resources = (c: Client, body: unknown) => c.request('POST', `/v1.0/${c.user.projectId}/kms/resource_instances/action`, body);

const NO_ACCESS = ERR('KMS.0306', 'No access permissions.');
/** Keys made in the same millisecond come in key id order: compare as sets. */
const sorted = (ids: string[]) => [...ids].sort();

describe('key tags', () => {
  test('create one tag: 204 with no body; show answers {tags, existTagsNum}', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    const r = await createOne(alice, keyId, { tag: { key: 'DEV', value: 'DEV1' } });
    assert.deepEqual([r.status, r.text], [204, '']);
    assert.deepEqual(await tagsOf(alice, keyId), { tags: [{ key: 'DEV', value: 'DEV1' }], existTagsNum: 1 });
  });

  test('a key without tags shows {tags: [], existTagsNum: 0}', async () => {
    const alice = world.as('alice');
    assert.deepEqual(await tagsOf(alice, await newKey(alice)), { tags: [], existTagsNum: 0 });
  });

  test('batch create and delete (204); creating an existing tag key replaces its value; delete ignores values and absent keys', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    const created = await batch(alice, keyId, { action: 'create', tags: [{ key: 'k1', value: 'v1' }, { key: 'k2' }, { key: 'k3', value: '' }] });
    assert.deepEqual([created.status, created.text], [204, '']);
    await batch(alice, keyId, { action: 'create', tags: [{ key: 'k1', value: 'changed' }] });
    assert.deepEqual(await tagsOf(alice, keyId), {
      tags: [{ key: 'k1', value: 'changed' }, { key: 'k2', value: '' }, { key: 'k3', value: '' }], existTagsNum: 3,
    });
    const deleted = await batch(alice, keyId, { action: 'delete', tags: [{ key: 'k1', value: 'other' }, { key: 'never-there' }] });
    assert.deepEqual([deleted.status, deleted.text], [204, '']);
    assert.deepEqual((await tagsOf(alice, keyId)).tags, [{ key: 'k2', value: '' }, { key: 'k3', value: '' }]);
  });

  test('delete one tag by its key in the path (204); a key the key does not have is 404 KMS.0416', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    await batch(alice, keyId, { action: 'create', tags: [{ key: 'team/α β', value: 'x' }, { key: 'keep', value: 'y' }] });
    const r = await deleteOne(alice, keyId, 'team/α β');
    assert.deepEqual([r.status, r.text], [204, '']);
    assert.deepEqual((await tagsOf(alice, keyId)).tags, [{ key: 'keep', value: 'y' }]);
    const again = await deleteOne(alice, keyId, 'team/α β');
    assert.deepEqual([again.status, again.body], [404, ERR('KMS.0416', 'Invalid tag ID.')]);
  });

  test('at most 10 tags per key (KMS.0409); a batch of more than 10 is KMS.0407', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    const ten = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
    assert.equal((await batch(alice, keyId, { action: 'create', tags: ten })).status, 204);
    // Replacing the value of a present tag key stays within the limit.
    assert.equal((await createOne(alice, keyId, { tag: { key: 'k3', value: 'new' } })).status, 204);
    const eleventh = await createOne(alice, keyId, { tag: { key: 'k10', value: 'v' } });
    assert.deepEqual([eleventh.status, eleventh.body], [400, ERR('KMS.0409', 'Too many tags.')]);
    const big = await batch(alice, await newKey(alice), { action: 'create', tags: [...ten, { key: 'k10', value: '' }] });
    assert.deepEqual([big.status, big.body], [400, ERR('KMS.0407', 'Invalid tag list size.')]);
    assert.equal((await tagsOf(alice, keyId)).existTagsNum, 10);
  });

  test('every documented refusal of a tag, with its whole body', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    const cases: Array<[unknown, string, string]> = [
      [{ action: 'create', tags: [] }, 'KMS.0401', 'Tag list cannot be empty.'],
      [{ action: 'create' }, 'KMS.0204', 'Parameters missing in the request message.'],
      [{ tags: [{ key: 'a' }] }, 'KMS.0204', 'Parameters missing in the request message.'],
      [{ action: 'update', tags: [{ key: 'a' }] }, 'KMS.0404', 'Invalid action.'],
      [{ action: 'constructor', tags: [{ key: 'a' }] }, 'KMS.0404', 'Invalid action.'],
      [{ action: 'create', tags: [{ key: '' }] }, 'KMS.0406', 'Invalid tag key.'],
      [{ action: 'create', tags: [{ key: 'a=b' }] }, 'KMS.0406', 'Invalid tag key.'],
      [{ action: 'create', tags: [{ key: 'tab\there' }] }, 'KMS.0406', 'Invalid tag key.'],
      [{ action: 'create', tags: [{ key: 7 }] }, 'KMS.0406', 'Invalid tag key.'],
      [{ action: 'create', tags: [{ value: 'no key' }] }, 'KMS.0406', 'Invalid tag key.'],
      [{ action: 'create', tags: [{ key: 'x'.repeat(37) }] }, 'KMS.0411', 'Invalid tag key length.'],
      [{ action: 'create', tags: [{ key: 'a', value: '<b>' }] }, 'KMS.0405', 'Invalid tag value.'],
      [{ action: 'create', tags: [{ key: 'a', value: 5 }] }, 'KMS.0405', 'Invalid tag value.'],
      [{ action: 'create', tags: [{ key: 'a', value: 'v'.repeat(44) }] }, 'KMS.0410', 'Invalid tag value length.'],
      [{ action: 'create', tags: [{ key: 'a' }, { key: 'a', value: 'twice' }] }, 'KMS.0412', 'Invalid tag list.'],
      [{ action: 'create', tags: ['a'] }, 'KMS.0412', 'Invalid tag list.'],
      [{ action: 'create', tags: { key: 'a' } }, 'KMS.0412', 'Invalid tag list.'],
      [{ action: 'create', tags: [{ key: 'a' }], sequence: 'short' }, 'KMS.0206', 'Invalid sequence number.'],
    ];
    for (const [body, code, message] of cases) {
      const r = await batch(alice, keyId, body);
      assert.deepEqual([r.status, r.body], [400, ERR(code, message)], JSON.stringify(body));
    }
    // 36 and 43 Unicode characters are allowed (lengths count characters, not bytes).
    const longest = { key: '漢'.repeat(36), value: '字'.repeat(43) };
    assert.equal((await batch(alice, keyId, { action: 'create', tags: [longest] })).status, 204);
    const single: Array<[unknown, string, string]> = [
      [{}, 'KMS.0204', 'Parameters missing in the request message.'],
      [{ tag: 'DEV' }, 'KMS.0412', 'Invalid tag list.'],
      [{ tag: { key: '*' } }, 'KMS.0406', 'Invalid tag key.'],
    ];
    for (const [body, code, message] of single) {
      const r = await createOne(alice, keyId, body);
      assert.deepEqual([r.status, r.body], [400, ERR(code, message)], JSON.stringify(body));
    }
    const badId = await alice.request('GET', tagsPath(alice, 'not-a-key-id'));
    assert.deepEqual([badId.status, badId.body], [400, ERR('KMS.0205', 'Invalid key ID.')]);
    const unknown = await alice.request('GET', tagsPath(alice, crypto.randomUUID()));
    assert.deepEqual([unknown.status, unknown.body], [404, ERR('KMS.0207', 'The key does not exist.')]);
  });

  test('no tag changes on a key pending deletion (KMS.0210) or on a default key (KMS.0211); reading them still works', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    await batch(alice, keyId, { action: 'create', tags: [{ key: 'a', value: '1' }] });
    await alice.kms('schedule-key-deletion', { key_id: keyId, pending_days: '7' });
    const r = await batch(alice, keyId, { action: 'create', tags: [{ key: 'b' }] });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0210', 'The key is in Scheduled deletion state and cannot be used.')]);
    assert.deepEqual((await tagsOf(alice, keyId)).tags, [{ key: 'a', value: '1' }]);
    const dflt = await createOne(alice, await defaultKeyOf(alice), { tag: { key: 'a', value: '1' } });
    assert.deepEqual([dflt.status, dflt.body], [400, ERR('KMS.0211', 'Cannot perform this operation on Default Master Keys.')]);
  });

  test('a grantee sees no tags of a key it may use, and changes none; another account neither; nor a reader without a tag action', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    await batch(alice, keyId, { action: 'create', tags: [{ key: 'owner', value: 'acme' }] });
    await newGrant(alice, keyId, world.users.gus.id, ['encrypt-data', 'describe-key']);
    await newGrant(alice, keyId, world.users.gina.id, ['encrypt-data', 'describe-key']);
    for (const name of ['gus', 'gina', 'boss']) {
      const c = world.as(name);
      for (const r of [await c.request('GET', tagsPath(c, keyId)), await createOne(c, keyId, { tag: { key: 'x' } }),
        await batch(c, keyId, { action: 'delete', tags: [{ key: 'owner' }] }), await deleteOne(c, keyId, 'owner')]) {
        assert.deepEqual([r.status, r.body], [403, NO_ACCESS], name);
      }
    }
    // The grantee still encrypts with the key: tags are none of its business, the key is.
    assert.equal((await world.as('gus').kms('encrypt-data', { key_id: keyId, plain_text: 'x' })).status, 200);
    const reader = world.as('reader');
    const read = await reader.request('GET', tagsPath(reader, keyId));
    assert.deepEqual([read.status, read.body], [403, NO_ACCESS]);
    assert.deepEqual((await tagsOf(alice, keyId)).tags, [{ key: 'owner', value: 'acme' }]);
  });

  test('batch needs the IAM action of its own action: kms:cmk:createTags to create, kms:cmk:deleteTags to delete', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    // nobody has no policies at all.
    const r = await batch(world.as('nobody'), keyId, { action: 'create', tags: [{ key: 'a' }] });
    assert.deepEqual([r.status, r.body], [403, NO_ACCESS]);
  });

  test('create-key takes tags (same rules) and stores them with the key', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice, { tags: [{ key: 'env', value: 'prod' }, { key: 'team' }] });
    assert.deepEqual((await tagsOf(alice, keyId)).tags, [{ key: 'env', value: 'prod' }, { key: 'team', value: '' }]);
    const bad = await alice.kms('create-key', { key_alias: `t-${hex(4)}`, tags: [{ key: 'a=b' }] });
    assert.deepEqual([bad.status, bad.body], [400, ERR('KMS.0406', 'Invalid tag key.')]);
    const empty = await newKey(alice, { tags: [] });
    assert.deepEqual((await tagsOf(alice, empty)).tags, []);
  });
});

describe('project tags and resource instances', () => {
  let w: World;
  let alice: Client;
  let keys: Record<string, string>;
  before(async () => {
    w = await startWorld();
    alice = w.as('alice');
    keys = {
      web: await newKey(alice, { key_alias: 'web-frontend' }),
      db: await newKey(alice, { key_alias: 'db-primary' }),
      dbReplica: await newKey(alice, { key_alias: 'DB-replica' }),
      plain: await newKey(alice, { key_alias: 'untagged' }),
    };
    await batch(alice, keys.web, { action: 'create', tags: [{ key: 'env', value: 'prod' }, { key: 'team', value: 'web' }] });
    await batch(alice, keys.db, { action: 'create', tags: [{ key: 'env', value: 'prod' }, { key: 'team', value: 'data' }] });
    await batch(alice, keys.dbReplica, { action: 'create', tags: [{ key: 'env', value: 'test' }] });
    // Another account's tagged key never shows.
    await batch(w.as('boss'), await newKey(w.as('boss')), { action: 'create', tags: [{ key: 'env', value: 'prod' }] });
  });
  after(() => w.close());

  test('GET kms/tags lists each tag key with its distinct values, of the caller account only', async () => {
    const r = await alice.request('GET', `/v1.0/${alice.user.projectId}/kms/tags`);
    assert.deepEqual([r.status, r.body], [200, { tags: [{ key: 'env', values: ['prod', 'test'] }, { key: 'team', values: ['data', 'web'] }] }]);
    const none = await w.as('nobody').request('GET', `/v1.0/${w.users.nobody.projectId}/kms/tags`);
    assert.deepEqual([none.status, none.body], [403, NO_ACCESS]);
  });

  test('filter by tags: every key given, any of its values; an empty values list matches any value', async () => {
    const ids = async (body: unknown) =>
      sorted(((await resources(alice, { action: 'filter', ...(body as object) })).body.resources as Array<{ resource_id: string }>).map((x) => x.resource_id));
    assert.deepEqual(await ids({ tags: [{ key: 'env', values: ['prod'] }] }), sorted([keys.web, keys.db]));
    assert.deepEqual(await ids({ tags: [{ key: 'env', values: ['prod', 'test'] }, { key: 'team', values: ['data'] }] }), [keys.db]);
    assert.deepEqual(await ids({ tags: [{ key: 'team', values: [] }] }), sorted([keys.web, keys.db]));
    assert.deepEqual(await ids({ tags: [{ key: 'nope', values: [] }] }), []);
  });

  test('a filter answer: resources with the key details (all strings), name and tags, and total_count a number', async () => {
    const r = await resources(alice, { action: 'filter', tags: [{ key: 'team', values: ['web'] }] });
    assert.equal(r.status, 200);
    assert.equal(r.body.total_count, 1);
    const [one] = r.body.resources;
    assert.deepEqual(Object.keys(one), ['resource_id', 'resource_detail', 'resource_name', 'tags']);
    assert.equal(one.resource_id, keys.web);
    assert.equal(one.resource_name, 'web-frontend');
    assert.deepEqual(one.tags, [{ key: 'env', value: 'prod' }, { key: 'team', value: 'web' }]);
    const describe = await alice.kms('describe-key', { key_id: keys.web });
    assert.deepEqual(one.resource_detail, describe.body.key_info);
    for (const value of Object.values(one.resource_detail)) assert.equal(typeof value, 'string');
  });

  test('matches resource_name: a case-insensitive part of the key name; with no tags, every customer key is a candidate', async () => {
    const r = await resources(alice, { action: 'filter', matches: [{ key: 'resource_name', value: 'db-' }] });
    assert.deepEqual(sorted(r.body.resources.map((x: { resource_id: string }) => x.resource_id)), sorted([keys.db, keys.dbReplica]));
    const both = await resources(alice, { action: 'filter', tags: [{ key: 'env', values: ['test'] }], matches: [{ key: 'resource_name', value: 'DB' }] });
    assert.deepEqual(both.body.resources.map((x: { resource_id: string }) => x.resource_id), [keys.dbReplica]);
    const percent = await resources(alice, { action: 'filter', matches: [{ key: 'resource_name', value: '%' }] });
    assert.deepEqual(percent.body, { resources: [], total_count: 0 });
    const all = await resources(alice, { action: 'filter' });
    assert.deepEqual(all.body.total_count, 4);
  });

  test('count answers only total_count (a JSON number); an offset with count is KMS.0418', async () => {
    const r = await resources(alice, { action: 'count', tags: [{ key: 'env', values: ['prod'] }] });
    assert.deepEqual([r.status, r.body], [200, { total_count: 2 }]);
    const off = await resources(alice, { action: 'count', offset: '0' });
    assert.deepEqual([off.status, off.body], [400, ERR('KMS.0418', 'Offset is not required.')]);
  });

  test('limit and offset as strings or numbers page through (the provider sends "1000" and a number offset until an empty page)', async () => {
    const seen: string[] = [];
    for (let offset = 0; ; ) {
      const r = await resources(alice, { action: 'filter', limit: offset % 2 === 0 ? '1' : 1, offset });
      assert.equal(r.status, 200);
      assert.equal(r.body.total_count, 4);
      if (r.body.resources.length === 0) break;
      seen.push(...r.body.resources.map((x: { resource_id: string }) => x.resource_id));
      offset += r.body.resources.length;
    }
    assert.deepEqual(sorted(seen), sorted(Object.values(keys)));
    const big = await resources(alice, { action: 'filter', limit: '1000', offset: 0 });
    assert.equal(big.body.resources.length, 4);
  });

  test('every documented refusal of a resource query, with its whole body', async () => {
    const cases: Array<[unknown, number, string, string]> = [
      [{}, 400, 'KMS.0204', 'Parameters missing in the request message.'],
      [{ action: 'list' }, 400, 'KMS.0404', 'Invalid action.'],
      [{ action: 'filter', limit: '0' }, 400, 'KMS.1601', 'Invalid limit.'],
      [{ action: 'filter', limit: 1001 }, 400, 'KMS.1601', 'Invalid limit.'],
      [{ action: 'filter', limit: 'ten' }, 400, 'KMS.1601', 'Invalid limit.'],
      [{ action: 'filter', offset: -1 }, 400, 'KMS.0417', 'Invalid offset.'],
      [{ action: 'filter', tags: 'env' }, 400, 'KMS.0414', 'Invalid tags.'],
      [{ action: 'filter', tags: [{ values: ['a'] }] }, 400, 'KMS.0406', 'Invalid tag key.'],
      [{ action: 'filter', tags: [{ key: 'env', values: 'prod' }] }, 400, 'KMS.0414', 'Invalid tags.'],
      [{ action: 'filter', tags: [{ key: 'env' }, { key: 'env' }] }, 400, 'KMS.0414', 'Invalid tags.'],
      [{ action: 'filter', tags: [{ key: 'env', values: Array.from({ length: 11 }, (_, i) => `v${i}`) }] }, 400, 'KMS.0413', 'Too many tag values.'],
      [{ action: 'filter', tags: Array.from({ length: 11 }, (_, i) => ({ key: `k${i}` })) }, 400, 'KMS.0407', 'Invalid tag list size.'],
      [{ action: 'filter', matches: { key: 'resource_name' } }, 400, 'KMS.0415', 'Invalid matches.'],
      [{ action: 'filter', matches: [{ key: 'resource_id', value: 'x' }] }, 400, 'KMS.0403', 'Invalid match key.'],
      [{ action: 'filter', matches: [{ key: 'resource_name', value: 'x'.repeat(256) }] }, 400, 'KMS.0402', 'Invalid match value.'],
      [{ action: 'filter', matches: [{ key: 'resource_name', value: 3 }] }, 400, 'KMS.0402', 'Invalid match value.'],
    ];
    for (const [body, status, code, message] of cases) {
      const r = await resources(alice, body);
      assert.deepEqual([r.status, r.body], [status, ERR(code, message)], JSON.stringify(body));
    }
    const nobody = await resources(w.as('nobody'), { action: 'count' });
    assert.deepEqual([nobody.status, nobody.body], [403, NO_ACCESS]);
  });

  test('the new paths shadow nothing: user-instances still answers, and a wrong method on a tag path is 405 KMS.0215', async () => {
    const instances = await alice.request('GET', `/v1.0/${alice.user.projectId}/kms/user-instances`);
    assert.deepEqual([instances.status, instances.body], [200, { instance_num: 4 }]);
    for (const [method, path] of [
      ['POST', `/v1.0/${alice.user.projectId}/kms/tags`],
      ['PUT', `/v1.0/${alice.user.projectId}/kms/${keys.web}/tags`],
      ['GET', `/v1.0/${alice.user.projectId}/kms/${keys.web}/tags/action`],
      ['GET', `/v1.0/${alice.user.projectId}/kms/resource_instances/action`],
    ]) {
      const r = await alice.request(method, path, method === 'GET' ? undefined : {});
      assert.deepEqual([r.status, r.body], [405, ERR('KMS.0215', 'Request method not supported.')], `${method} ${path}`);
    }
  });

  test('a key deleted for good takes its tags along', async () => {
    const keyId = await newKey(alice);
    await batch(alice, keyId, { action: 'create', tags: [{ key: 'gone', value: 'soon' }] });
    await w.server.store.write((tx) => tx.deleteKey(keyId));
    assert.deepEqual(await w.server.store.read((tx) => tx.tagsOfKey(keyId)), []);
  });
});
