import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/core/runtime.ts';
import { Client, ERR, hex, newKey, startWorld, type World } from '../harness.ts';
import { deleteDueSecrets } from '../../src/core/secrets/secrets.ts';
import { BAD_PARAM, CSMS_DENIED, CSMS_ERR, KEY_UNUSABLE, NO_SECRET, addUsers, csmsPath, newSecret, secretName, secretsPath } from '../support/csms.ts';

// CSMS secrets on the same server (issue #26): every operation through the real server, whole
// bodies. Times are the world's manual clock, in ms (DECISIONS.csmsTimestamps).

// Now: AK/SK signatures are checked against the server clock (15 minutes of skew).
const clock = new ManualClock(Date.now());
let world: World;
let admin: Client;
before(async () => {
  world = await startWorld({ clock });
  admin = world.as('admin');
  await addUsers(world, [
    { name: 'secretary', policies: ['csms:*:*', 'kms:*:*'] },
    { name: 'nokms', policies: ['csms:*:*'] },
    { name: 'lister', policies: ['csms:secret:list'] },
    { name: 'scoped', policies: [{ Version: '5.0', Statement: [{ Effect: 'Allow', Action: ['csms:secret:get', 'csms:secret:getVersion'], Resource: ['csms:*:*:secret:team-*'] }] }] },
    { name: 'tagged', policies: [{ Version: '5.0', Statement: [{ Effect: 'Allow', Action: ['csms:secret:get'], Condition: { StringEquals: { 'g:ResourceTag/env': ['prod'] } } }] }] },
  ]);
});
after(() => world.close());

const now = () => clock.now();
const get = (c: Client, rest: string) => c.request('GET', secretsPath(c, rest));

function secretBody(name: string, id: string, keyId: string, extra: Record<string, unknown> = {}) {
  return {
    id, name, state: 'ENABLED', kms_key_id: keyId, description: '', create_time: now(), update_time: now(),
    scheduled_delete_time: null, secret_type: 'COMMON', auto_rotation: false, event_subscriptions: [], enterprise_project_id: '0', ...extra,
  };
}

