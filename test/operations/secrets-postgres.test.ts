import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/core/runtime.ts';
import { startWorld, type World } from '../harness.ts';
import { POSTGRES_SKIP, freshDatabase } from '../support/postgres.ts';
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
