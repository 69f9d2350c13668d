import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, newKey, startWorld, type World } from '../harness.ts';
import { defaultKeyOf } from './key-state-helpers.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

describe('enable-key-rotation', () => {
  test('turns rotation on: 200 {}', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const r = await admin.kms('enable-key-rotation', { key_id: keyId });
    assert.deepEqual([r.status, r.text], [200, '{}']);
    assert.equal((await admin.kms('get-key-rotation-status', { key_id: keyId })).body.key_rotation_enabled, true);
    assert.equal((await admin.kms('describe-key', { key_id: keyId })).body.key_info.key_rotation_enabled, 'true');
  });

  test('twice: KMS.2901; external: KMS.0312; disabled: KMS.0209; default key: KMS.0211; outsider: KMS.0306', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    await admin.kms('enable-key-rotation', { key_id: keyId });
    const external = await newKey(admin, { origin: 'external' });
    const disabled = await newKey(admin);
    await admin.kms('disable-key', { key_id: disabled });
    const cases: Array<[string, string, number, object]> = [
      ['admin', keyId, 400, ERR('KMS.2901', 'Key rotation is not disabled.')],
      ['admin', external, 400, ERR('KMS.0312', 'External keys cannot be rotated.')],
      ['admin', disabled, 400, ERR('KMS.0209', 'The key has been disabled.')],
      ['admin', await defaultKeyOf(admin), 400, ERR('KMS.0211', 'Cannot perform this operation on Default Master Keys.')],
      ['boss', disabled, 403, ERR('KMS.0306', 'No access permissions.')],
    ];
    for (const [who, id, status, error] of cases) {
      const r = await world.as(who).kms('enable-key-rotation', { key_id: id });
      assert.deepEqual([r.status, r.body], [status, error], `${who} ${id}`);
    }
  });
});