describe('create, show, update, delete', () => {
  test('create under the default key csms/default, made on first use: 200 {secret}; show answers the same', async () => {
    const name = secretName();
    const r = await admin.request('POST', secretsPath(admin), { name, secret_string: 'db-password' });
    assert.equal(r.status, 200, r.text);
    const keys = await admin.kms('list-keys', { limit: '1000' });
    const described = await Promise.all(keys.body.keys.map((id: string) => admin.kms('describe-key', { key_id: id })));
    const csmsDefault = described.map((d) => d.body.key_info).find((k) => k.key_alias === 'csms/default');
    assert.equal(csmsDefault.default_key_flag, '1');
    assert.deepEqual(r.body, { secret: secretBody(name, r.body.secret.id, csmsDefault.key_id) });
    assert.match(r.body.secret.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual((await get(admin, `/${name}`)).body, r.body);
    // A second secret reuses the same default key.
    assert.equal((await newSecret(admin)).body.secret.kms_key_id, csmsDefault.key_id);
  });

  test('create under a named key, with a description and tags; the first version is v1 and SYSCURRENT', async () => {
    const keyId = await newKey(admin);
    const name = secretName();
    const r = await admin.request('POST', secretsPath(admin), {
      name, kms_key_id: keyId, description: 'the db', secret_binary: Buffer.from([0, 1, 2, 255]).toString('base64'), tags: [{ key: 'env', value: 'dev' }],
    });
    assert.deepEqual([r.status, r.body], [200, { secret: secretBody(name, r.body.secret.id, keyId, { description: 'the db' }) }]);
    const version = await get(admin, `/${name}/versions/v1`);
    assert.deepEqual([version.status, version.body], [200, {
      version: {
        version_metadata: { id: 'v1', create_time: now(), kms_key_id: keyId, secret_name: name, version_stages: ['SYSCURRENT'] },
        secret_binary: 'AAEC/w==',
      },
    }]);
    const tags = await admin.request('GET', csmsPath(admin, `/${r.body.secret.id}/tags`));
    assert.deepEqual(tags.body, { tags: [{ key: 'env', value: 'dev' }], sys_tags: [] });
  });

  test('bad creations: CSMS.0002 in the flat CSMS body', async () => {
    const bad = [
      { name: 'has space', secret_string: 'x' },
      { name: '.', secret_string: 'x' },
      { name: '..', secret_string: 'x' },
      { name: '.'.repeat(64), secret_string: 'x' },
      { name: 'x'.repeat(65), secret_string: 'x' },
      { name: secretName() },
      { name: secretName(), secret_string: 'x', secret_binary: 'eA==' },
      { name: secretName(), secret_binary: 'not base64!' },
      { name: secretName(), secret_string: 'x'.repeat(32 * 1024 + 1) },
      { name: secretName(), secret_string: 'x', kms_key_id: 'not-a-key' },
      { name: secretName(), secret_string: 'x', kms_key_id: crypto.randomUUID() },
      { name: secretName(), secret_string: 'x', description: 'd'.repeat(2049) },
      { name: secretName(), secret_string: 'x', secret_type: 'RDS-FG' },
      { name: secretName(), secret_string: 'x', tags: [{ key: 'a=b', value: 'x' }] },
    ];
    for (const body of bad) {
      const r = await admin.request('POST', secretsPath(admin), body);
      assert.deepEqual([r.status, r.body], [400, BAD_PARAM], JSON.stringify(body).slice(0, 80));
    }
    const missing = await admin.request('POST', secretsPath(admin), { secret_string: 'x' });
    assert.deepEqual([missing.status, missing.body], [400, BAD_PARAM]);
    const notJson = await admin.request('POST', secretsPath(admin), '{"name":');
    assert.deepEqual([notJson.status, notJson.body], [400, CSMS_ERR('CSMS.0004', 'The requested body format is wrong.')]);
  });

  test('a 32 KiB value in the worst JSON escaping fits (create and new version); a longer body is CSMS.0002', async () => {
    // Every byte a control character: JSON.stringify writes each as \u00XX, six characters.
    const worst = '\u0001'.repeat(32 * 1024);
    const description = '\u0002'.repeat(2048);
    const tags = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: 'v'.repeat(43) }));
    const name = secretName();
    const body = { name, secret_string: worst, description, tags };
    assert.ok(JSON.stringify(body).length > 6 * 32 * 1024 + 6 * 2048);
    const created = await admin.request('POST', secretsPath(admin), body);
    assert.equal(created.status, 200, created.text.slice(0, 200));
    const v2 = await admin.request('POST', secretsPath(admin, `/${name}/versions`), { secret_string: worst.replaceAll('\u0001', '\u001f'), version_stages: ['blue'] });
    assert.deepEqual([v2.status, v2.body.version_metadata.id], [200, 'v2']);
    assert.equal((await get(admin, `/${name}/versions/v1`)).body.version.secret_string, worst);
    assert.equal((await get(admin, `/${name}/versions/v2`)).body.version.secret_string, '\u001f'.repeat(32 * 1024));
    // Past 256 KiB: a value too long, the answer to any value past 32 KiB.
    const tooLong = { name: secretName(), secret_string: worst, description: 'x'.repeat(64 * 1024) };
    assert.ok(JSON.stringify(tooLong).length > 256 * 1024);
    const refused = await admin.request('POST', secretsPath(admin), tooLong);
    assert.deepEqual([refused.status, refused.body], [400, BAD_PARAM]);
    const refusedVersion = await admin.request('POST', secretsPath(admin, `/${name}/versions`), { secret_string: 'x'.repeat(257 * 1024) });
    assert.deepEqual([refusedVersion.status, refusedVersion.body], [400, BAD_PARAM]);
    // Other routes keep --body-limit (64 KiB): a KMS operation, and a CSMS write carrying no value.
    const kmsLong = await admin.kms('encrypt-data', { key_id: crypto.randomUUID(), plain_text: 'x'.repeat(70 * 1024) });
    assert.deepEqual([kmsLong.status, kmsLong.body], [400, ERR('KMS.0203', 'Request message too long.')]);
    const updateLong = await admin.request('PUT', secretsPath(admin, `/${name}`), { description: 'x'.repeat(70 * 1024) });
    assert.deepEqual([updateLong.status, updateLong.body], [400, BAD_PARAM]);
  });

  test('names with periods but not only periods are served; stages of periods only are refused', async () => {
    for (const name of [`.${secretName()}`, `a..${secretName()}`, `${secretName()}.`]) {
      const r = await admin.request('POST', secretsPath(admin), { name, secret_string: 'x' });
      assert.equal(r.status, 200, name);
      assert.equal((await get(admin, `/${name}`)).body.secret.name, name);
    }
    const { body } = await newSecret(admin);
    const stage = await admin.request('POST', secretsPath(admin, `/${body.secret.name}/versions`), { secret_string: 'y', version_stages: ['..'] });
    assert.deepEqual([stage.status, stage.body], [400, BAD_PARAM]);
  });

  test('JSON types as CSMS takes them: secret_string null, a binary number, recovery_window_in_days "7" are CSMS.0002', async () => {
    for (const body of [{ secret_string: null }, { secret_string: 7 }, { secret_string: undefined, secret_binary: null }, { secret_string: undefined, secret_binary: 12 }]) {
      const r = await admin.request('POST', secretsPath(admin), { name: secretName(), ...body });
      assert.deepEqual([r.status, r.body], [400, BAD_PARAM], JSON.stringify(body));
    }
    const { body } = await newSecret(admin);
    const version = await admin.request('POST', secretsPath(admin, `/${body.secret.name}/versions`), { secret_string: null });
    assert.deepEqual([version.status, version.body], [400, BAD_PARAM]);
    for (const days of ['7', null, 7.5]) {
      const r = await admin.request('POST', secretsPath(admin, `/${body.secret.name}/scheduled-deleted-tasks/create`), { recovery_window_in_days: days });
      assert.deepEqual([r.status, r.body], [400, BAD_PARAM], String(days));
    }
    assert.equal((await get(admin, `/${body.secret.name}`)).body.secret.state, 'ENABLED');
  });

  test('update-secret refuses a disabled or pending-deletion KMS key (CSMS.0401) and keeps the old one', async () => {
    const { body } = await newSecret(admin);
    const disabled = await newKey(admin);
    await admin.kms('disable-key', { key_id: disabled });
    const pending = await newKey(admin);
    await admin.kms('schedule-key-deletion', { key_id: pending, pending_days: '7' });
    for (const keyId of [disabled, pending]) {
      const r = await admin.request('PUT', secretsPath(admin, `/${body.secret.name}`), { kms_key_id: keyId });
      assert.deepEqual([r.status, r.body], [400, KEY_UNUSABLE]);
    }
    assert.equal((await get(admin, `/${body.secret.name}`)).body.secret.kms_key_id, body.secret.kms_key_id);
  });

  test('a name is taken once per project: CSMS.0201', async () => {
    const { body } = await newSecret(admin);
    const r = await admin.request('POST', secretsPath(admin), { name: body.secret.name, secret_string: 'again' });
    assert.deepEqual([r.status, r.body], [400, CSMS_ERR('CSMS.0201', 'The secret name already exists.')]);
  });

  test('update metadata: description ("" clears it) and the key later versions use; the value stays', async () => {
    const { body } = await newSecret(admin, { description: 'old' });
    const name = body.secret.name;
    const keyId = await newKey(admin);
    clock.advance(1000);
    const r = await admin.request('PUT', secretsPath(admin, `/${name}`), { kms_key_id: keyId, description: '' });
    assert.deepEqual([r.status, r.body], [200, { secret: { ...body.secret, kms_key_id: keyId, description: '', update_time: now() } }]);
    const v2 = await admin.request('POST', secretsPath(admin, `/${name}/versions`), { secret_string: 'new' });
    assert.equal(v2.body.version_metadata.kms_key_id, keyId);
    // Rotation is not served: turning it on is refused.
    const rotation = await admin.request('PUT', secretsPath(admin, `/${name}`), { auto_rotation: true, rotation_period: '30d' });
    assert.deepEqual([rotation.status, rotation.body], [400, BAD_PARAM]);
    assert.equal((await get(admin, `/${name}/versions/v1`)).body.version.version_metadata.kms_key_id, body.secret.kms_key_id);
  });

  test('delete at once: 204 with no body; then 404 CSMS.0005 everywhere', async () => {
    const { body } = await newSecret(admin);
    const name = body.secret.name;
    const r = await admin.request('DELETE', secretsPath(admin, `/${name}`));
    assert.deepEqual([r.status, r.text], [204, '']);
    for (const path of [`/${name}`, `/${name}/versions`, `/${name}/versions/v1`, `/${name}/stages/SYSCURRENT`]) {
      const gone = await get(admin, path);
      assert.deepEqual([gone.status, gone.body], [404, NO_SECRET], path);
    }
    const again = await admin.request('DELETE', secretsPath(admin, `/${name}`));
    assert.deepEqual([again.status, again.body], [404, NO_SECRET]);
  });
});

