import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/core/runtime.ts';
import { startWorld, type World } from '../harness.ts';
import { POSTGRES_SKIP, freshDatabase } from '../support/postgres.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { systemCaller } from '../../src/core/access.ts';
import { RootKey } from '../../src/core/sealing.ts';
import { DEFAULT_CSMS_KEY, keyForSecret } from '../../src/core/secrets/values.ts';
import { PostgresStore } from '../../src/store/postgres.ts';
import type { Tx } from '../../src/store/store.ts';
import { CSMS_DENIED, NO_SECRET, csmsPath, newSecret, secretsPath } from '../support/csms.ts';

// The CSMS lifecycle through a kmsd on the PostgreSQL driver (the per-operation suite runs on
// SQLite; the store conformance suite covers both drivers' SQL).

let world: World;
let db: { url: string; drop: () => Promise<void> } | null = null;
before(async () => {
  if (POSTGRES_SKIP) return;
  db = await freshDatabase();
  world = await startWorld({ clock: new ManualClock(Date.now()), config: { store: db.url } });
});
after(async () => {
  await world?.close();
  await db?.drop();
});

test('on PostgreSQL: a first use that loses the race for csms/default takes the winner\'s key', { skip: POSTGRES_SKIP }, async () => {
  // The exact interleaving: B misses csms/default, A makes it and commits, then B goes on
  // (READ COMMITTED: B's next statement sees A's key). B used to throw KMS.1104.
  const store = await PostgresStore.open(db!.url, { poolSize: 2 });
  try {
    const caller = systemCaller('u', randomUUID().replaceAll('-', ''), 'region-race');
    const rootKey = new RootKey(randomBytes(32));
    let aCommitted!: () => void;
    const committed = new Promise<void>((resolve) => { aCommitted = resolve; });
    const b = store.write(async (tx) => {
      let first = true;
      const paused = new Proxy(tx, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target);
          if (prop !== 'findKeyByAlias' || !first) return typeof value === 'function' ? value.bind(target) : value;
          first = false;
          return async (...args: Parameters<Tx['findKeyByAlias']>) => {
            const found = await target.findKeyByAlias(...args);
            await committed;
            return found;
          };
        },
      });
      return keyForSecret(paused, caller, rootKey, undefined, Date.now());
    });
    const a = await store.write((tx) => keyForSecret(tx, caller, rootKey, undefined, Date.now()));
    aCommitted();
    const fromB = await b;
    assert.deepEqual([fromB.keyId, fromB.alias], [a.keyId, DEFAULT_CSMS_KEY]);
  } finally {
    await store.close();
  }
});

test('on PostgreSQL: 16 concurrent first creates in an account all succeed and share one csms/default', { skip: POSTGRES_SKIP }, async () => {
  // Both transactions of a race miss csms/default; the loser used to meet the winner's key in
  // createKey (KMS.1104) and answer 400 CSMS.0002.
  const boss = world.as('boss');
  const replies = await Promise.all(Array.from({ length: 16 }, (_, i) => boss.request('POST', secretsPath(boss), { name: `race-${i}`, secret_string: `v-${i}` })));
  assert.deepEqual(replies.map((r) => r.status), Array(16).fill(200));
  const keyIds = new Set(replies.map((r) => r.body.secret.kms_key_id));
  assert.equal(keyIds.size, 1);
  const keys = await boss.request('POST', `/v1.0/${boss.user.projectId}/kms/list-keys`, { limit: '1000' });
  const defaults = keys.body.key_details.filter((k: { key_alias: string }) => k.key_alias === 'csms/default');
  assert.deepEqual(defaults.map((k: { key_id: string }) => k.key_id), [...keyIds]);
  for (let i = 0; i < 16; i++) {
    const r = await boss.request('GET', secretsPath(boss, `/race-${i}/versions/latest`));
    assert.deepEqual([r.status, r.body.version.secret_string], [200, `v-${i}`]);
  }
});

test('on PostgreSQL: create, version, stage, tag, list, schedule and restore, delete', { skip: POSTGRES_SKIP }, async () => {
  const admin = world.as('admin');
  const { body } = await newSecret(admin, { secret_string: 'pg-one', tags: [{ key: 'env', value: 'pg' }] });
  const name = body.secret.name;
  const v2 = await admin.request('POST', secretsPath(admin, `/${name}/versions`), { secret_string: 'pg-two' });
  assert.deepEqual([v2.status, v2.body.version_metadata.id], [200, 'v2']);
  assert.equal((await admin.request('GET', secretsPath(admin, `/${name}/versions/latest`))).body.version.secret_string, 'pg-two');
  assert.equal((await admin.request('PUT', secretsPath(admin, `/${name}/stages/blue`), { version_id: 'v1' })).status, 200);
  const versions = await admin.request('GET', secretsPath(admin, `/${name}/versions`));
  assert.deepEqual(versions.body.version_metadatas.map((v: { version_stages: string[] }) => v.version_stages), [['SYSPREVIOUS', 'blue'], ['SYSCURRENT']]);
  assert.deepEqual((await admin.request('GET', csmsPath(admin, `/${body.secret.id}/tags`))).body.tags, [{ key: 'env', value: 'pg' }]);
  assert.deepEqual((await admin.request('GET', secretsPath(admin))).body.secrets.map((s: { name: string }) => s.name), [name]);
  assert.equal((await admin.request('POST', secretsPath(admin, `/${name}/scheduled-deleted-tasks/create`), { recovery_window_in_days: 30 })).body.secret.state, 'PENDING_DELETE');
  assert.equal((await admin.request('POST', secretsPath(admin, `/${name}/scheduled-deleted-tasks/cancel`))).body.secret.state, 'ENABLED');
  const refused = await world.as('nobody').request('GET', secretsPath(admin, `/${name}`));
  assert.deepEqual([refused.status, refused.body], [403, CSMS_DENIED]);
  assert.equal((await admin.request('DELETE', secretsPath(admin, `/${name}`))).status, 204);
  const gone = await admin.request('GET', secretsPath(admin, `/${name}`));
  assert.deepEqual([gone.status, gone.body], [404, NO_SECRET]);
});
