import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ManualClock } from '../../src/core/runtime.ts';
import { ERR, newKey, startWorld, type World } from '../harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

describe('list-keys', () => {
  test('lists the account AES_256 keys in creation order with ids and details', async () => {
    const alice = world.as('alice');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      (world.clock as ManualClock).advance(1);
      ids.push(await newKey(alice));
    }
    await newKey(alice, { key_spec: 'SM4' });
    const r = await world.as('reader').kms('list-keys', { limit: '100' });
    assert.equal(r.status, 200);
    // The account's default key (obs/default) is listed too; it came first.
    assert.deepEqual(r.body.keys.slice(1), ids);
    assert.deepEqual(r.body.key_details.map((k: { key_id: string }) => k.key_id), r.body.keys);
    assert.deepEqual([r.body.total, r.body.truncated, r.body.next_marker], [4, 'false', '']);
    const all = await world.as('reader').kms('list-keys', { key_spec: 'ALL' });
    assert.equal(all.body.total, 5);
  });

  test('filters by state, pages with limit and marker', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    await alice.kms('disable-key', { key_id: keyId });
    const disabled = await alice.kms('list-keys', { key_state: '3' });
    assert.deepEqual(disabled.body.keys, [keyId]);
    const page = await alice.kms('list-keys', { limit: 1, marker: 1 });
    assert.deepEqual([page.body.keys.length, page.body.next_marker, page.body.truncated], [1, '2', 'true']);
  });

  test('another account sees only its own keys', async () => {
    const r = await world.as('boss').kms('list-keys', { key_spec: 'ALL' });
    assert.deepEqual(r.body.key_details.map((k: { key_alias: string }) => k.key_alias), ['obs/default']);
  });

  const BAD: Array<[Record<string, unknown>, string, string]> = [
    [{ key_state: '6' }, 'KMS.0308', 'Invalid parameter.'],
    [{ key_spec: 'AES_128' }, 'KMS.0308', 'Invalid parameter.'],
    [{ limit: '0' }, 'KMS.1601', 'Invalid limit.'],
    [{ limit: 10001 }, 'KMS.1601', 'Invalid limit.'],
    [{ marker: 'm' }, 'KMS.1602', 'marker must be greater than or equals 0.'],
  ];
  for (const [body, code, message] of BAD) {
    test(`${JSON.stringify(body)} is 400 ${code}`, async () => {
      const r = await world.as('admin').kms('list-keys', body);
      assert.deepEqual([r.status, r.body], [400, ERR(code, message)]);
    });
  }

  test('a limit above 1000 is taken (the Terraform provider\'s kms_keys data source sends 2000)', async () => {
    const r = await world.as('admin').kms('list-keys', { limit: 2000 });
    assert.deepEqual([r.status, r.body.truncated, r.body.next_marker], [200, 'false', '']);
  });

  test('a user without kms:cmk:list is refused', async () => {
    const r = await world.as('nobody').kms('list-keys', {});
    assert.deepEqual([r.status, r.body], [403, ERR('KMS.0306', 'No access permissions.')]);
  });
});