describe('list with paging', () => {
  test('by name, limit and marker; metadata only, never a value; page_info', async () => {
    const c = world.as('boss');
    const names = ['c-1', 'a-1', 'b-1'].map((n) => `${n}-${hex(3)}`);
    for (const name of names) await newSecret(c, { name });
    const first = await c.request('GET', `${secretsPath(c)}?limit=2`);
    const sorted = [...names].sort();
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.secrets.map((s: { name: string }) => s.name), sorted.slice(0, 2));
    assert.deepEqual(first.body.page_info, { next_marker: sorted[1], previous_marker: null, current_count: 2 });
    assert.ok(first.body.secrets.every((s: Record<string, unknown>) => !('secret_string' in s) && !('secret_binary' in s)));
    const second = await c.request('GET', `${secretsPath(c)}?limit=2&marker=${sorted[1]}`);
    assert.deepEqual(second.body.secrets.map((s: { name: string }) => s.name), sorted.slice(2));
    assert.deepEqual(second.body.page_info, { next_marker: null, previous_marker: sorted[1], current_count: 1 });
    for (const q of ['limit=0', 'limit=1001', 'limit=x', 'marker=bad%20marker']) {
      const r = await c.request('GET', `${secretsPath(c)}?${q}`);
      assert.deepEqual([r.status, r.body], [400, BAD_PARAM], q);
    }
  });
});

