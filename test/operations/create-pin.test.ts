import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERR, hex, startWorld, type Client, type World } from '../harness.ts';

// create-pin (API page "Creating a PIN"; the Go SDK's CreatePin): {pin_type?, keystore_id?} → {pin}.

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const pin = (c: Client, body: unknown) => c.kms('create-pin', body);
const newKeystore = async (c: Client): Promise<string> =>
  (await c.request('POST', `/v1.0/${c.user.projectId}/keystores`, { keystore_alias: `pin-${hex(4)}` })).body.keystore.keystore_id;

describe('create-pin', () => {
  test('PlainText: 32 upper-case hex characters, fresh each time (exact wire shape)', async () => {
    const alice = world.as('alice');
    const a = await pin(alice, { pin_type: 'PlainText' });
    const b = await pin(alice, { pin_type: 'PlainText' });
    assert.equal(a.status, 200);
    assert.deepEqual(Object.keys(a.body), ['pin']);
    assert.match(a.body.pin, /^[0-9A-F]{32}$/);
    assert.notEqual(a.body.pin, b.body.pin);
  });

  test('CipherText (the default) on a shared cluster or an own key store: a PIN sealed for the account and key store', async () => {
    const alice = world.as('alice');
    const keystoreId = await newKeystore(alice);
    for (const [body, store] of [[{ keystore_id: '1' }, '1'], [{ pin_type: 'CipherText', keystore_id: keystoreId }, keystoreId]] as const) {
      const r = await pin(alice, body);
      assert.equal(r.status, 200);
      const sealed = Buffer.from(r.body.pin, 'base64');
      const clear = world.server.rootKey.open(sealed, `pin:${alice.user.accountId}:${store}`).toString('utf8');
      assert.match(clear, /^[0-9A-F]{32}$/);
      // Bound to the account and key store: another context does not open it.
      assert.throws(() => world.server.rootKey.open(sealed, `pin:${alice.user.accountId}:2`));
    }
  });

  test('refusals: no key store for a CipherText PIN, an unknown pin_type, unknown / foreign / disabled key stores, no IAM action', async () => {
    const alice = world.as('alice');
    const own = await newKeystore(alice);
    const foreign = await newKeystore(world.as('boss'));
    await alice.request('POST', `/v1.0/${alice.user.projectId}/keystores/${own}/disable`, {});
    const cases: Array<[Client, unknown, number, unknown]> = [
      [alice, {}, 400, ERR('KMS.0204', 'Parameters missing in the request message.')],
      [alice, { pin_type: 'Hex', keystore_id: '1' }, 400, ERR('KMS.0308', 'Invalid parameter.')],
      [alice, { keystore_id: 'no-such-store' }, 404, ERR('KMS.0316', 'No exist partition_id.')],
      [alice, { keystore_id: foreign }, 403, ERR('KMS.0322', 'The user has no permission to access the partition.')],
      [alice, { keystore_id: own }, 400, ERR('KMS.0317', 'The cmk partition is not enabled.')],
      [world.as('reader'), { pin_type: 'PlainText' }, 403, ERR('KMS.0306', 'No access permissions.')],
    ];
    for (const [who, body, status, error] of cases) {
      const r = await pin(who, body);
      assert.deepEqual([r.status, r.body], [status, error], JSON.stringify(body));
    }
  });
});
