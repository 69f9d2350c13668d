import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CSMS_ERRORS, KMS_ERRORS } from '../src/core/error-table.ts';
import type { Operation } from '../src/api/operation.ts';
import { OPERATIONS } from '../src/api/routes.ts';
import { hex, newGrant, newKey, startWorld, type World } from './harness.ts';
import { storeDigest } from './support/store-digest.ts';
import { operationPath, sendsBody } from './support/operation-path.ts';
import { allowCsms } from './support/csms.ts';

/**
 * Issue #6 §2: generated bad input for every operation. Each request starts from a body the
 * operation would accept and is spoiled in one or more ways (wrong types, missing and extra
 * fields, empty and huge strings, unicode, invalid UTF-8, numbers as strings and strings as
 * numbers, deep nesting, duplicate members, other content types, truncation). Whatever comes
 * out must be a 200 with the operation's answer or a documented KMS error with its exact status
 * and message: never a 500, never a hang; and anything but a 200 leaves the store unchanged.
 *
 * KMSD_FUZZ_RUNS sets the requests per operation (CI: 120; `npm run torture`: 4,000).
 */
const RUNS = Number(process.env.KMSD_FUZZ_RUNS ?? 120);
const SEED = process.env.KMSD_FUZZ_SEED === undefined ? undefined : Number(process.env.KMSD_FUZZ_SEED);

let world: World;
let token: string;
let base: Record<string, unknown>;
const tally = { requests: 0, ok: 0, refused: 0 };

before(async () => {
  world = await startWorld({ config: { bodyLimit: 65536, maxGrantsPerKey: 1_000_000 } });
  // alice (kms:*:*) holds the CSMS actions too, so that every operation would accept her.
  await allowCsms(world, 'alice');
  const alice = world.as('alice');
  token = await alice.getToken();
  const keyId = await newKey(alice);
  const grantId = await newGrant(alice, keyId, world.users.gus.id, ['describe-key']);
  const encrypted = await alice.kms('encrypt-data', { key_id: keyId, plain_text: 'hello' });
  const keystoreId = (await alice.request('POST', `/v1.0/${world.users.alice.projectId}/keystores`, { keystore_alias: `fuzz-${hex(4)}` })).body.keystore.keystore_id;
  base = {
    key_id: keyId, grant_id: grantId, key_alias: `fuzz-${hex(4)}`, key_description: 'd', grantee_principal: world.users.gus.id,
    operations: ['describe-key'], plain_text: 'hello', cipher_text: encrypted.body.cipher_text, datakey_length: '256',
    random_data_length: '32', pending_days: '7', rotation_interval: 30, limit: '10', sequence: '919c82d4-8046-4722-9094-35c3c6524cff',
    wrapping_algorithm: 'RSAES_OAEP_SHA_256', import_token: 'A'.repeat(300), encrypted_key_material: 'A'.repeat(344), expiration_time: 4102444800,
    keystore_alias: `fuzz-ks-${hex(4)}`, keystore_id: keystoreId, offset: '0', replica_region: 'cn-south-1', replica_project_id: hex(16),
    primary_region: 'cn-north-4',
    trace_type: 'system',
    // Tags and aliases (the tag key also fills delete-tag's {key} path parameter).
    key: 'fuzz-tag', tag: { key: 'fuzz-tag', value: 'v' }, tags: [{ key: 'fuzz-tag', value: 'v' }], action: 'create',
    matches: [{ key: 'resource_name', value: 'fuzz' }], alias: `fuzz-alias-${hex(4)}`, target_key_id: keyId,
    message: Buffer.alloc(32, 1).toString('base64'), signing_algorithm: 'ECDSA_SHA_256', signature: Buffer.alloc(70, 2).toString('base64'),
    mac_algorithm: 'HMAC_SHA_256', mac: Buffer.alloc(32, 3).toString('hex'), destination_key_id: keyId,
  };
  base.aliases = [base.alias];
  // CSMS (secrets): a secret every secret operation would accept.
  const secret = await alice.request('POST', `/v1/${world.users.alice.projectId}/secrets`, { name: `fuzz-${hex(4)}`, secret_string: 's' });
  Object.assign(base, {
    secret_name: secret.body.secret.name, secret_id: secret.body.secret.id, name: `fuzz-new-${hex(4)}`, secret_string: 'fuzz',
    version_id: 'v1', stage_name: 'fuzzstage', recovery_window_in_days: 7, length: 16, expire_time: 4102444800000,
  });
});
after(() => world.close());

