import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Secret, SecretTagFilter, SecretVersion } from '../core/secrets/model.ts';
import type { Store } from './store.ts';

// The CSMS part of the store conformance suite (tx.secrets), run by store.test.ts against every driver.

type WithStore = (fn: (store: Store, another: () => Promise<Store>) => Promise<void>) => () => Promise<void>;

export function secret(overrides: Partial<Secret> = {}): Secret {
  return {
    secretId: randomUUID(), accountId: 'acct', region: 'cn-north-4', name: `s-${randomUUID().slice(0, 8)}`, kmsKeyId: randomUUID(),
    description: 'd', secretType: 'COMMON', state: 'ENABLED', createTime: 1000, updateTime: 1000, scheduledDeleteTime: null,
    versionCount: 1, ...overrides,
  };
}

const version = (s: Secret, n: number, overrides: Partial<SecretVersion> = {}): SecretVersion => ({
  secretId: s.secretId, versionId: `v${n}`, kmsKeyId: s.kmsKeyId, kind: 'string', sealed: Buffer.from([n, 1, 2]),
  createTime: 1000 + n, expireTime: null, ...overrides,
});

export function secretsConformance(withStore: WithStore): void {
  test('secrets: a secret round-trips every field, by id and by account, region and name; update; delete takes versions, stages and tags', withStore(async (store) => {
    const s = secret({ scheduledDeleteTime: 9, state: 'PENDING_DELETE' });
    await store.write(async (tx) => {
      await tx.secrets.insertSecret(s);
      await tx.secrets.insertVersion(version(s, 1, { expireTime: 77, kind: 'binary' }));
      await tx.secrets.putStage({ secretId: s.secretId, name: 'SYSCURRENT', versionId: 'v1', updateTime: 5 });
      await tx.secrets.putSecretTag(s.secretId, { key: 'k', value: 'v' }, 5);
    });
    assert.deepEqual(await store.read((tx) => tx.secrets.getSecret(s.secretId)), s);
    assert.deepEqual(await store.read((tx) => tx.secrets.findSecret('acct', 'cn-north-4', s.name, { lock: false })), s);
    assert.equal(await store.read((tx) => tx.secrets.findSecret('other', 'cn-north-4', s.name)), null);
    assert.deepEqual(await store.read((tx) => tx.secrets.getVersion(s.secretId, 'v1')), version(s, 1, { expireTime: 77, kind: 'binary' }));
    await store.write((tx) => tx.secrets.updateSecret({ ...s, description: 'e', state: 'ENABLED', scheduledDeleteTime: null }));
    assert.deepEqual(await store.write((tx) => tx.secrets.getSecret(s.secretId, { lock: true })), { ...s, description: 'e', state: 'ENABLED', scheduledDeleteTime: null });
    await store.write((tx) => tx.secrets.deleteSecret(s.secretId));
    assert.deepEqual(await store.read(async (tx) => [
      await tx.secrets.getSecret(s.secretId), await tx.secrets.listVersions(s.secretId), await tx.secrets.stagesOf(s.secretId), await tx.secrets.tagsOfSecret(s.secretId),
    ]), [null, [], [], []]);
  }));

  test('secrets: a name is unique per account and region, not across them', withStore(async (store) => {
    const s = secret();
    await store.write((tx) => tx.secrets.insertSecret(s));
    await assert.rejects(store.write((tx) => tx.secrets.insertSecret(secret({ name: s.name }))));
    await store.write(async (tx) => {
      await tx.secrets.insertSecret(secret({ name: s.name, accountId: 'other' }));
      await tx.secrets.insertSecret(secret({ name: s.name, region: 'eu-west-0' }));
    });
    assert.equal(await store.read((tx) => tx.secrets.countSecrets('acct', 'cn-north-4')), 1);
  }));

  test('secrets: listed by name after a marker, per account and region; due deletions by time', withStore(async (store) => {
    const made = ['b', 'a', 'c'].map((n, i) => secret({ name: `${n}-list`, accountId: 'lister', scheduledDeleteTime: i === 1 ? 50 : null }));
    await store.write(async (tx) => {
      for (const s of made) await tx.secrets.insertSecret(s);
      await tx.secrets.insertSecret(secret({ name: 'a-other', accountId: 'someone' }));
    });
    const names = async (after: string | undefined, limit: number) => (await store.read((tx) => tx.secrets.listSecrets('lister', 'cn-north-4', after, limit))).map((s) => s.name);
    assert.deepEqual(await names(undefined, 10), ['a-list', 'b-list', 'c-list']);
    assert.deepEqual(await names('a-list', 1), ['b-list']);
    // liveAt leaves out secrets whose deletion time has come (a-list's is 50), in SQL so paging holds.
    const liveAt = async (at: number, limit: number) => (await store.read((tx) => tx.secrets.listSecrets('lister', 'cn-north-4', undefined, limit, at))).map((s) => s.name);
    assert.deepEqual(await liveAt(50, 1), ['b-list']);
    assert.deepEqual(await liveAt(49, 1), ['a-list']);
    await store.write(async (tx) => {
      await tx.secrets.putSecretTag(made[1].secretId, { key: 'due', value: 'a' }, 1);
      await tx.secrets.putSecretTag(made[0].secretId, { key: 'due', value: 'b' }, 1);
    });
    assert.deepEqual(await store.read((tx) => tx.secrets.projectSecretTags('lister', 'cn-north-4', 50)), [{ key: 'due', values: ['b'] }]);
    assert.deepEqual(await store.read((tx) => tx.secrets.projectSecretTags('lister', 'cn-north-4', 49)), [{ key: 'due', values: ['a', 'b'] }]);
    const byTag = (at: number) => store.read((tx) => tx.secrets.secretsByTags('lister', 'cn-north-4', { tags: [{ key: 'due', values: [] }], liveAt: at }, 0, 10));
    assert.deepEqual((await byTag(50)).items.map((x) => x.name), ['b-list']);
    assert.deepEqual((await byTag(49)).total, 2);
    assert.deepEqual(await store.read((tx) => tx.secrets.secretsDueForDeletion(50, 10)), [made[1].secretId]);
    assert.deepEqual(await store.read((tx) => tx.secrets.secretsDueForDeletion(49, 10)), []);
  }));

  test('secrets: versions list in number order (v10 after v9); expiry updates; stages move; tags by key', withStore(async (store) => {
    const s = secret();
    await store.write(async (tx) => {
      await tx.secrets.insertSecret(s);
      for (const n of [10, 9, 1]) await tx.secrets.insertVersion(version(s, n));
      await tx.secrets.updateVersionExpiry(s.secretId, 'v9', 123);
      await tx.secrets.putStage({ secretId: s.secretId, name: 'SYSCURRENT', versionId: 'v9', updateTime: 1 });
      await tx.secrets.putStage({ secretId: s.secretId, name: 'SYSCURRENT', versionId: 'v10', updateTime: 2 });
      await tx.secrets.putStage({ secretId: s.secretId, name: 'blue', versionId: 'v1', updateTime: 3 });
      await tx.secrets.deleteVersion(s.secretId, 'v1');
      await tx.secrets.putSecretTag(s.secretId, { key: 'env', value: 'dev' }, 1);
      await tx.secrets.putSecretTag(s.secretId, { key: 'env', value: 'prod' }, 2);
      await tx.secrets.putSecretTag(s.secretId, { key: 'app', value: '' }, 2);
    });
    const versions = await store.read((tx) => tx.secrets.listVersions(s.secretId));
    assert.deepEqual(versions.map((v) => [v.versionId, v.expireTime]), [['v9', 123], ['v10', null]]);
    assert.deepEqual(await store.read((tx) => tx.secrets.stagesOf(s.secretId)), [
      { secretId: s.secretId, name: 'SYSCURRENT', versionId: 'v10', updateTime: 2 },
      { secretId: s.secretId, name: 'blue', versionId: 'v1', updateTime: 3 },
    ]);
    assert.equal(await store.write((tx) => tx.secrets.deleteStage(s.secretId, 'blue')), true);
    assert.equal(await store.write((tx) => tx.secrets.deleteStage(s.secretId, 'blue')), false);
    assert.deepEqual(await store.read((tx) => tx.secrets.tagsOfSecret(s.secretId)), [{ key: 'app', value: '' }, { key: 'env', value: 'prod' }]);
    assert.equal(await store.write((tx) => tx.secrets.deleteSecretTag(s.secretId, 'app')), true);
    assert.equal(await store.write((tx) => tx.secrets.deleteSecretTag(s.secretId, 'app')), false);
  }));

  test('secrets: project tags and tag queries per account and region', withStore(async (store) => {
    const [a, b, c] = [secret({ accountId: 'tagger', name: 'a-db', createTime: 1 }), secret({ accountId: 'tagger', name: 'b-api', createTime: 2 }), secret({ accountId: 'else', createTime: 3 })];
    await store.write(async (tx) => {
      for (const s of [a, b, c]) await tx.secrets.insertSecret(s);
      await tx.secrets.putSecretTag(a.secretId, { key: 'env', value: 'dev' }, 1);
      await tx.secrets.putSecretTag(b.secretId, { key: 'env', value: 'prod' }, 1);
      await tx.secrets.putSecretTag(c.secretId, { key: 'env', value: 'x' }, 1);
    });
    assert.deepEqual(await store.read((tx) => tx.secrets.projectSecretTags('tagger', 'cn-north-4')), [{ key: 'env', values: ['dev', 'prod'] }]);
    const query = (filter: SecretTagFilter, offset = 0, limit = 10) =>
      store.read((tx) => tx.secrets.secretsByTags('tagger', 'cn-north-4', filter, offset, limit));
    assert.deepEqual((await query({ tags: [{ key: 'env', values: [] }] })).items.map((s) => s.name), ['a-db', 'b-api']);
    assert.deepEqual((await query({ tags: [{ key: 'env', values: ['prod'] }] })).items.map((s) => s.name), ['b-api']);
    assert.deepEqual(await query({ tags: [], name: 'DB' }, 0, 0), { items: [], total: 1 });
    const page = await query({ tags: [] }, 1, 1);
    assert.deepEqual([page.items.map((s) => s.name), page.total], [['b-api'], 2]);
  }));
}
