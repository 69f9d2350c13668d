import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, hex, newKey, startWorld, type World } from '../harness.ts';
import { defaultKeyOf } from './key-state-helpers.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

describe('update-key-alias', () => {
  test('renames: {key_info: {key_id, key_alias}}', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const alias = `renamed-${hex(3)}`;
    const r = await admin.kms('update-key-alias', { key_id: keyId, key_alias: alias });
    assert.deepEqual([r.status, r.body], [200, { key_info: { key_id: keyId, key_alias: alias } }]);
    assert.equal((await admin.kms('describe-key', { key_id: keyId })).body.key_info.key_alias, alias);
  });

  test('a used alias is KMS.1104; /default is KMS.1101; a default key is KMS.0211; pending deletion KMS.0210', async () => {
    const admin = world.as('admin');
    const taken = `taken-${hex(3)}`;
    await newKey(admin, { key_alias: taken });
    const keyId = await newKey(admin);
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ key_id: keyId, key_alias: taken }, 'KMS.1104', 'Duplicate key aliases.'],
      [{ key_id: keyId, key_alias: 'x/default' }, 'KMS.1101', 'Invalid key_alias.'],
      [{ key_id: keyId, key_alias: 'bad alias' }, 'KMS.1101', 'Invalid key_alias.'],
      [{ key_id: keyId }, 'KMS.0204', 'Parameters missing in the request message.'],
      [{ key_id: await defaultKeyOf(admin), key_alias: 'other' }, 'KMS.0211', 'Cannot perform this operation on Default Master Keys.'],
    ];
    for (const [body, code, message] of cases) {
      const r = await admin.kms('update-key-alias', body);
      assert.deepEqual([r.status, r.body], [400, ERR(code, message)], JSON.stringify(body));
    }
    await admin.kms('schedule-key-deletion', { key_id: keyId, pending_days: '7' });
    const pending = await admin.kms('update-key-alias', { key_id: keyId, key_alias: `p-${hex(3)}` });
    assert.deepEqual([pending.status, pending.body], [400, ERR('KMS.0210', 'The key is in Scheduled deletion state and cannot be used.')]);
  });

  test('a user without kms:cmk:update is refused', async () => {
    const keyId = await newKey(world.as('admin'));
    const r = await world.as('reader').kms('update-key-alias', { key_id: keyId, key_alias: 'zzz' });
    assert.deepEqual([r.status, r.body], [403, ERR('KMS.0306', 'No access permissions.')]);
  });
});
