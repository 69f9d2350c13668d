import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, startWorld, type World } from '../harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

describe('gen-random', () => {
  test('answers random_data as upper-case hex of the asked length; two answers differ', async () => {
    const a = await world.as('admin').kms('gen-random', { random_data_length: '512' });
    const b = await world.as('admin', 'aksk').kms('gen-random', { random_data_length: 512 });
    assert.equal(a.status, 200);
    assert.match(a.body.random_data, /^[0-9A-F]{128}$/);
    assert.notEqual(a.body.random_data, b.body.random_data);
    assert.match((await world.as('admin').kms('gen-random', { random_data_length: '8' })).body.random_data, /^[0-9A-F]{2}$/);
  });

  const BAD: Array<[unknown, string, string]> = [
    ['0', 'KMS.1801', 'random_data_length must be 512 bits.'],
    ['8200', 'KMS.1801', 'random_data_length must be 512 bits.'],
    ['100', 'KMS.1802', 'random_data_length must be a multiple of 8.'],
    ['many', 'KMS.1801', 'random_data_length must be 512 bits.'],
  ];
  for (const [length, code, message] of BAD) {
    test(`random_data_length ${JSON.stringify(length)} is 400 ${code}`, async () => {
      const r = await world.as('admin').kms('gen-random', { random_data_length: length });
      assert.deepEqual([r.status, r.body], [400, ERR(code, message)]);
    });
  }

  test('no length is KMS.0204; a user without kms:cmk:generate is refused', async () => {
    const r = await world.as('admin').kms('gen-random', {});
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0204', 'Parameters missing in the request message.')]);
    const denied = await world.as('gus').kms('gen-random', { random_data_length: '512' });
    assert.deepEqual([denied.status, denied.body], [403, ERR('KMS.0306', 'No access permissions.')]);
  });
});
