import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { ERR, hex, newGrant, newKey } from './harness.ts';
import { startCluster, type Cluster } from './support/cluster.ts';
import { POSTGRES_SKIP } from './support/postgres.ts';

const DENIED = ERR('KMS.0306', 'No access permissions.');

describe('several kmsd nodes over one PostgreSQL database', { skip: POSTGRES_SKIP }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(2);
  });
  after(() => cluster?.close());
  const [A, B] = [() => cluster.nodes[0], () => cluster.nodes[1]];

  test('a grant retired through node A: the grantee\'s next request through node B is denied', async () => {
    const keyId = await newKey(A().as('admin'));
    const grantId = await newGrant(A().as('admin'), keyId, cluster.users.gus.id, ['describe-key', 'encrypt-data'], { retiring_principal: cluster.users.rita.id });
    assert.equal((await B().as('gus', 'aksk').kms('encrypt-data', { key_id: keyId, plain_text: 'x' })).status, 200);
    assert.equal((await A().as('rita').kms('retire-grant', { key_id: keyId, grant_id: grantId })).status, 200);
    for (const op of ['encrypt-data', 'describe-key']) {
      const r = await B().as('gus', 'aksk').kms(op, { key_id: keyId, plain_text: 'x' });
      assert.deepEqual([r.status, r.body], [403, DENIED], op);
    }
  });

  test('a grant list answered by node B is current the moment a retire and a create through node A return', async () => {
    const keyId = await newKey(A().as('admin'));
    const first = await newGrant(A().as('admin'), keyId, cluster.users.gus.id, ['describe-key']);
    const ids = async () => (await B().as('admin').kms('list-grants', { key_id: keyId })).body.grants.map((g: { grant_id: string }) => g.grant_id);
    assert.deepEqual(await ids(), [first]);
    assert.deepEqual(await ids(), [first]);
    assert.equal((await A().as('admin').kms('revoke-grant', { key_id: keyId, grant_id: first })).status, 200);
    assert.deepEqual(await ids(), []);
    const second = await newGrant(A().as('admin'), keyId, cluster.users.gus.id, ['describe-key']);
    assert.deepEqual(await ids(), [second]);
  });

  test('50 concurrent retires of one grant over both nodes: exactly one 200, the others 400 KMS.2501', async () => {
    const keyId = await newKey(A().as('admin'));
    const grantId = await newGrant(A().as('admin'), keyId, cluster.users.greg.id, ['describe-key', 'retire-grant'], { retiring_principal: cluster.users.rita.id });
    // Each named by the grant and holding the retire action (greg, rita) or every action (admin).
    const retirers = ['greg', 'rita', 'admin'];
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      cluster.nodes[i % 2].as(retirers[i % 3], i % 4 < 2 ? 'token' : 'aksk').kms('retire-grant', { key_id: keyId, grant_id: grantId })));
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 1);
    for (const r of results.filter((x) => x.status !== 200)) assert.deepEqual([r.status, r.body], [400, ERR('KMS.2501', 'Invalid grant ID.')]);
    assert.equal((await B().as('admin').kms('list-grants', { key_id: keyId })).body.total, 0);
  });

  test('concurrent create-grant through both nodes never exceeds 100 grants on a key', async () => {
    const keyId = await newKey(A().as('admin'));
    const results = await Promise.all(Array.from({ length: 140 }, (_, i) =>
      cluster.nodes[i % 2].as(i % 3 ? 'admin' : 'alice', 'aksk').kms('create-grant', { key_id: keyId, grantee_principal: hex(8), operations: ['describe-key'] })));
    assert.equal(results.filter((r) => r.status === 200).length, 100);
    for (const r of results.filter((x) => x.status !== 200)) assert.deepEqual([r.status, r.body], [400, ERR('KMS.2404', 'Too many CMK grants.')]);
    assert.equal((await B().as('admin').kms('list-grants', { key_id: keyId })).body.total, 100);
  });

  test('concurrent enable / disable / schedule / cancel of one key end in a state a serial order explains', async () => {
    const keyId = await newKey(A().as('admin'));
    const ops = ['disable-key', 'enable-key', 'disable-key', 'enable-key', 'schedule-key-deletion', 'cancel-key-deletion'];
    const sent = Array.from({ length: 36 }, (_, i) => ops[(i * 7) % ops.length]);
    const results = await Promise.all(sent.map((op, i) =>
      cluster.nodes[i % 2].as('admin', 'aksk').kms(op, { key_id: keyId, ...(op === 'schedule-key-deletion' && { pending_days: '7' }) })));
    const succeeded = sent.filter((_, i) => results[i].status === 200);
    const final = (await A().as('admin').kms('describe-key', { key_id: keyId })).body.key_info.key_state;
    // Each success moves the state from its precondition: can the successes be ordered into
    // one chain from "2" (enabled) to the final state?
    const step: Record<string, [string[], string]> = {
      'disable-key': [['2'], '3'], 'enable-key': [['3'], '2'],
      'schedule-key-deletion': [['2', '3'], '4'], 'cancel-key-deletion': [['4'], '3'],
    };
    const counts = new Map<string, number>();
    for (const op of succeeded) counts.set(op, (counts.get(op) ?? 0) + 1);
    const explain = (state: string, left: number): boolean => {
      if (left === 0) return state === final;
      for (const [op, n] of counts) {
        if (n === 0 || !step[op][0].includes(state)) continue;
        counts.set(op, n - 1);
        const ok = explain(step[op][1], left - 1);
        counts.set(op, n);
        if (ok) return true;
      }
      return false;
    };
    assert.ok(succeeded.length > 0);
    assert.ok(explain('2', succeeded.length), `no serial order explains ${JSON.stringify(succeeded)} ending in ${final}`);
  });

  test('a key disabled through one node refuses use through the other at once, and works again once enabled', async () => {
    const keyId = await newKey(A().as('admin'));
    await newGrant(A().as('admin'), keyId, cluster.users.gus.id, ['encrypt-data']);
    assert.equal((await B().as('gus').kms('encrypt-data', { key_id: keyId, plain_text: 'x' })).status, 200);
    await A().as('admin').kms('disable-key', { key_id: keyId });
    const r = await B().as('gus').kms('encrypt-data', { key_id: keyId, plain_text: 'x' });
    assert.deepEqual([r.status, r.body], [400, ERR('KMS.0209', 'The key has been disabled.')]);
    await B().as('admin').kms('enable-key', { key_id: keyId });
    assert.equal((await A().as('gus').kms('encrypt-data', { key_id: keyId, plain_text: 'x' })).status, 200);
  });

  test('data encrypted on one node decrypts on the other', async () => {
    const keyId = await newKey(A().as('admin'));
    const ct = (await A().as('admin').kms('encrypt-data', { key_id: keyId, plain_text: 'shared root key' })).body.cipher_text;
    assert.equal((await B().as('admin', 'aksk').kms('decrypt-data', { cipher_text: ct })).body.plain_text, 'shared root key');
  });

  test('an access key removed by a node restarting with a new identities file stops working on every node', async () => {
    assert.equal((await B().as('reader', 'aksk').kms('list-keys', {})).status, 200);
    const file = JSON.parse(readFileSync(cluster.identities, 'utf8'));
    for (const account of file.accounts) for (const user of account.users) if (user.name === 'reader') user.access_keys = [];
    writeFileSync(cluster.identities, JSON.stringify(file));
    const restarted = await cluster.startNode();
    try {
      for (const node of [B(), restarted]) {
        const r = await node.as('reader', 'aksk').kms('list-keys', {});
        assert.deepEqual([r.status, r.body.error_code], [401, 'APIGW.0301']);
      }
    } finally {
      await restarted.stop();
    }
  });
});
