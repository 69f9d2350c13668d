import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DAY_MS, type ManualClock } from '../../src/core/runtime.ts';
import { Client, ERR, newGrant, newKey, startWorld, type World } from '../harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

// The material version sits at bytes 39..42 of an envelope (format 2, src/core/envelope.ts).
const versionOf = (b64: string): number => Buffer.from(b64, 'base64').readUInt32BE(39);

describe('get-key-rotation-status, and rotation happening', () => {
  test('a new key: rotation off, interval 0 while off, never rotated (exact wire types)', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const r = await admin.kms('get-key-rotation-status', { key_id: keyId });
    assert.deepEqual([r.status, r.text], [200, '{"key_rotation_enabled":false,"rotation_interval":0,"last_rotation_time":"","number_of_rotations":0}']);
    await admin.kms('enable-key-rotation', { key_id: keyId });
    const on = await admin.kms('get-key-rotation-status', { key_id: keyId });
    assert.equal(on.text, '{"key_rotation_enabled":true,"rotation_interval":365,"last_rotation_time":"","number_of_rotations":0}');
  });

  test('when the interval passes the key gets new material; old ciphertexts still decrypt', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const before = await admin.kms('encrypt-data', { key_id: keyId, plain_text: 'before rotation' });
    assert.equal(versionOf(before.body.cipher_text), 1);
    await admin.kms('enable-key-rotation', { key_id: keyId });
    await admin.kms('update-key-rotation-interval', { key_id: keyId, rotation_interval: 30 });
    const clock = world.clock as ManualClock;
    clock.advance(29 * DAY_MS);
    await world.server.maintain();
    const later = new Client(world, world.users.admin, 'token'); // tokens last a day: log in again
    assert.equal((await later.kms('get-key-rotation-status', { key_id: keyId })).body.number_of_rotations, 0);
    clock.advance(DAY_MS);
    await world.server.maintain();
    const fresh = new Client(world, world.users.admin, 'token');
    const status = await fresh.kms('get-key-rotation-status', { key_id: keyId });
    assert.deepEqual(status.body, { key_rotation_enabled: true, rotation_interval: 30, last_rotation_time: String(clock.now()), number_of_rotations: 1 });
    const after = await fresh.kms('encrypt-data', { key_id: keyId, plain_text: 'after rotation' });
    assert.equal(versionOf(after.body.cipher_text), 2);
    assert.equal((await fresh.kms('decrypt-data', { cipher_text: before.body.cipher_text })).body.plain_text, 'before rotation');
    assert.equal((await fresh.kms('decrypt-data', { cipher_text: after.body.cipher_text })).body.plain_text, 'after rotation');
    clock.advance(30 * DAY_MS);
    await world.server.maintain();
    const again = await new Client(world, world.users.admin, 'token').kms('get-key-rotation-status', { key_id: keyId });
    assert.deepEqual([again.body.number_of_rotations, again.body.last_rotation_time], [2, String(clock.now())]);
  });

  test('a key with rotation off is never rotated; a disabled key waits until enabled', async () => {
    const admin = new Client(world, world.users.admin, 'token');
    const off = await newKey(admin);
    const paused = await newKey(admin);
    await admin.kms('enable-key-rotation', { key_id: paused });
    await admin.kms('disable-key', { key_id: paused });
    (world.clock as ManualClock).advance(366 * DAY_MS);
    await world.server.maintain();
    const fresh = new Client(world, world.users.admin, 'token');
    assert.equal((await fresh.kms('get-key-rotation-status', { key_id: off })).body.number_of_rotations, 0);
    assert.equal((await fresh.kms('get-key-rotation-status', { key_id: paused })).body.number_of_rotations, 0);
    await fresh.kms('enable-key', { key_id: paused });
    await world.server.maintain();
    assert.equal((await fresh.kms('get-key-rotation-status', { key_id: paused })).body.number_of_rotations, 1);
  });

  test('grantees and other accounts may not read the rotation status', async () => {
    const admin = new Client(world, world.users.admin, 'token');
    const keyId = await newKey(admin);
    await newGrant(admin, keyId, world.users.gus.id, ['describe-key']);
    for (const user of [world.users.gus, world.users.boss]) {
      const r = await new Client(world, user, 'token').kms('get-key-rotation-status', { key_id: keyId });
      assert.deepEqual([r.status, r.body], [403, ERR('KMS.0306', 'No access permissions.')], user.name);
    }
  });
});