describe('versions and stages', () => {
  test('a new version is SYSCURRENT, the previous one SYSPREVIOUS; latest is the SYSCURRENT version', async () => {
    const { body } = await newSecret(admin, { secret_string: 'one' });
    const name = body.secret.name;
    clock.advance(10);
    const r = await admin.request('POST', secretsPath(admin, `/${name}/versions`), { secret_string: 'two', expire_time: now() + 5000 });
    assert.deepEqual([r.status, r.body], [200, {
      version_metadata: { id: 'v2', create_time: now(), expire_time: now() + 5000, kms_key_id: body.secret.kms_key_id, secret_name: name, version_stages: ['SYSCURRENT'] },
    }]);
    const list = await get(admin, `/${name}/versions`);
    assert.deepEqual(list.body.version_metadatas.map((v: { id: string; version_stages: string[] }) => [v.id, v.version_stages]), [['v1', ['SYSPREVIOUS']], ['v2', ['SYSCURRENT']]]);
    assert.deepEqual(list.body.page_info, { next_marker: null, previous_marker: null, current_count: 2 });
    assert.equal((await get(admin, `/${name}/versions/latest`)).body.version.secret_string, 'two');
    // A stage moved back: latest follows SYSCURRENT (DECISIONS.csmsLatest).
    const moved = await admin.request('PUT', secretsPath(admin, `/${name}/stages/SYSCURRENT`), { version_id: 'v1' });
    assert.deepEqual([moved.status, moved.body], [200, { stage: { name: 'SYSCURRENT', update_time: now(), secret_name: name, version_id: 'v1' } }]);
    assert.equal((await get(admin, `/${name}/versions/latest`)).body.version.secret_string, 'one');
    const after = await get(admin, `/${name}/versions`);
    assert.deepEqual(after.body.version_metadatas.map((v: { version_stages: string[] }) => v.version_stages), [['SYSCURRENT'], ['SYSPREVIOUS']]);
  });

  test('a version made with custom stages; a stage marks one version (moving takes it off the other); show and delete stages', async () => {
    const { body } = await newSecret(admin);
    const name = body.secret.name;
    const v2 = await admin.request('POST', secretsPath(admin, `/${name}/versions`), { secret_string: 'b', version_stages: ['blue'] });
    assert.deepEqual(v2.body.version_metadata.version_stages, ['blue']);
    assert.equal((await get(admin, '/' + name + '/versions/latest')).body.version.version_metadata.id, 'v1');
    const put = await admin.request('PUT', secretsPath(admin, `/${name}/stages/blue`), { version_id: 'v1' });
    assert.equal(put.status, 200);
    const versions = (await get(admin, `/${name}/versions`)).body.version_metadatas;
    assert.deepEqual(versions.map((v: { version_stages: string[] }) => v.version_stages), [['SYSCURRENT', 'blue'], []]);
    const shown = await get(admin, `/${name}/stages/blue`);
    assert.deepEqual(shown.body, { stage: { name: 'blue', update_time: now(), secret_name: name, version_id: 'v1' } });
    const del = await admin.request('DELETE', secretsPath(admin, `/${name}/stages/blue`));
    assert.deepEqual([del.status, del.text], [204, '']);
    const gone = await get(admin, `/${name}/stages/blue`);
    assert.deepEqual([gone.status, gone.body], [404, NO_SECRET]);
    for (const system of ['SYSCURRENT', 'SYSPREVIOUS']) {
      const r = await admin.request('DELETE', secretsPath(admin, `/${name}/stages/${system}`));
      assert.deepEqual([r.status, r.body], [400, CSMS_ERR('CSMS.0105', 'Can not delete the system internal stage.')], system);
    }
    const noVersion = await admin.request('PUT', secretsPath(admin, `/${name}/stages/green`), { version_id: 'v9' });
    assert.deepEqual([noVersion.status, noVersion.body], [404, NO_SECRET]);
  });

  test('at most 12 custom stages: the 13th is CSMS.0203', async () => {
    const { body } = await newSecret(admin);
    const name = body.secret.name;
    for (let i = 1; i <= 12; i++) assert.equal((await admin.request('PUT', secretsPath(admin, `/${name}/stages/st${i}`), { version_id: 'v1' })).status, 200);
    const r = await admin.request('PUT', secretsPath(admin, `/${name}/stages/st13`), { version_id: 'v1' });
    assert.deepEqual([r.status, r.body], [400, CSMS_ERR('CSMS.0203', 'The number of stage has reached the upper limit.')]);
    assert.equal((await admin.request('PUT', secretsPath(admin, `/${name}/stages/st12`), { version_id: 'v1' })).status, 200);
  });

  test('past 20 versions the oldest version without a stage goes', async () => {
    const { body } = await newSecret(admin);
    const name = body.secret.name;
    for (let i = 2; i <= 21; i++) assert.equal((await admin.request('POST', secretsPath(admin, `/${name}/versions`), { secret_string: `v${i}` })).status, 200);
    const ids = (await get(admin, `/${name}/versions?limit=100`)).body.version_metadatas.map((v: { id: string }) => v.id);
    assert.deepEqual(ids, Array.from({ length: 20 }, (_, i) => `v${i + 2}`));
    const paged = await get(admin, `/${name}/versions?limit=5&marker=v6`);
    assert.deepEqual(paged.body.version_metadatas.map((v: { id: string }) => v.id), ['v7', 'v8', 'v9', 'v10', 'v11']);
    assert.deepEqual(paged.body.page_info, { next_marker: 'v11', previous_marker: 'v6', current_count: 5 });
  });

  test('update a version\'s expire_time', async () => {
    const { body } = await newSecret(admin);
    const r = await admin.request('PUT', secretsPath(admin, `/${body.secret.name}/versions/v1`), { expire_time: 1893456000000 });
    assert.deepEqual([r.status, r.body], [200, {
      version_metadata: { id: 'v1', create_time: body.secret.create_time, expire_time: 1893456000000, kms_key_id: body.secret.kms_key_id, secret_name: body.secret.name, version_stages: ['SYSCURRENT'] },
    }]);
  });
});

