import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ManualClock } from '../../src/core/runtime.ts';
import { ERR, hex, newGrant, newKey, randomKeyId, startWorld, type World } from '../harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

async function keyWithGrants(n: number): Promise<{ keyId: string; grantIds: string[] }> {
  const admin = world.as('admin');
  const keyId = await newKey(admin);
  const grantIds: string[] = [];
  for (let i = 0; i < n; i++) {
    (world.clock as ManualClock).advance(1000);
    grantIds.push(await newGrant(admin, keyId, hex(8), ['describe-key']));
  }
  return { keyId, grantIds };
}

describe('list-grants', () => {
  test('a key without grants lists an empty page with exact wire types', async () => {
    const keyId = await newKey(world.as('admin'));
    const r = await world.as('admin').kms('list-grants', { key_id: keyId });
    assert.equal(r.status, 200);
    assert.equal(r.text, '{"grants":[],"next_marker":"","truncated":"false","total":0}');
  });

  test('pages follow creation order; next_marker is the offset of the next page', async () => {
    const { keyId, grantIds } = await keyWithGrants(5);
    const admin = world.as('admin');
    const first = await admin.kms('list-grants', { key_id: keyId, limit: '2' });
    assert.deepEqual(first.body.grants.map((g: { grant_id: string }) => g.grant_id), grantIds.slice(0, 2));
    assert.deepEqual([first.body.next_marker, first.body.truncated, first.body.total], ['2', 'true', 5]);
    const second = await admin.kms('list-grants', { key_id: keyId, limit: 2, marker: 2 });
    assert.deepEqual(second.body.grants.map((g: { grant_id: string }) => g.grant_id), grantIds.slice(2, 4));
    assert.deepEqual([second.body.next_marker, second.body.truncated], ['4', 'true']);
    const last = await admin.kms('list-grants', { key_id: keyId, limit: '2', marker: '4' });
    assert.deepEqual(last.body.grants.map((g: { grant_id: string }) => g.grant_id), grantIds.slice(4));
    assert.deepEqual([last.body.next_marker, last.body.truncated, last.body.total], ['', 'false', 5]);
    const beyond = await admin.kms('list-grants', { key_id: keyId, marker: '9' });
    assert.deepEqual(beyond.body, { grants: [], next_marker: '', truncated: 'false', total: 5 });
  });

  test('"" for limit and marker (the official example) means everything', async () => {
    const { keyId } = await keyWithGrants(3);
    const r = await world.as('admin').kms('list-grants', { key_id: keyId, limit: '', marker: '', sequence: '' });
    assert.deepEqual([r.body.grants.length, r.body.truncated, r.body.next_marker, r.body.total], [3, 'false', '', 3]);
  });

  test('a Terraform-style loop (limit 100 as a JSON number) collects every grant', async () => {
    const { keyId, grantIds } = await keyWithGrants(7);
    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const r = await world.as('alice').kms('list-grants', { key_id: keyId, limit: 3, ...(marker && { marker }) });
      seen.push(...r.body.grants.map((g: { grant_id: string }) => g.grant_id));
      marker = r.body.next_marker;
    } while (marker);
    assert.deepEqual(seen, grantIds);
  });

  const BAD: Array<[string, Record<string, unknown>, string, string]> = [
    ['limit 0', { limit: '0' }, 'KMS.1601', 'Invalid limit.'],
    ['limit 1001', { limit: 1001 }, 'KMS.1601', 'Invalid limit.'],
    ['limit abc', { limit: 'abc' }, 'KMS.1601', 'Invalid limit.'],
    ['limit 1.5', { limit: 1.5 }, 'KMS.1601', 'Invalid limit.'],
    ['marker -1', { marker: '-1' }, 'KMS.1602', 'marker must be greater than or equals 0.'],
    ['marker -1 as a number', { marker: -1 }, 'KMS.1602', 'marker must be greater than or equals 0.'],
    ['marker x', { marker: 'x' }, 'KMS.1602', 'marker must be greater than or equals 0.'],
    ['a bad key id', { key_id: 'x' }, 'KMS.0205', 'Invalid key ID.'],
  ];
  for (const [what, extra, code, message] of BAD) {
    test(`${what} is 400 ${code}`, async () => {
      const keyId = await newKey(world.as('admin'));
      const r = await world.as('admin').kms('list-grants', { key_id: keyId, ...extra });
      assert.deepEqual([r.status, r.body], [400, ERR(code, message)]);
    });
  }

  test('no key_id is KMS.0204; an unknown key is 404 KMS.0207', async () => {
    const missing = await world.as('admin').kms('list-grants', {});
    assert.deepEqual([missing.status, missing.body], [400, ERR('KMS.0204', 'Parameters missing in the request message.')]);
    const unknown = await world.as('admin').kms('list-grants', { key_id: randomKeyId() });
    assert.deepEqual([unknown.status, unknown.body], [404, ERR('KMS.0207', 'The key does not exist.')]);
  });

  for (const who of ['gina', 'boss', 'reader', 'nobody']) {
    test(`${who} may not list the grants of acme's key: 403 KMS.0306`, async () => {
      const admin = world.as('admin');
      const keyId = await newKey(admin);
      await newGrant(admin, keyId, world.users.gina.id, ['describe-key', 'retire-grant']);
      const r = await world.as(who).kms('list-grants', { key_id: keyId });
      assert.deepEqual([r.status, r.body], [403, ERR('KMS.0306', 'No access permissions.')]);
    });
  }
});
