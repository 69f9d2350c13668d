import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DECISIONS } from '../../src/core/decisions.ts';
import type { ManualClock } from '../../src/core/runtime.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, ERR, hex, newGrant, newKey, randomKeyId, startWorld, type World } from '../harness.ts';

let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const GRANT_ID = /^[0-9a-f]{64}$/;

describe('create-grant', () => {
  test('the key owner grants a user operations; the grant is listed exactly as created', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const r = await admin.kms('create-grant', {
      key_id: keyId, grantee_principal: world.users.gina.id, operations: ['describe-key', 'encrypt-data'],
      name: 'my_grant', retiring_principal: world.users.rita.id, sequence: '919c82d4-8046-4722-9094-35c3c6524cff',
    });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body), ['grant_id']);
    assert.match(r.body.grant_id, GRANT_ID);
    const list = await admin.kms('list-grants', { key_id: keyId });
    assert.deepEqual(list.body, {
      grants: [{
        key_id: keyId, grant_id: r.body.grant_id, grantee_principal: world.users.gina.id, grantee_principal_type: 'user',
        operations: ['describe-key', 'encrypt-data'], issuing_principal: world.users.admin.id,
        creation_date: String(world.clock.now()), name: 'my_grant', retiring_principal: world.users.rita.id,
      }],
      next_marker: '', truncated: 'false', total: 1,
    });
  });

  test('a whole account can be the grantee; "" for optional fields means not given; repeated operations count once', async () => {
    const admin = world.as('admin', 'aksk');
    const keyId = await newKey(admin);
    const grantId = await newGrant(admin, keyId, world.users.boss.accountId, ['describe-key', 'describe-key'], {
      grantee_principal_type: 'domain', name: '', retiring_principal: '', sequence: '',
    });
    const list = await admin.kms('list-grants', { key_id: keyId });
    assert.deepEqual(list.body.grants[0], {
      key_id: keyId, grant_id: grantId, grantee_principal: world.users.boss.accountId, grantee_principal_type: 'domain',
      operations: ['describe-key'], issuing_principal: world.users.admin.id, creation_date: String(world.clock.now()),
    });
  });

  const BAD_INPUT: Array<[string, (keyId: string) => unknown, string, string]> = [
    ['no key_id', () => ({ grantee_principal: 'abc', operations: ['describe-key'] }), 'KMS.0204', 'Parameters missing in the request message.'],
    ['no grantee', (k) => ({ key_id: k, operations: ['describe-key'] }), 'KMS.0204', 'Parameters missing in the request message.'],
    ['no operations', (k) => ({ key_id: k, grantee_principal: 'abc' }), 'KMS.0204', 'Parameters missing in the request message.'],
    ['an empty key_id', (k) => ({ key_id: '', grantee_principal: 'abc', operations: ['describe-key'] }), 'KMS.0204', 'Parameters missing in the request message.'],
    ['a malformed key_id', () => ({ key_id: 'not-a-key', grantee_principal: 'abc', operations: ['describe-key'] }), 'KMS.0205', 'Invalid key ID.'],
    ['an upper-case key_id', (k) => ({ key_id: k.toUpperCase(), grantee_principal: 'abc', operations: ['describe-key'] }), 'KMS.0205', 'Invalid key ID.'],
    ['a key_id that is a number', () => ({ key_id: 42, grantee_principal: 'abc', operations: ['describe-key'] }), 'KMS.0205', 'Invalid key ID.'],
    ['a grantee with a dash', (k) => ({ key_id: k, grantee_principal: 'ab-c', operations: ['describe-key'] }), 'KMS.2402', 'Invalid user ID.'],
    ['a grantee of 65 characters', (k) => ({ key_id: k, grantee_principal: 'a'.repeat(65), operations: ['describe-key'] }), 'KMS.2402', 'Invalid user ID.'],
    ['a bad retiring principal', (k) => ({ key_id: k, grantee_principal: 'abc', operations: ['describe-key'], retiring_principal: 'x y' }), 'KMS.2402', 'Invalid user ID.'],
    ['an unknown operation', (k) => ({ key_id: k, grantee_principal: 'abc', operations: ['describe-key', 'sign'] }), DECISIONS.unknownEnumValue, 'Invalid parameter.'],
    ['no operations at all', (k) => ({ key_id: k, grantee_principal: 'abc', operations: [] }), 'KMS.0308', 'Invalid parameter.'],
    ['operations as an object', (k) => ({ key_id: k, grantee_principal: 'abc', operations: { a: 1 } }), 'KMS.0308', 'Invalid parameter.'],
    ['only create-grant', (k) => ({ key_id: k, grantee_principal: 'abc', operations: ['create-grant'] }), 'KMS.2401', 'Specify an operation in addition to create-grant.'],
    ['an unknown grantee type', (k) => ({ key_id: k, grantee_principal: 'abc', operations: ['describe-key'], grantee_principal_type: 'group' }), 'KMS.0308', 'Invalid parameter.'],
    ['a bad name', (k) => ({ key_id: k, grantee_principal: 'abc', operations: ['describe-key'], name: 'a b' }), 'KMS.0308', 'Invalid parameter.'],
    ['a bad sequence', (k) => ({ key_id: k, grantee_principal: 'abc', operations: ['describe-key'], sequence: 'short' }), 'KMS.0206', 'Invalid sequence number.'],
  ];
  for (const [what, body, code, message] of BAD_INPUT) {
    test(`${what} is refused with ${code} and nothing is created`, async () => {
      const admin = world.as('admin');
      const keyId = await newKey(admin);
      const r = await admin.kms('create-grant', body(keyId));
      assert.equal(r.status, 400);
      assert.deepEqual(r.body, ERR(code, message));
      assert.equal((await admin.kms('list-grants', { key_id: keyId })).body.total, 0);
    });
  }

  test('a grantee kmsd does not know yet is accepted, authorizes nobody, and works once a user with that id is declared (SIGHUP)', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const newcomer = { name: `newcomer${hex(3)}`, id: hex(16), password: `pw-${hex(6)}`, ak: `AK${hex(8).toUpperCase()}`, sk: hex(20) };
    const granted = await admin.kms('create-grant', { key_id: keyId, grantee_principal: newcomer.id, operations: ['describe-key'] });
    assert.equal(granted.status, 200);
    // Declared later (an identities file reloaded): the grant is there and lets it describe the key.
    const path = join(world.dataDir, 'identities.json');
    const file = JSON.parse(readFileSync(path, 'utf8'));
    const globex = file.accounts.find((a: { name: string }) => a.name === 'globex');
    globex.users.push({ name: newcomer.name, id: newcomer.id, password: newcomer.password, access_keys: [{ ak: newcomer.ak, sk: newcomer.sk }], policies: [] });
    writeFileSync(path, JSON.stringify(file));
    const added = await world.server.reloadIdentities();
    assert.deepEqual(added, [{ account: 'globex', name: newcomer.name, id: newcomer.id }]);
    const user = { ...newcomer, account: 'globex', accountId: world.users.gus.accountId, projectId: world.users.gus.projectId };
    const described = await new Client(world, user, 'aksk').kms('describe-key', { key_id: keyId });
    assert.deepEqual([described.status, described.body.key_info.key_id], [200, keyId]);
  });

  test('a well-formed key id of no key is 404 KMS.0207', async () => {
    const r = await world.as('admin').kms('create-grant', { key_id: randomKeyId(), grantee_principal: 'abc', operations: ['describe-key'] });
    assert.equal(r.status, 404);
    assert.deepEqual(r.body, ERR('KMS.0207', 'The key does not exist.'));
  });

  for (const [who, why] of [['nobody', 'a user of the account without the IAM action'], ['reader', 'a user with only kms:cmk:get/list'], ['boss', 'the administrator of another account'], ['gina', 'a grantee without create-grant']]) {
    test(`${why} may not create a grant: 403 KMS.0306`, async () => {
      const admin = world.as('admin');
      const keyId = await newKey(admin);
      await newGrant(admin, keyId, world.users.gina.id, ['describe-key']);
      const r = await world.as(who).kms('create-grant', { key_id: keyId, grantee_principal: world.users.gus.id, operations: ['describe-key'] });
      assert.equal(r.status, 403);
      assert.deepEqual(r.body, ERR('KMS.0306', 'No access permissions.'));
      assert.equal((await admin.kms('list-grants', { key_id: keyId })).body.total, 1);
    });
  }

  test('a grantee holding create-grant grants only operations its grant has (no escalation)', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    await newGrant(admin, keyId, world.users.gus.id, ['create-grant', 'describe-key', 'encrypt-data']);
    (world.clock as ManualClock).advance(1);
    const gus = world.as('gus');
    const ok = await gus.kms('create-grant', { key_id: keyId, grantee_principal: world.users.rita.id, operations: ['describe-key'] });
    assert.equal(ok.status, 200);
    const widened = await gus.kms('create-grant', { key_id: keyId, grantee_principal: world.users.rita.id, operations: ['describe-key', 'decrypt-data'] });
    assert.equal(widened.status, 403);
    assert.deepEqual(widened.body, ERR('KMS.0306', 'No access permissions.'));
    const list = await admin.kms('list-grants', { key_id: keyId });
    assert.equal(list.body.total, 2);
    assert.equal(list.body.grants[1].issuing_principal, world.users.gus.id);
  });

  test('default keys cannot be granted: 400 KMS.0211', async () => {
    const admin = world.as('admin');
    const keys = await admin.kms('list-keys', { key_spec: 'ALL' });
    const obs = keys.body.key_details.find((k: { key_alias: string }) => k.key_alias === 'obs/default');
    assert.equal(obs.default_key_flag, '1');
    const r = await admin.kms('create-grant', { key_id: obs.key_id, grantee_principal: world.users.gina.id, operations: ['describe-key'] });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, ERR(DECISIONS.defaultKey, 'Cannot perform this operation on Default Master Keys.'));
  });

  test('a disabled key cannot be granted (KMS.0209), nor one pending deletion (KMS.0210)', async () => {
    const admin = world.as('admin');
    const disabled = await newKey(admin);
    await admin.kms('disable-key', { key_id: disabled });
    const r1 = await admin.kms('create-grant', { key_id: disabled, grantee_principal: 'abc', operations: ['describe-key'] });
    assert.deepEqual([r1.status, r1.body], [400, ERR('KMS.0209', 'The key has been disabled.')]);
    const doomed = await newKey(admin);
    await admin.kms('schedule-key-deletion', { key_id: doomed, pending_days: '7' });
    const r2 = await admin.kms('create-grant', { key_id: doomed, grantee_principal: 'abc', operations: ['describe-key'] });
    assert.deepEqual([r2.status, r2.body], [400, ERR('KMS.0210', 'The key is in Scheduled deletion state and cannot be used.')]);
  });

  test(`a key holds at most ${DECISIONS.grantsPerKey} grants: the next is 400 KMS.2404`, async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    await Promise.all(Array.from({ length: DECISIONS.grantsPerKey }, () => newGrant(admin, keyId, hex(8), ['describe-key'])));
    const r = await admin.kms('create-grant', { key_id: keyId, grantee_principal: 'abc', operations: ['describe-key'] });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.2404', 'Too many CMK grants.')]);
    assert.equal((await admin.kms('list-grants', { key_id: keyId })).body.total, DECISIONS.grantsPerKey);
  });
});