// Values of every JSON kind, and the awkward ones a field can meet.
const awkwardValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '0', '-1', '1e309', 'NaN', 'null', 'true', '\u0000', '\ud800', '💥'.repeat(300), 'A'.repeat(70_000)),
  fc.integer(), fc.double({ noNaN: true }), fc.bigInt().map((n) => Number(n)), fc.boolean(), fc.constant(null),
  fc.integer({ min: 0, max: 10_000 }).map(String),
  fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.integer()), { maxKeys: 4 }),
  fc.integer({ min: 1, max: 50 }).map((depth) => JSON.parse(nested(depth))),
);

/** Objects and arrays nested `depth` deep, as JSON text (deep values stay text: see "deep nesting"). */
const nested = (depth: number): string => '{"a":['.repeat(depth) + '1' + ']}'.repeat(depth);

interface Sent {
  contentType: string;
  body: Buffer;
  what: string;
}

const contentType = fc.constantFrom(
  'application/json;charset=UTF-8', 'application/json', 'text/plain', 'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x', 'application/octet-stream', '', 'application/json;charset=latin1',
);

/** A spoiled version of the operation's base body, as raw bytes. */
function spoiled(op: Operation): fc.Arbitrary<Sent> {
  const names = [...Object.keys(op.fields), ...op.required];
  const field = fc.oneof(fc.constantFrom(...(names.length ? names : ['key_id'])), fc.string({ maxLength: 12 }), fc.constant('__proto__'));
  const edited = fc.record({
    set: fc.array(fc.tuple(field, awkwardValue), { maxLength: 4 }),
    drop: fc.subarray(names),
  }).map(({ set, drop }) => {
    const body: Record<string, unknown> = { ...pick(op) };
    for (const name of drop) delete body[name];
    for (const [name, value] of set) Object.defineProperty(body, name, { value, enumerable: true, configurable: true, writable: true });
    return body;
  });
  const json = edited.map((b) => Buffer.from(JSON.stringify(b)));
  const mangled = fc.oneof(
    json.map((b) => ({ body: b, what: 'edited JSON' })),
    fc.tuple(json, fc.nat()).map(([b, at]) => ({ body: b.subarray(0, at % Math.max(1, b.length)), what: 'truncated' })),
    fc.tuple(json, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 4 }).map((a) => Buffer.from(a.map((x) => 0x80 | x)))).map(
      ([b, at, bad]) => ({ body: Buffer.concat([b.subarray(0, at % b.length), bad, b.subarray(at % b.length)]), what: 'invalid UTF-8' })),
    fc.tuple(fc.constantFrom(...(names.length ? names : ['key_id'])), awkwardValue).map(([name, value]) => ({
      body: Buffer.from(`{${JSON.stringify(name)}:${JSON.stringify(pick(op)[name] ?? 'x')},${JSON.stringify(name)}:${JSON.stringify(value) ?? 'null'}}`),
      what: 'duplicate member',
    })),
    fc.tuple(fc.constantFrom(...(names.length ? names : ['key_id'])), fc.integer({ min: 1, max: 100_000 })).map(([name, n]) => ({
      body: Buffer.from(`{${JSON.stringify(name)}:${nested(n)}}`), what: 'deep nesting',
    })),
    fc.integer({ min: 1, max: 100_000 }).map((n) => ({ body: Buffer.from('['.repeat(n) + ']'.repeat(n)), what: 'deep nesting' })),
    fc.constantFrom('[]', 'null', '"text"', '42', 'true', '{', '}', '{"a":}', '\ufeff{}', '{"key_id":"\\ud800"}').map((t) => ({ body: Buffer.from(t), what: 'not an object' })),
    fc.uint8Array({ maxLength: 200 }).map((a) => ({ body: Buffer.from(a), what: 'random bytes' })),
  );
  return fc.tuple(mangled, contentType).map(([m, type]) => ({ ...m, contentType: type }));
}

function pick(op: Operation): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const name of Object.keys(op.fields)) if (name in base) body[name] = base[name];
  return body;
}

/** A GET carries no body: the spoiled members go in its query string instead (as text). */
function queryOf(sent: Sent): string {
  try {
    const members: unknown = JSON.parse(sent.body.toString('utf8'));
    if (typeof members !== 'object' || members === null || Array.isArray(members)) return '';
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(members)) query.append(name, typeof value === 'string' ? value : JSON.stringify(value) ?? '');
    return `?${query}`.slice(0, 8000);
  } catch {
    // Not JSON, or nested too deep to write back: the raw bytes as the query string.
    return `?${encodeURI(sent.body.toString('latin1').slice(0, 2000))}`;
  }
}