describe('scheduled deletion, restore, housekeeping', () => {
  test('PENDING_DELETE: metadata visible, value unreadable, no new versions; restore; window 7-30 days', async () => {
    const { body } = await newSecret(admin);
    const name = body.secret.name;
    for (const days of [6, 31, 'x']) {
      const r = await admin.request('POST', secretsPath(admin, `/${name}/scheduled-deleted-tasks/create`), { recovery_window_in_days: days });
      assert.deepEqual([r.status, r.body], [400, BAD_PARAM], String(days));
    }
    const r = await admin.request('POST', secretsPath(admin, `/${name}/scheduled-deleted-tasks/create`), { recovery_window_in_days: 7 });
    const pending = { ...body.secret, state: 'PENDING_DELETE', scheduled_delete_time: now() + 7 * 86_400_000, update_time: now() };
    assert.deepEqual([r.status, r.body], [200, { secret: pending }]);
    assert.deepEqual((await get(admin, `/${name}`)).body, { secret: pending });
    const value = await get(admin, `/${name}/versions/v1`);
    assert.deepEqual([value.status, value.body], [400, CSMS_ERR('CSMS.0103', 'The secret is in the scheduled deletion state.')]);
    const version = await admin.request('POST', secretsPath(admin, `/${name}/versions`), { secret_string: 'x' });
    assert.deepEqual([version.status, version.body], [400, CSMS_ERR('CSMS.0103', 'The secret is in the scheduled deletion state.')]);
    const twice = await admin.request('POST', secretsPath(admin, `/${name}/scheduled-deleted-tasks/create`), { recovery_window_in_days: 7 });
    assert.deepEqual([twice.status, twice.body], [400, CSMS_ERR('CSMS.0107', 'The secret is in schedule delete state.')]);
    const restored = await admin.request('POST', secretsPath(admin, `/${name}/scheduled-deleted-tasks/cancel`));
    assert.deepEqual([restored.status, restored.body], [200, { secret: { ...body.secret, update_time: now() } }]);
    assert.equal((await get(admin, `/${name}/versions/v1`)).body.version.secret_string, 'p@ss-1');
    const notPending = await admin.request('POST', secretsPath(admin, `/${name}/scheduled-deleted-tasks/cancel`));
    assert.deepEqual([notPending.status, notPending.body], [400, CSMS_ERR('CSMS.0108', 'The secret is not in schedule delete state.')]);
  });

  test('when the window ends the secret is gone at once (404), and housekeeping removes its rows', async () => {
    const { body } = await newSecret(admin);
    const name = body.secret.name;
    await admin.request('POST', secretsPath(admin, `/${name}/scheduled-deleted-tasks/create`), { recovery_window_in_days: 7 });
    const start = clock.now();
    clock.advance(7 * 86_400_000);
    try {
      // A fresh token: the old one has expired in the meantime.
      const later = new Client(world, world.users.admin, 'token');
      const gone = await later.request('GET', secretsPath(later, `/${name}`));
      assert.deepEqual([gone.status, gone.body], [404, NO_SECRET]);
      await world.server.store.write((tx) => deleteDueSecrets(tx, clock.now()));
      assert.equal(await world.server.store.read((tx) => tx.secrets.getSecret(body.secret.id)), null);
      // The name is free again.
      assert.equal((await later.request('POST', secretsPath(later), { name, secret_string: 'new' })).status, 200);
    } finally {
      clock.set(start);
    }
  });
});

describe('secrets past their deletion time, before housekeeping', () => {
  test('leave list paging, resource_instances and the project tags at once', async () => {
    const prefix = `p${hex(6)}`;
    const key = `gone${hex(4)}`;
    for (const letter of ['a', 'b', 'c']) {
      const name = `${prefix}-${letter}`;
      await newSecret(admin, { name, tags: [{ key, value: letter }] });
      await admin.request('POST', secretsPath(admin, `/${name}/scheduled-deleted-tasks/create`), { recovery_window_in_days: 7 });
    }
    await newSecret(admin, { name: `${prefix}-d`, tags: [{ key, value: 'd' }] });
    const start = clock.now();
    clock.advance(7 * 86_400_000);
    try {
      const later = new Client(world, world.users.admin, 'token');
      // Three due secrets first: the page of two used to be empty with next_marker null, ending the walk.
      const page = await later.request('GET', secretsPath(later, `?marker=${prefix}-&limit=2`));
      assert.equal(page.status, 200, page.text);
      assert.equal(page.body.secrets[0].name, `${prefix}-d`);
      assert.ok(page.body.secrets.every((s: { name: string }) => !/-[abc]$/.test(s.name) || !s.name.startsWith(prefix)));
      const filter = await later.request('POST', csmsPath(later, '/resource_instances/action'), { action: 'filter', tags: [{ key, values: [] }] });
      assert.deepEqual([filter.body.total_count, filter.body.resources.map((r: { resource_name: string }) => r.resource_name)], [1, [`${prefix}-d`]]);
      const count = await later.request('POST', csmsPath(later, '/resource_instances/action'), { action: 'count', tags: [{ key, values: [] }] });
      assert.deepEqual(count.body, { total_count: 1 });
      const project = await later.request('GET', csmsPath(later, '/tags'));
      assert.deepEqual(project.body.tags.filter((t: { key: string }) => t.key === key), [{ key, values: ['d'] }]);
      // Still stored (housekeeping has not run), just gone for callers.
      assert.equal((await world.server.store.read((tx) => tx.secrets.findSecret(later.user.accountId, 'cn-north-4', `${prefix}-a`)))?.name, `${prefix}-a`);
    } finally {
      clock.set(start);
    }
  });
});

