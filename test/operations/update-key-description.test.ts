import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, newKey, startWorld, type World } from '../harness.ts';
import { DECISIONS } from '../../src/core/decisions.ts';
import { freshDatabase, POSTGRES_SKIP } from '../support/postgres.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

describe('update-key-description', () => {
  test('sets and clears the description ("" is a description of its own)', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin, { key_description: 'first' });
    const r = await admin.kms('update-key-description', { key_id: keyId, key_description: 'second' });
    assert.deepEqual([r.status, r.body], [200, { key_info: { key_id: keyId, key_description: 'second' } }]);
    const cleared = await admin.kms('update-key-description', { key_id: keyId, key_description: '' });
    assert.deepEqual([cleared.status, cleared.body], [200, { key_info: { key_id: keyId, key_description: '' } }]);
    assert.equal((await admin.kms('describe-key', { key_id: keyId })).body.key_info.key_description, '');
  });

  test('256 characters is KMS.1103; a missing description KMS.0204; outsiders KMS.0306', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const long = await admin.kms('update-key-description', { key_id: keyId, key_description: 'x'.repeat(256) });
    assert.deepEqual([long.status, long.body], [400, ERR('KMS.1103', 'Invalid key_description.')]);
    const missing = await admin.kms('update-key-description', { key_id: keyId });
    assert.deepEqual([missing.status, missing.body], [400, ERR('KMS.0204', 'Parameters missing in the request message.')]);
    const outsider = await world.as('boss').kms('update-key-description', { key_id: keyId, key_description: 'mine' });
    assert.deepEqual([outsider.status, outsider.body], [403, ERR('KMS.0306', 'No access permissions.')]);
  });
});

/** Asserts that U+0000 in key_description is the field's error, and that nothing was written. */
async function refusesNul(on: World): Promise<void> {
  const admin = on.as('admin');
  const created = await admin.kms('create-key', { key_alias: 'nul-in-description', key_description: 'a\u0000b' });
  assert.deepEqual([created.status, created.body], [400, ERR(DECISIONS.nulInText, 'Invalid key_description.')]);
  const keyId = await newKey(admin, { key_description: 'kept' });
  const updated = await admin.kms('update-key-description', { key_id: keyId, key_description: '\u0000' });
  assert.deepEqual([updated.status, updated.body], [400, ERR(DECISIONS.nulInText, 'Invalid key_description.')]);
  assert.equal((await admin.kms('describe-key', { key_id: keyId })).body.key_info.key_description, 'kept');
  const again = await admin.kms('create-key', { key_alias: 'nul-in-description' });
  assert.equal(again.status, 200, 'the refused create-key wrote nothing (its alias is free)');
}

describe('U+0000 in key_description (DECISIONS.nulInText)', () => {
  test('is KMS.1103 on SQLite', () => refusesNul(world));
  test('is KMS.1103 on PostgreSQL (it was a 500: its text cannot hold U+0000)', { skip: POSTGRES_SKIP }, async () => {
    const db = await freshDatabase();
    const pgWorld = await startWorld({ config: { store: db.url } });
    try {
      await refusesNul(pgWorld);
    } finally {
      await pgWorld.close();
      await db.drop();
    }
  });
});