function assertDocumented(op: Operation, sent: Sent, status: number, text: string): void {
  const why = `${op.name} (${sent.what}): ${status} ${text.slice(0, 300)}`;
  if (status === 204) {
    assert.equal(text, '', why);
    return;
  }
  if (status === 200 || status === 201) {
    assert.doesNotThrow(() => JSON.parse(text), why);
    return;
  }
  if (op.service === 'csms') {
    // CSMS answers flat: {"error_code","error_msg"} (DECISIONS.csmsErrorBody).
    const flat = JSON.parse(text) as { error_code?: string; error_msg?: string };
    const csms = flat.error_code as keyof typeof CSMS_ERRORS;
    assert.ok(csms in CSMS_ERRORS, why);
    assert.deepEqual(flat, { error_code: csms, error_msg: CSMS_ERRORS[csms][1] }, why);
    assert.equal(status, CSMS_ERRORS[csms][0], why);
    assert.ok(status >= 400 && status < 500, why);
    return;
  }
  const body = JSON.parse(text) as { error?: { error_code?: string; error_msg?: string } };
  const code = body.error?.error_code as keyof typeof KMS_ERRORS;
  assert.ok(code in KMS_ERRORS, why);
  assert.deepEqual(body, { error: { error_code: code, error_msg: KMS_ERRORS[code][1] } }, why);
  assert.equal(status, KMS_ERRORS[code][0], why);
  assert.ok(status >= 400 && status < 500, why);
}

describe(`generated bad input (${RUNS} requests per operation)`, () => {
  for (const op of OPERATIONS) {
    test(op.name, async () => {
      const path = `${world.url}${operationPath(op, world.users.alice.projectId, base)}`;
      await fc.assert(
        fc.asyncProperty(spoiled(op), async (sent) => {
          const before = storeDigest(world.dataDir);
          const headers: Record<string, string> = { 'X-Auth-Token': token };
          if (sent.contentType) headers['Content-Type'] = sent.contentType;
          const r = await fetch(sendsBody(op) ? path : `${path}${queryOf(sent)}`, {
            method: op.method, headers, body: sendsBody(op) ? new Uint8Array(sent.body) : undefined, signal: AbortSignal.timeout(10_000),
          });
          const text = await r.text();
          tally.requests++;
          assertDocumented(op, sent, r.status, text);
          if (r.status >= 200 && r.status < 300) tally.ok++;
          else {
            tally.refused++;
            assert.equal(storeDigest(world.dataDir), before, `${op.name} (${sent.what}) was refused but changed the store`);
          }
        }),
        { numRuns: RUNS, seed: SEED },
      );
    });
  }

  test('IAM GET /v3/users (KeystoneListUsers): generated query strings', async () => {
    const adminToken = await world.as('admin').getToken();
    const FILTERS = ['domain_id', 'name', 'enabled', 'password_expires_at', 'limit', 'marker'];
    const value = fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('true', 'false', 'lt:2016-12-08T22:02:00Z', world.users.admin.accountId, ''),
      fc.string({ minLength: 2000, maxLength: 4000 }));
    // Within Node's header limit (16 KiB, answered 431 by Node itself before kmsd sees the request:
    // docs/limits.md); a longer URL once made a failing property that fast-check shrank for minutes.
    const query = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...FILTERS), fc.string({ maxLength: 12 })), value), { maxLength: 5 })
      .filter((pairs) => new URLSearchParams(pairs).toString().length < 12_000);
    await fc.assert(
      fc.asyncProperty(query, async (pairs) => {
        const search = new URLSearchParams(pairs).toString();
        const r = await fetch(`${world.url}/v3/users${search ? `?${search}` : ''}`, { headers: { 'X-Auth-Token': adminToken }, signal: AbortSignal.timeout(10_000) });
        const body = await r.json();
        tally.requests++;
        if (r.status === 200) {
          tally.ok++;
          assert.ok(Array.isArray(body.users), search);
        } else {
          tally.refused++;
          // Refusals in Keystone's form, never a 500.
          assert.ok([400, 403].includes(r.status), `${r.status} ${search}`);
          assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'title'], search);
          assert.equal(body.error.code, r.status);
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  test('the server is still up and serving', async (t) => {
    const r = await world.as('alice').kms('describe-key', { key_id: base.key_id });
    assert.equal(r.status, 200);
    t.diagnostic(`${tally.requests} generated requests: ${tally.refused} refused with a documented error, ${tally.ok} accepted`);
  });
});