describe('encryption under KMS keys', () => {
  test('a disabled key makes its secrets\' values unreadable (CSMS.0401) until enabled again; pending deletion too', async () => {
    const keyId = await newKey(admin);
    const { body } = await newSecret(admin, { kms_key_id: keyId, secret_string: 'guarded' });
    const name = body.secret.name;
    await admin.kms('disable-key', { key_id: keyId });
    for (const [method, path, payload] of [['GET', `/${name}/versions/v1`], ['POST', `/${name}/versions`, { secret_string: 'x' }]] as const) {
      const r = await admin.request(method, secretsPath(admin, path), payload);
      assert.deepEqual([r.status, r.body], [400, KEY_UNUSABLE], `${method} ${path}`);
    }
    assert.equal((await get(admin, `/${name}`)).status, 200);
    await admin.kms('enable-key', { key_id: keyId });
    assert.equal((await get(admin, `/${name}/versions/v1`)).body.version.secret_string, 'guarded');
    await admin.kms('schedule-key-deletion', { key_id: keyId, pending_days: '7' });
    const r = await get(admin, `/${name}/versions/v1`);
    assert.deepEqual([r.status, r.body], [400, KEY_UNUSABLE]);
  });

  test('values are sealed under the key in an envelope of kind secret: decrypt-data refuses it, and no clear value is stored', async () => {
    const keyId = await newKey(admin);
    const { body } = await newSecret(admin, { kms_key_id: keyId, secret_string: 'needle-in-the-db' });
    const version = await world.server.store.read((tx) => tx.secrets.getVersion(body.secret.id, 'v1'));
    assert.ok(version && !version.sealed.includes(Buffer.from('needle-in-the-db')));
    assert.equal(version.sealed[1], 3);
    const r = await admin.kms('decrypt-data', { cipher_text: version.sealed.toString('base64') });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.2201', 'Invalid cipher_text.')]);
  });

  test('a named key needs the caller\'s KMS rights (kms:cmk:createDataKey to write, decryptDataKey to read): CSMS.0401 without', async () => {
    const keyId = await newKey(admin);
    const nokms = world.as('nokms', 'aksk');
    const r = await nokms.request('POST', secretsPath(nokms), { name: secretName(), kms_key_id: keyId, secret_string: 'x' });
    assert.deepEqual([r.status, r.body], [400, KEY_UNUSABLE]);
    const { body } = await newSecret(admin, { kms_key_id: keyId });
    const read = await nokms.request('GET', secretsPath(nokms, `/${body.secret.name}/versions/v1`));
    assert.deepEqual([read.status, read.body], [400, KEY_UNUSABLE]);
    // The account's csms/default needs no KMS rights.
    const own = await newSecret(nokms);
    assert.equal((await nokms.request('GET', secretsPath(nokms, `/${own.body.secret.name}/versions/v1`))).body.version.secret_string, 'p@ss-1');
    const secretary = world.as('secretary', 'aksk');
    assert.equal((await secretary.request('GET', secretsPath(secretary, `/${body.secret.name}/versions/v1`))).status, 200);
  });
});

