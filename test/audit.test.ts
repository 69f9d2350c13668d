import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import type { AuditEvent, AuditFilter } from '../src/core/model.ts';
import { ManualClock } from '../src/core/runtime.ts';
import { ERR, newGrant, newKey, raw, startWorld, type World } from './harness.ts';

const BIN = fileURLToPath(new URL('../bin/kmsd.js', import.meta.url));

let world: World;
const clock = new ManualClock(Date.now());
before(async () => {
  world = await startWorld({ clock });
});
after(() => world.close());

async function trail(filter: AuditFilter = {}): Promise<AuditEvent[]> {
  return world.server.store.read((tx) => tx.listAudit(filter, 0, 10_000));
}
const time = () => world.clock.now();

describe('audit trail', () => {
  test('a retire is recorded with the principal who retired, its access key, key, grant and request id', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    const grantId = await newGrant(alice, keyId, world.users.greg.id, ['describe-key', 'retire-grant']);
    const sequence = '919c82d4-8046-4722-9094-35c3c6524cff';
    const r = await world.as('greg', 'aksk').kms('retire-grant', { key_id: keyId, grant_id: grantId, sequence });
    assert.equal(r.status, 200);
    const events = await trail({ keyId });
    assert.deepEqual(events.map((e) => e.operation), ['create-key', 'create-grant', 'retire-grant']);
    const { seq, ...retire } = events[2];
    assert.equal(typeof seq, 'number');
    const greg = world.users.greg;
    assert.deepEqual(retire, {
      time: time(), requestId: r.headers.get('x-request-id'), accountId: greg.accountId, userId: greg.id, accessKeyId: greg.ak,
      claimedAccessKeyId: null, source: '127.0.0.1', operation: 'retire-grant', keyId, grantId, sequence, outcome: 'allowed',
      status: 200, errorCode: null, count: 1,
    });
    // create-grant is recorded with the grant it created, by the owner, with a token (no access key).
    assert.deepEqual([events[1].grantId, events[1].userId, events[1].accessKeyId], [grantId, world.users.alice.id, null]);
  });

  test('a denied retire is recorded as denied, with the code it was answered with, and nothing else changes', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    const grantId = await newGrant(alice, keyId, world.users.gus.id, ['describe-key']);
    const r = await world.as('gus').kms('retire-grant', { key_id: keyId, grant_id: grantId });
    assert.deepEqual([r.status, r.body], [403, ERR('KMS.0306', 'No access permissions.')]);
    const last = (await trail({ keyId })).at(-1) as AuditEvent;
    assert.deepEqual(
      [last.operation, last.userId, last.grantId, last.outcome, last.status, last.errorCode],
      ['retire-grant', world.users.gus.id, grantId, 'denied', 403, 'KMS.0306'],
    );
    assert.equal((await world.as('alice').kms('list-grants', { key_id: keyId })).body.total, 1);
  });

  test('a failed change is recorded as failed; a successful read is not recorded', async () => {
    const keyId = await newKey(world.as('alice'));
    const before = (await trail({ keyId })).length;
    assert.equal((await world.as('alice').kms('describe-key', { key_id: keyId })).status, 200);
    assert.equal((await world.as('alice').kms('encrypt-data', { key_id: keyId, plain_text: 'x' })).status, 200);
    assert.equal((await trail({ keyId })).length, before);
    const r = await world.as('alice').kms('revoke-grant', { key_id: keyId, grant_id: 'a'.repeat(64) });
    assert.equal(r.status, 400);
    const last = (await trail({ keyId })).at(-1) as AuditEvent;
    assert.deepEqual([last.operation, last.outcome, last.status, last.errorCode], ['revoke-grant', 'failed', 400, 'KMS.2501']);
  });

  test('tag and alias changes are recorded with their key and status (204 / 201 / 200); their reads are not', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    const other = await newKey(alice);
    const p = world.users.alice.projectId;
    const calls: Array<[string, string, unknown, number]> = [
      ['POST', `/v1.0/${p}/kms/${keyId}/tags`, { tag: { key: 'a', value: '1' } }, 204],
      ['POST', `/v1.0/${p}/kms/${keyId}/tags/action`, { action: 'create', tags: [{ key: 'b' }] }, 204],
      ['DELETE', `/v1.0/${p}/kms/${keyId}/tags/a`, undefined, 204],
      ['GET', `/v1.0/${p}/kms/${keyId}/tags`, undefined, 200],
      ['POST', `/v1.0/${p}/kms/resource_instances/action`, { action: 'count' }, 200],
      ['POST', `/v1.0/${p}/kms/aliases`, { key_id: keyId, alias: `audit-${keyId.slice(0, 8)}` }, 201],
      ['GET', `/v1.0/${p}/kms/aliases?key_id=${keyId}`, undefined, 200],
      ['POST', `/v1.0/${p}/kms/alias/associate`, { alias: `audit-${keyId.slice(0, 8)}`, target_key_id: other }, 200],
      ['DELETE', `/v1.0/${p}/kms/aliases`, { key_id: other, aliases: [`audit-${keyId.slice(0, 8)}`] }, 204],
      ['DELETE', `/v1.0/${p}/kms/${keyId}/tags/never`, undefined, 404],
    ];
    for (const [method, path, body, status] of calls) assert.equal((await alice.request(method, path, body)).status, status, `${method} ${path}`);
    const seen = (await trail({ keyId })).map((e) => [e.operation, e.outcome, e.status]);
    assert.deepEqual(seen, [
      ['create-key', 'allowed', 200], ['create-kms-tag', 'allowed', 204], ['batch-create-kms-tags', 'allowed', 204],
      ['delete-tag', 'allowed', 204], ['create-alias', 'allowed', 201], ['delete-tag', 'failed', 404],
    ]);
    // associate is recorded under its target key, delete under the key it names.
    assert.deepEqual((await trail({ keyId: other })).map((e) => [e.operation, e.status]), [['create-key', 200], ['associate-alias', 200], ['delete-alias', 204]]);
  });

  test('a read denied for lack of rights is recorded as denied', async () => {
    const keyId = await newKey(world.as('alice'));
    const r = await world.as('nobody').kms('describe-key', { key_id: keyId });
    assert.equal(r.status, 403);
    const last = (await trail({ keyId })).at(-1) as AuditEvent;
    assert.deepEqual([last.operation, last.userId, last.outcome], ['describe-key', world.users.nobody.id, 'denied']);
  });

  test('an unauthenticated request is recorded as denied with the access key it claimed (apart from access_key_id), and no identity', async () => {
    const path = `/v1.0/${world.users.alice.projectId}/kms/create-key`;
    const r = await raw(world.url, 'POST', path, {
      headers: {
        'Content-Type': 'application/json', 'X-Sdk-Date': '20261122T000000Z',
        Authorization: 'SDK-HMAC-SHA256 Access=AKNOSUCHKEY, SignedHeaders=x-sdk-date, Signature=00',
      },
      body: '{"key_alias":"never"}',
    });
    assert.equal(r.status, 401);
    const event = (await trail()).find((e) => e.requestId === r.body.request_id) as AuditEvent;
    assert.deepEqual(
      [event.operation, event.accessKeyId, event.claimedAccessKeyId, event.userId, event.accountId, event.keyId, event.outcome, event.status, event.errorCode, event.count],
      ['create-key', null, 'AKNOSUCHKEY', null, null, null, 'denied', 401, 'APIGW.0301', 1],
    );
  });

  test('bring your own key: get-parameters is a read (not recorded); import and delete of material are, with the key id', async () => {
    const alice = world.as('alice', 'aksk');
    const keyId = await newKey(alice, { origin: 'external' });
    const p = (await alice.kms('get-parameters-for-import', { key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_256' })).body;
    const material = randomBytes(32);
    const wrapped = publicEncrypt(
      { key: createPublicKey({ key: Buffer.from(p.public_key, 'base64'), format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      material,
    ).toString('base64');
    const bad = await alice.kms('import-key-material', { key_id: keyId, import_token: p.import_token, encrypted_key_material: wrapped, expiration_time: 1 });
    assert.equal(bad.status, 400);
    assert.equal((await alice.kms('import-key-material', { key_id: keyId, import_token: p.import_token, encrypted_key_material: wrapped })).status, 200);
    assert.equal((await alice.kms('delete-imported-key-material', { key_id: keyId })).status, 200);
    const events = await trail({ keyId });
    assert.deepEqual(events.map((e) => [e.operation, e.outcome, e.errorCode]), [
      ['create-key', 'allowed', null], ['import-key-material', 'failed', 'KMS.2602'], ['import-key-material', 'allowed', null],
      ['delete-imported-key-material', 'allowed', null],
    ]);
    const text = JSON.stringify(events);
    for (const secret of [p.import_token.slice(0, 40), wrapped.slice(0, 40), material.toString('hex'), material.toString('base64')]) {
      assert.equal(text.includes(secret), false);
    }
  });

  test('key store and region changes are recorded: allowed, failed, denied', async () => {
    const alice = world.as('alice');
    const base = `/v1.0/${world.users.alice.projectId}/keystores`;
    const since = ((await trail()).at(-1) as AuditEvent).seq as number;
    const created = await alice.request('POST', base, { keystore_alias: `audit-${randomBytes(3).toString('hex')}` });
    const id = created.body.keystore.keystore_id;
    assert.equal((await alice.request('POST', `${base}/${id}/disable`)).status, 200);
    assert.equal((await world.as('nobody').request('DELETE', `${base}/${id}`)).status, 403);
    assert.equal((await alice.request('DELETE', `${base}/${id}`)).status, 200);
    const keyId = await newKey(alice);
    const replicate = await alice.request('POST', `/v2/${world.users.alice.projectId}/kms/keys/${keyId}/replicate`, {
      replica_region: 'cn-south-1', key_alias: 'r', replica_project_id: 'p1',
    });
    assert.equal(replicate.status, 400);
    const events = await world.server.store.read((tx) => tx.listAudit({}, since, 100));
    assert.deepEqual(events.map((e) => [e.operation, e.userId === world.users.alice.id ? 'alice' : 'nobody', e.outcome, e.status, e.errorCode]), [
      ['create-keystore', 'alice', 'allowed', 200, null],
      ['disable-keystore', 'alice', 'allowed', 200, null],
      ['delete-keystore', 'nobody', 'denied', 403, 'KMS.0306'],
      ['delete-keystore', 'alice', 'allowed', 200, null],
      ['create-key', 'alice', 'allowed', 200, null],
      ['replicate-key', 'alice', 'failed', 400, 'KMS.1102'],
    ]);
    assert.equal(events.at(-1)?.keyId, keyId);
  });

  test('records hold identifiers only: no plaintext, data key, token, secret key or signature', async () => {
    const alice = world.as('alice', 'aksk');
    const keyId = await newKey(alice);
    await alice.kms('encrypt-data', { key_id: keyId, plain_text: 'the-secret-plaintext' });
    await alice.kms('create-datakey', { key_id: keyId, datakey_length: '256' });
    await world.as('alice').kms('disable-key', { key_id: keyId });
    const text = JSON.stringify(await trail());
    for (const secret of ['the-secret-plaintext', world.users.alice.sk, await world.as('alice').getToken(), 'Signature=']) {
      assert.equal(text.includes(secret), false, `trail holds ${secret.slice(0, 12)}`);
    }
  });
});

describe('kmsd audit', () => {
  const cli = async (...args: string[]) =>
    promisify(execFile)(process.execPath, [BIN, 'audit', '--data-dir', world.dataDir, ...args]);
  /** The table's column widths, the same on every page of 1,000 records: SEQ, TIME, CALLER, OPERATION, KEY, OUTCOME, SOURCE. */
  const WIDTHS = [10, 24, 36, 34, 36, 26, 24];

  test('a recorded key id with ESC, CR and LF cannot forge a row or drive the terminal: the table shows them escaped', async () => {
    await world.as('gus').getToken();
    clock.advance(60_000);
    const later = new Date(time()).toISOString();
    // The least-privileged caller sends a key id that, printed raw, would return the cursor, erase
    // the line and write a row of its own making, then set the terminal's title.
    const forged = '\r\u001b[K17  2026-01-01T00:00:00.000Z  admin@dev\n\u001b]0;pwned\u0007';
    const r = await world.as('gus').kms('retire-grant', { key_id: forged, grant_id: 'g' });
    assert.equal(r.status, 400);
    const [event] = (await cli('--since', later, '-o', 'json')).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(event.key_id, forged, JSON.stringify(event));
    const printed = (await cli('--since', later)).stdout;
    const shown = '\\r\\x1b[K17  2026-01-01T00:00:00.000Z  admin@dev\\n\\x1b]0;pwned\\x07';
    const row = [String(event.seq), event.time, 'gus@globex', 'retire-grant', `${shown.slice(0, 35)}…`, `failed 400 ${event.error_code}`, event.source, 'g'];
    const line = (cells: string[]) => cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(WIDTHS[c]))).join('  ').trimEnd();
    assert.equal(printed, `${line(['SEQ', 'TIME', 'CALLER', 'OPERATION', 'KEY', 'OUTCOME', 'SOURCE', 'GRANT'])}\n${line(row)}\n`);
    assert.equal(/[\u0000-\u0009\u000b-\u001f\u007f]/.test(printed), false);
    assert.equal(printed.split('\n').length, 3);
  });

  test('a refused login shows as unknown, naming the user it tried, not as that user', async () => {
    clock.advance(60_000);
    const later = new Date(time()).toISOString();
    const alice = world.users.alice;
    const r = await raw(world.url, 'POST', '/v3/auth/tokens', {
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: alice.name, password: 'wrong', domain: { name: alice.account } } } } } }),
    });
    assert.equal(r.status, 401);
    const [event] = (await cli('--since', later, '-o', 'json')).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual([event.operation, event.user_id, event.outcome], ['create-token', alice.id, 'denied']);
    const line = (cells: string[]) => cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(WIDTHS[c]))).join('  ').trimEnd();
    const row = [String(event.seq), event.time, `unknown (tried ${alice.name}@${alice.account})`, 'create-token', '', `denied 401${event.error_code ? ` ${event.error_code}` : ''}`, event.source, ''];
    assert.equal((await cli('--since', later)).stdout.split('\n')[1], line(row));
  });

  test('-ojson is --output json, as for the client commands', async () => {
    const keyId = await newKey(world.as('alice'));
    const joined = (await cli('--key', keyId, '-ojson')).stdout;
    assert.equal(joined, (await cli('--key', keyId, '--output', 'json')).stdout);
    assert.equal(JSON.parse(joined.trim()).key_id, keyId);
  });

  test('prints a table by default: callers as user@account, keys by alias, refusals with their code', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    const { key_info } = (await alice.kms('describe-key', { key_id: keyId })).body;
    const grantId = await newGrant(alice, keyId, world.users.greg.id, ['describe-key', 'retire-grant']);
    await world.as('greg').kms('retire-grant', { key_id: keyId, grant_id: grantId });
    await world.as('gus').kms('encrypt-data', { key_id: keyId, plain_text: 'x' });
    const printed = (await cli('--key', keyId)).stdout;
    const json = (await cli('--key', keyId, '-o', 'json')).stdout.trim().split('\n').map((l) => JSON.parse(l));
    const at = (i: number) => new Date(json[i].time).toISOString();
    const rows = [
      ['SEQ', 'TIME', 'CALLER', 'OPERATION', 'KEY', 'OUTCOME', 'SOURCE', 'GRANT'],
      [String(json[0].seq), at(0), 'alice@acme', 'create-key', key_info.key_alias, 'allowed 200', json[0].source, ''],
      [String(json[1].seq), at(1), 'alice@acme', 'create-grant', key_info.key_alias, 'allowed 200', json[1].source, grantId],
      [String(json[2].seq), at(2), 'greg@globex', 'retire-grant', key_info.key_alias, 'allowed 200', json[2].source, grantId],
      [String(json[3].seq), at(3), 'gus@globex', 'encrypt-data', key_info.key_alias, 'denied 403 KMS.0306', json[3].source, ''],
    ];
    const expected = rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(WIDTHS[c]))).join('  ').trimEnd()).join('\n');
    assert.equal(printed, `${expected}\n`);
    // The same records as JSON, as before.
    assert.deepEqual(json.map((e) => [e.operation, e.user_id, e.key_id, e.grant_id]), [
      ['create-key', world.users.alice.id, keyId, null], ['create-grant', world.users.alice.id, keyId, grantId],
      ['retire-grant', world.users.greg.id, keyId, grantId], ['encrypt-data', world.users.gus.id, keyId, null],
    ]);
    await assert.rejects(cli('--key', keyId, '--output', 'yaml'), (e: { code: number; stderr: string }) =>
      e.code === 2 && e.stderr === 'kmsd: --output must be table or json, got "yaml"\n');
  });

  test('the table shows a caller refused before it was known as unknown, with the access key it claimed', async () => {
    clock.advance(60_000);
    const later = new Date(time()).toISOString();
    const r = await raw(world.url, 'POST', `/v1.0/${world.users.alice.projectId}/kms/create-key`, {
      headers: {
        'Content-Type': 'application/json', 'X-Sdk-Date': '20261122T000000Z',
        Authorization: 'SDK-HMAC-SHA256 Access=AKCLAIMEDINTABLE, SignedHeaders=x-sdk-date, Signature=00',
      },
      body: '{"key_alias":"never"}',
    });
    assert.equal(r.status, 401);
    const [event] = (await cli('--since', later, '-o', 'json')).stdout.trim().split('\n').map((l) => JSON.parse(l));
    const row = [String(event.seq), event.time, 'unknown (claimed AKCLAIMEDINTABLE)', 'create-key', '', 'denied 401 APIGW.0301', event.source, ''];
    const header = ['SEQ', 'TIME', 'CALLER', 'OPERATION', 'KEY', 'OUTCOME', 'SOURCE', 'GRANT'];
    const line = (cells: string[]) => cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(WIDTHS[c]))).join('  ').trimEnd();
    assert.equal((await cli('--since', later)).stdout, `${line(header)}\n${line(row)}\n`);
  });

  test('prints JSON lines by key, by principal and since a time', async () => {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    const grantId = await newGrant(alice, keyId, world.users.greg.id, ['describe-key', 'retire-grant']);
    await world.as('greg').kms('retire-grant', { key_id: keyId, grant_id: grantId });
    const byKey = (await cli('--key', keyId, '-o', 'json')).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(byKey.map((e) => [e.operation, e.outcome]), [['create-key', 'allowed'], ['create-grant', 'allowed'], ['retire-grant', 'allowed']]);
    assert.deepEqual(Object.keys(byKey[2]), [
      'seq', 'time', 'request_id', 'account_id', 'user_id', 'access_key_id', 'claimed_access_key_id', 'source', 'operation', 'key_id',
      'grant_id', 'sequence', 'outcome', 'status', 'error_code', 'count', 'secret_id', 'secret_name',
    ]);
    assert.equal(byKey[2].time, new Date(time()).toISOString());
    assert.equal(byKey[2].user_id, world.users.greg.id);

    const byGus = (await cli('--principal', world.users.greg.id, '--key', keyId, '--output', 'json')).stdout.trim().split('\n');
    assert.deepEqual(byGus.map((l) => JSON.parse(l).operation), ['retire-grant']);

    clock.advance(60_000);
    const later = new Date(time()).toISOString();
    assert.equal((await cli('--since', later, '-o', 'json')).stdout, '');
    await world.as('alice', 'aksk').kms('disable-key', { key_id: keyId });
    const since = (await cli('--since', later, '--output=json')).stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(since.map((e) => [e.operation, e.key_id]), [['disable-key', keyId]]);
  });

  test('a bad --since or a missing store is refused with exit code 2', async () => {
    await assert.rejects(cli('--since', 'yesterday'), (e: { code: number; stderr: string }) =>
      e.code === 2 && e.stderr === 'kmsd: --since must be a date or time in ISO 8601, got "yesterday"\n');
    await assert.rejects(
      promisify(execFile)(process.execPath, [BIN, 'audit', '--data-dir', '/nonexistent/kmsd']),
      (e: { code: number; stderr: string }) => e.code === 2 && e.stderr === 'kmsd: no kmsd store at /nonexistent/kmsd/kmsd.db (give --data-dir or --store)\n',
    );
  });
});