describe('IAM and accounts', () => {
  test('no csms action: 403 CSMS.0302 for every operation', async () => {
    const { body } = await newSecret(admin);
    const nobody = world.as('nobody');
    const name = body.secret.name;
    const calls: Array<[string, string, unknown?]> = [
      ['POST', secretsPath(nobody), { name: secretName(), secret_string: 'x' }],
      ['GET', secretsPath(nobody)],
      ['GET', secretsPath(nobody, `/${name}`)],
      ['PUT', secretsPath(nobody, `/${name}`), { description: 'x' }],
      ['DELETE', secretsPath(nobody, `/${name}`)],
      ['GET', secretsPath(nobody, `/${name}/versions/v1`)],
      ['POST', secretsPath(nobody, `/${name}/versions`), { secret_string: 'x' }],
      ['PUT', secretsPath(nobody, `/${name}/stages/x`), { version_id: 'v1' }],
      ['POST', csmsPath(nobody, `/${body.secret.id}/tags`), { tag: { key: 'a', value: 'b' } }],
      ['POST', csmsPath(nobody, '/generate-password'), {}],
    ];
    for (const [method, path, payload] of calls) {
      const r = await nobody.request(method, path, payload);
      assert.deepEqual([r.status, r.body], [403, CSMS_DENIED], `${method} ${path}`);
    }
  });

  test('Resource csms:<region>:<account>:secret:<name> scopes a policy; g:ResourceTag conditions read the secret\'s tags', async () => {
    const team = await newSecret(admin, { name: `team-${hex(4)}` });
    const other = await newSecret(admin, { name: `other-${hex(4)}` });
    const scoped = world.as('scoped', 'aksk');
    assert.equal((await scoped.request('GET', secretsPath(scoped, `/${team.body.secret.name}/versions/v1`))).status, 200);
    const refused = await scoped.request('GET', secretsPath(scoped, `/${other.body.secret.name}`));
    assert.deepEqual([refused.status, refused.body], [403, CSMS_DENIED]);
    const prod = await newSecret(admin, { tags: [{ key: 'env', value: 'prod' }] });
    const dev = await newSecret(admin, { tags: [{ key: 'env', value: 'dev' }] });
    const tagged = world.as('tagged', 'aksk');
    assert.equal((await tagged.request('GET', secretsPath(tagged, `/${prod.body.secret.name}`))).status, 200);
    assert.equal((await tagged.request('GET', secretsPath(tagged, `/${dev.body.secret.name}`))).status, 403);
  });

  test('accounts are isolated: another account\'s secret does not exist for the caller (404), by name or by id', async () => {
    const { body } = await newSecret(admin);
    const boss = world.as('boss');
    const byName = await boss.request('GET', secretsPath(boss, `/${body.secret.name}`));
    assert.deepEqual([byName.status, byName.body], [404, NO_SECRET]);
    const byId = await boss.request('GET', csmsPath(boss, `/${body.secret.id}/tags`));
    assert.deepEqual([byId.status, byId.body], [404, NO_SECRET]);
    // Another account's project in the path: CSMS.0302.
    const r = await boss.request('GET', `/v1/${admin.user.projectId}/secrets`);
    assert.deepEqual([r.status, r.body], [403, CSMS_DENIED]);
  });
});

describe('tags and resource instances', () => {
  test('create one, batch create/delete, delete one; project tags; resource_instances filter and count', async () => {
    const a = await newSecret(world.as('rita'), { name: `tags-a-${hex(3)}` }).catch(() => null);
    assert.equal(a, null, 'rita has no csms rights');
    const c = world.as('boss');
    const one = await newSecret(c, { name: `alpha-${hex(3)}` });
    const two = await newSecret(c, { name: `beta-${hex(3)}` });
    const id = one.body.secret.id;
    const created = await c.request('POST', csmsPath(c, `/${id}/tags`), { tag: { key: 'env', value: 'prod' } });
    assert.deepEqual([created.status, created.text], [204, '']);
    const batch = await c.request('POST', csmsPath(c, `/${id}/tags/action`), { action: 'create', tags: [{ key: 'team', value: 'pay' }, { key: 'tmp', value: '' }] });
    assert.deepEqual([batch.status, batch.text], [204, '']);
    await c.request('POST', csmsPath(c, `/${two.body.secret.id}/tags/action`), { action: 'create', tags: [{ key: 'env', value: 'dev' }] });
    const removed = await c.request('POST', csmsPath(c, `/${id}/tags/action`), { action: 'delete', tags: [{ key: 'tmp' }, { key: 'absent' }] });
    assert.deepEqual([removed.status, removed.text], [204, '']);
    const deleted = await c.request('DELETE', csmsPath(c, `/${id}/tags/team`));
    assert.deepEqual([deleted.status, deleted.text], [204, '']);
    const missing = await c.request('DELETE', csmsPath(c, `/${id}/tags/team`));
    assert.deepEqual([missing.status, missing.body], [404, NO_SECRET]);
    assert.deepEqual((await c.request('GET', csmsPath(c, `/${id}/tags`))).body, { tags: [{ key: 'env', value: 'prod' }], sys_tags: [] });
    const project = await c.request('GET', csmsPath(c, '/tags'));
    assert.deepEqual(project.body, { tags: [{ key: 'env', values: ['dev', 'prod'] }] });
    const filter = await c.request('POST', csmsPath(c, '/resource_instances/action'), { action: 'filter', tags: [{ key: 'env', values: ['prod'] }] });
    assert.equal(filter.status, 200, filter.text);
    assert.deepEqual(filter.body, {
      resources: [{ resource_id: id, resource_detail: { ...one.body.secret }, tags: [{ key: 'env', value: 'prod' }], resource_name: one.body.secret.name, sys_tags: [] }],
      total_count: 1,
    });
    const count = await c.request('POST', csmsPath(c, '/resource_instances/action'), { action: 'count', matches: [{ key: 'resource_name', value: 'BETA' }] });
    assert.deepEqual(count.body, { total_count: 1 });
    const bad = await c.request('POST', csmsPath(c, '/resource_instances/action'), { action: 'nope' });
    assert.deepEqual([bad.status, bad.body], [400, BAD_PARAM]);
  });
});

describe('random passwords', () => {
  test('32 characters by default; length 1-255; excluded characters and types; each type included', async () => {
    const path = csmsPath(admin, '/generate-password');
    const plain = await admin.request('POST', path, {});
    assert.equal(plain.status, 200);
    assert.deepEqual(Object.keys(plain.body), ['password']);
    assert.equal(plain.body.password.length, 32);
    const digits = await admin.request('POST', path, { length: 255, exclude_lowercase: true, exclude_uppercase: true, exclude_punctuation: true, exclude_characters: '0123' });
    assert.match(digits.body.password, /^[4-9]{255}$/);
    for (let i = 0; i < 20; i++) {
      const each = await admin.request('POST', path, { length: 4, require_each_included_type: true });
      assert.match(each.body.password, /^(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9])(?=.*[^a-zA-Z0-9]).{4}$/);
    }
    for (const body of [{ length: 0 }, { length: 256 }, { length: 'x' }, { exclude_lowercase: true, exclude_uppercase: true, exclude_numbers: true, exclude_punctuation: true }, { length: 3, require_each_included_type: true }]) {
      const r = await admin.request('POST', path, body);
      assert.deepEqual([r.status, r.body], [400, BAD_PARAM], JSON.stringify(body));
    }
  });
});

describe('audit trail', () => {
  test('every change and refusal is a CSMS trace with the secret as resource (ListTraces, resource_id filter)', async () => {
    const { body } = await newSecret(admin);
    const name = body.secret.name;
    await admin.request('POST', secretsPath(admin, `/${name}/versions`), { secret_string: 'x' });
    await world.as('nobody').request('GET', secretsPath(world.as('nobody'), `/${name}`));
    const r = await admin.request('GET', `/v3/${admin.user.projectId}/traces?trace_type=system&resource_id=${body.secret.id}&limit=10`);
    assert.equal(r.status, 200, r.text);
    const traces = r.body.traces.map((t: Record<string, unknown>) => [t.trace_name, t.service_type, t.resource_type, t.resource_id, t.resource_name, t.code]);
    assert.deepEqual(traces, [
      ['showSecret', 'CSMS', 'secret', body.secret.id, name, '403'],
      ['createSecretVersion', 'CSMS', 'secret', body.secret.id, name, '200'],
      ['createSecret', 'CSMS', 'secret', body.secret.id, name, '200'],
    ]);
    const refused = await admin.request('GET', `/v3/${admin.user.projectId}/traces?trace_type=system&trace_name=showSecret&limit=1`);
    assert.deepEqual(
      [refused.body.traces[0].resource_name, refused.body.traces[0].code, JSON.parse(refused.body.traces[0].response)],
      [name, '403', CSMS_DENIED],
    );
  });

  test('service_type picks CSMS or KMS traces; refusals on a named secret and a refused create-secret name it', async () => {
    const traces = async (query: string) => {
      const r = await admin.request('GET', `/v3/${admin.user.projectId}/traces?trace_type=system&limit=50&${query}`);
      assert.equal(r.status, 200, r.text);
      return r.body.traces.map((t: Record<string, unknown>) => [t.trace_name, t.service_type, t.resource_type, t.resource_id, t.resource_name, t.code]);
    };
    const { body } = await newSecret(admin);
    const { id, name } = body.secret;
    const nobody = world.as('nobody');
    await nobody.request('GET', secretsPath(nobody, `/${name}`));
    await nobody.request('PUT', secretsPath(nobody, `/${name}`), { description: 'x' });
    const keyId = await newKey(admin);
    const denied = (operation: string) => [operation, 'CSMS', 'secret', id, name, '403'];
    // The refusals on the named secret carry its id: resource_id finds them.
    assert.deepEqual(await traces(`service_type=CSMS&resource_id=${id}`), [denied('updateSecret'), denied('showSecret'), ['createSecret', 'CSMS', 'secret', id, name, '200']]);
    assert.deepEqual(await traces(`service_type=KMS&resource_id=${id}`), []);
    assert.deepEqual(await traces(`service_type=KMS&resource_id=${keyId}`), [['createKey', 'KMS', 'cmk', keyId, keyId, '200']]);
    assert.deepEqual(await traces(`service_type=CSMS&resource_id=${keyId}`), []);
    assert.deepEqual(await traces(`service_type=KMS&trace_name=createSecret`), []);
    assert.deepEqual(await traces(`service_type=ECS`), []);
    // A refused create-secret names the secret it asked for (create-secret's field is `name`).
    const wanted = secretName();
    const refusedCreate = await nobody.request('POST', secretsPath(nobody), { name: wanted, secret_string: 'v' });
    assert.deepEqual([refusedCreate.status, refusedCreate.body], [403, CSMS_DENIED]);
    const created = await traces(`service_type=CSMS&trace_name=createSecret&user=${world.users.nobody.id}`);
    assert.deepEqual(created.slice(0, 1), [['createSecret', 'CSMS', 'secret', '', wanted, '403']]);
    const all = await traces('service_type=CSMS');
    assert.ok(all.length > 0 && all.every((t: unknown[]) => t[1] === 'CSMS'));
    const kmsOnly = await traces('service_type=KMS');
    assert.ok(kmsOnly.length > 0 && kmsOnly.every((t: unknown[]) => t[1] === 'KMS'));
  });
});
