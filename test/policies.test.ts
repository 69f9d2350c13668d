import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { testConfig } from '../src/config.ts';
import { startServer } from '../src/server.ts';
import { IdentitiesError, parseIdentities } from '../src/identities.ts';
import { Client, ERR, hex, newGrant, newKey, startWorld, worldIdentities, type TestUser, type World } from './harness.ts';

/**
 * Issue #13 item 6: identity policies as Huawei writes them, through the real server. Each row
 * is (the user's policies, operation, key, expected answer); every row's user is a fresh IAM
 * user of acme (or globex) holding exactly those policies.
 * Keys: aes (AES_256, tags env=prod team=pay), sm4 (SM4, env=dev), bare (no tags), ext (external).
 */

const DENIED = ERR('KMS.0306', 'No access permissions.');

type Doc = { Version: string; Statement: unknown[] };
type KeyName = 'aes' | 'sm4' | 'bare' | 'ext' | null;

interface Row {
  title: string;
  policies: Array<string | Doc>;
  op: string;
  key: KeyName;
  /** Extra body members (create-key spec, create-grant operations). */
  body?: Record<string, unknown>;
  account?: 'acme' | 'globex';
  /** A grant on the key for this user with these operations, made by acme's admin. */
  grant?: string[];
  status: 200 | 403;
}

const doc = (...Statement: unknown[]): Doc => ({ Version: '5.0', Statement });
const allow = (Action: string[], extra: Record<string, unknown> = {}) => ({ Effect: 'Allow', Action, ...extra });
const deny = (Action: string[], extra: Record<string, unknown> = {}) => ({ Effect: 'Deny', Action, ...extra });

// Filled in before(): the keys' ids and acme's / globex's account ids. Policies name them as
// {aes}, {acme}, ... placeholders, replaced when the users are written to the identities file.
const ids: Record<string, string> = {};
const urn = (key: string) => `kms:*:*:KeyId:{${key}}`;
const withIds = <T>(value: T): T => JSON.parse(JSON.stringify(value).replace(/\{(\w+)\}/g, (_, name: string) => ids[name]));

const ROWS: Row[] = [
  // Action patterns and roles, as before.
  { title: 'an action pattern allows its action', policies: ['kms:cmk:get'], op: 'describe-key', key: 'aes', status: 200 },
  { title: 'an action pattern allows nothing else', policies: ['kms:cmk:get'], op: 'encrypt-data', key: 'aes', status: 403 },
  { title: 'a system role allows every KMS action', policies: ['KMS Administrator'], op: 'encrypt-data', key: 'aes', status: 200 },
  { title: 'no policies allow nothing', policies: [], op: 'describe-key', key: 'aes', status: 403 },
  // Documents: actions.
  { title: 'a 5.0 document allows its action (Huawei name)', policies: [doc(allow(['kms:cmk:encryptData']))], op: 'encrypt-data', key: 'aes', status: 200 },
  { title: 'a 1.1 document allows its action (OTC alias)', policies: [{ Version: '1.1', Statement: [allow(['kms:cmk:crypto'])] }], op: 'encrypt-data', key: 'aes', status: 200 },
  { title: 'a document allows only its actions', policies: [doc(allow(['kms:cmk:decryptData']))], op: 'encrypt-data', key: 'aes', status: 403 },
  { title: 'action names match whatever their case', policies: [doc(allow(['KMS:CMK:ENCRYPTDATA']))], op: 'encrypt-data', key: 'aes', status: 200 },
  { title: 'kms::generateRandom, as Huawei spells it', policies: [doc(allow(['kms::generateRandom']))], op: 'gen-random', key: null, status: 200 },
  { title: 'NotAction allows every other action', policies: [doc({ Effect: 'Allow', NotAction: ['kms:cmk:encryptData'] })], op: 'describe-key', key: 'aes', status: 200 },
  { title: 'NotAction does not allow the action it names', policies: [doc({ Effect: 'Allow', NotAction: ['kms:cmk:encryptData'] })], op: 'encrypt-data', key: 'aes', status: 403 },
  // Deny over Allow.
  { title: 'a Deny wins over an Allow in the same document', policies: [doc(allow(['kms:*:*']), deny(['kms:cmk:encryptData']))], op: 'encrypt-data', key: 'aes', status: 403 },
  { title: 'a Deny refuses only its action', policies: [doc(allow(['kms:*:*']), deny(['kms:cmk:encryptData']))], op: 'describe-key', key: 'aes', status: 200 },
  { title: 'a Deny wins over an action pattern, whatever the order', policies: [doc(deny(['kms:cmk:*'])), 'kms:*:*'], op: 'encrypt-data', key: 'aes', status: 403 },
  { title: 'a Deny of the OTC alias refuses the Huawei-named call', policies: ['kms:*:*', doc(deny(['kms:cmk:crypto']))], op: 'encrypt-data', key: 'aes', status: 403 },
  { title: 'a Deny of create-grant refuses it to a full user', policies: ['kms:*:*', doc(deny(['kms:cmk:createGrant']))], op: 'create-grant', key: 'aes', status: 403 },
  // Resource.
  { title: 'a Deny scoped to one key refuses that key', policies: ['kms:*:*', doc(deny(['kms:cmk:encryptData'], { Resource: [urn('aes')] }))], op: 'encrypt-data', key: 'aes', status: 403 },
  { title: 'a Deny scoped to one key leaves the others', policies: ['kms:*:*', doc(deny(['kms:cmk:encryptData'], { Resource: [urn('aes')] }))], op: 'encrypt-data', key: 'bare', status: 200 },
  { title: 'an Allow scoped to a key allows that key', policies: [doc(allow(['kms:cmk:encryptData'], { Resource: [urn('aes')] }))], op: 'encrypt-data', key: 'aes', status: 200 },
  { title: 'Resource mismatch: an Allow scoped to another key', policies: [doc(allow(['kms:cmk:encryptData'], { Resource: [urn('aes')] }))], op: 'encrypt-data', key: 'bare', status: 403 },
  { title: 'the 1.1 spelling KMS:*:*:KeyId:<id>', policies: [{ Version: '1.1', Statement: [allow(['kms:cmk:crypto'], { Resource: ['KMS:*:*:KeyId:{aes}'] })] }], op: 'encrypt-data', key: 'aes', status: 200 },
  { title: 'a wildcard key id matches every key', policies: [doc(allow(['kms:cmk:encryptData'], { Resource: ['kms:*:*:KeyId:*'] }))], op: 'encrypt-data', key: 'sm4', status: 200 },
  { title: 'a key id prefix with * matches', policies: [doc(allow(['kms:cmk:encryptData'], { Resource: ['kms:*:*:KeyId:{aes8}*'] }))], op: 'encrypt-data', key: 'aes', status: 200 },
  { title: 'the region and account of the URN must be the key\'s', policies: [doc(allow(['kms:cmk:encryptData'], { Resource: ['kms:*:{acme}:KeyId:*'] }))], op: 'encrypt-data', key: 'aes', status: 200 },
  { title: 'Resource mismatch: another account in the URN', policies: [doc(allow(['kms:cmk:encryptData'], { Resource: ['kms:*:{globex}:KeyId:*'] }))], op: 'encrypt-data', key: 'aes', status: 403 },
  { title: 'Resource mismatch: another region in the URN', policies: [doc(allow(['kms:cmk:encryptData'], { Resource: ['kms:eu-west-101:*:KeyId:*'] }))], op: 'encrypt-data', key: 'aes', status: 403 },
  { title: 'an operation on no key needs Resource "*"', policies: [doc(allow(['kms:cmk:list'], { Resource: ['kms:*:*:KeyId:*'] }))], op: 'list-keys', key: null, status: 403 },
  { title: 'Resource "*" covers operations on no key', policies: [doc(allow(['kms:cmk:list'], { Resource: ['*'] }))], op: 'list-keys', key: null, status: 200 },
  // Tag conditions.
  { title: 'tag condition true', policies: [doc(allow(['kms:cmk:encryptData'], { Condition: { StringEquals: { 'g:ResourceTag/env': ['prod'] } } }))], op: 'encrypt-data', key: 'aes', status: 200 },
  { title: 'tag condition false', policies: [doc(allow(['kms:cmk:encryptData'], { Condition: { StringEquals: { 'g:ResourceTag/env': ['prod'] } } }))], op: 'encrypt-data', key: 'sm4', status: 403 },
  { title: 'tag condition on a key without the tag', policies: [doc(allow(['kms:cmk:encryptData'], { Condition: { StringEquals: { 'g:ResourceTag/env': ['prod'] } } }))], op: 'encrypt-data', key: 'bare', status: 403 },
  { title: 'IfExists: a missing tag passes', policies: [doc(allow(['kms:cmk:encryptData'], { Condition: { StringEqualsIfExists: { 'g:ResourceTag/env': ['prod'] } } }))], op: 'encrypt-data', key: 'bare', status: 200 },
  { title: 'IfExists: a present tag must match', policies: [doc(allow(['kms:cmk:encryptData'], { Condition: { StringEqualsIfExists: { 'g:ResourceTag/env': ['prod'] } } }))], op: 'encrypt-data', key: 'sm4', status: 403 },
  { title: 'StringNotEquals holds for a missing tag', policies: [doc(allow(['kms:cmk:encryptData'], { Condition: { StringNotEquals: { 'g:ResourceTag/env': ['prod'] } } }))], op: 'encrypt-data', key: 'bare', status: 200 },
  { title: 'a Deny on a tag refuses the tagged key', policies: ['kms:*:*', doc(deny(['kms:cmk:*'], { Condition: { StringEquals: { 'g:ResourceTag/env': ['prod'] } } }))], op: 'encrypt-data', key: 'aes', status: 403 },
  { title: 'a Deny on a tag leaves a key with another value', policies: ['kms:*:*', doc(deny(['kms:cmk:*'], { Condition: { StringEquals: { 'g:ResourceTag/env': ['prod'] } } }))], op: 'encrypt-data', key: 'sm4', status: 200 },
  { title: 'a Deny on a tag leaves a key without it', policies: ['kms:*:*', doc(deny(['kms:cmk:*'], { Condition: { StringEquals: { 'g:ResourceTag/env': ['prod'] } } }))], op: 'encrypt-data', key: 'bare', status: 200 },
  { title: 'Null "false": the tag must be present', policies: [doc(allow(['kms:cmk:get'], { Condition: { Null: { 'g:ResourceTag/team': 'false' } } }))], op: 'describe-key', key: 'aes', status: 200 },
  { title: 'Null "false" refuses a key without the tag', policies: [doc(allow(['kms:cmk:get'], { Condition: { Null: { 'g:ResourceTag/team': 'false' } } }))], op: 'describe-key', key: 'sm4', status: 403 },
  { title: 'StringLike with a wildcard', policies: [doc(allow(['kms:cmk:get'], { Condition: { StringLike: { 'g:ResourceTag/team': ['p*'] } } }))], op: 'describe-key', key: 'aes', status: 200 },
  { title: 'StringEqualsIgnoreCase', policies: [doc(allow(['kms:cmk:get'], { Condition: { StringEqualsIgnoreCase: { 'g:ResourceTag/env': ['PROD'] } } }))], op: 'describe-key', key: 'aes', status: 200 },
  { title: 'StringEquals is case-sensitive', policies: [doc(allow(['kms:cmk:get'], { Condition: { StringEquals: { 'g:ResourceTag/env': ['PROD'] } } }))], op: 'describe-key', key: 'aes', status: 403 },
  { title: 'two conditions must both hold', policies: [doc(allow(['kms:cmk:get'], { Condition: { StringEquals: { 'g:ResourceTag/env': ['prod'], 'kms:KeySpec': ['SM4'] } } }))], op: 'describe-key', key: 'aes', status: 403 },
  // Key attributes.
  { title: 'kms:KeySpec true', policies: [doc(allow(['kms:cmk:encryptData'], { Condition: { StringEquals: { 'kms:KeySpec': ['SM4'] } } }))], op: 'encrypt-data', key: 'sm4', status: 200 },
  { title: 'kms:KeySpec false', policies: [doc(allow(['kms:cmk:encryptData'], { Condition: { StringEquals: { 'kms:KeySpec': ['SM4'] } } }))], op: 'encrypt-data', key: 'aes', status: 403 },
  { title: 'kms:KeyOrigin external', policies: [doc(allow(['kms:cmk:get'], { Condition: { StringEquals: { 'kms:KeyOrigin': ['external'] } } }))], op: 'describe-key', key: 'ext', status: 200 },
  { title: 'kms:KeyOrigin refuses a kms key', policies: [doc(allow(['kms:cmk:get'], { Condition: { StringEquals: { 'kms:KeyOrigin': ['external'] } } }))], op: 'describe-key', key: 'aes', status: 403 },
  { title: 'kms:KeyUsage', policies: [doc(allow(['kms:cmk:get'], { Condition: { StringEquals: { 'kms:KeyUsage': ['ENCRYPT_DECRYPT'] } } }))], op: 'describe-key', key: 'aes', status: 200 },
  { title: 'create-key: kms:KeySpec of the key asked for', policies: [doc(allow(['kms:cmk:create'], { Condition: { StringEquals: { 'kms:KeySpec': ['AES_256'] } } }))], op: 'create-key', key: null, status: 200 },
  { title: 'create-key: another spec is refused', policies: [doc(allow(['kms:cmk:create'], { Condition: { StringEquals: { 'kms:KeySpec': ['AES_256'] } } }))], op: 'create-key', key: null, body: { key_spec: 'SM4' }, status: 403 },
  { title: 'create-key on Resource kms:*:*:KeyId:*', policies: [doc(allow(['kms:cmk:create'], { Resource: ['kms:*:*:KeyId:*'] }))], op: 'create-key', key: null, status: 200 },
  { title: 'g:RequestTag: create-key with the tag value asked for', policies: [doc(allow(['kms:cmk:create'], { Condition: { StringEquals: { 'g:RequestTag/env': ['dev'] } } }))], op: 'create-key', key: null, body: { tags: [{ key: 'env', value: 'dev' }] }, status: 200 },
  { title: 'g:RequestTag: another value is refused', policies: [doc(allow(['kms:cmk:create'], { Condition: { StringEquals: { 'g:RequestTag/env': ['dev'] } } }))], op: 'create-key', key: null, body: { tags: [{ key: 'env', value: 'prod' }] }, status: 403 },
  { title: 'g:TagKeys: only listed tag keys', policies: [doc(allow(['kms:cmk:create'], { Condition: { 'ForAllValues:StringEquals': { 'g:TagKeys': ['env'] } } }))], op: 'create-key', key: null, body: { tags: [{ key: 'team', value: 'x' }] }, status: 403 },
  { title: 'a Deny of keys made without an owner tag', policies: ['kms:*:*', doc(deny(['kms:cmk:create'], { Condition: { Null: { 'g:RequestTag/owner': 'true' } } }))], op: 'create-key', key: null, status: 403 },
  { title: 'the same Deny lets a key with an owner tag through', policies: ['kms:*:*', doc(deny(['kms:cmk:create'], { Condition: { Null: { 'g:RequestTag/owner': 'true' } } }))], op: 'create-key', key: null, body: { tags: [{ key: 'owner', value: 'ops' }] }, status: 200 },
  // Request and caller keys.
  { title: 'ForAllValues:StringEquals kms:GrantOperations allows a grant within the list', policies: [doc(allow(['kms:cmk:createGrant'], { Condition: { 'ForAllValues:StringEquals': { 'kms:GrantOperations': ['describe-key', 'encrypt-data'] } } }))], op: 'create-grant', key: 'aes', status: 200 },
  { title: 'ForAllValues:StringEquals kms:GrantOperations refuses a grant beyond it', policies: [doc(allow(['kms:cmk:createGrant'], { Condition: { 'ForAllValues:StringEquals': { 'kms:GrantOperations': ['describe-key'] } } }))], op: 'create-grant', key: 'aes', body: { operations: ['describe-key', 'decrypt-data'] }, status: 403 },
  { title: 'ForAnyValue:StringEquals kms:GrantOperations', policies: [doc(allow(['kms:cmk:createGrant'], { Condition: { 'ForAnyValue:StringEquals': { 'kms:GrantOperations': ['decrypt-data'] } } }))], op: 'create-grant', key: 'aes', body: { operations: ['describe-key', 'decrypt-data'] }, status: 200 },
  { title: 'g:DomainName of the caller', policies: [doc(allow(['kms:cmk:generate'], { Condition: { StringEquals: { 'g:DomainName': ['acme'] } } }))], op: 'gen-random', key: null, status: 200 },
  { title: 'g:DomainName of another account', policies: [doc(allow(['kms:cmk:generate'], { Condition: { StringEquals: { 'g:DomainName': ['globex'] } } }))], op: 'gen-random', key: null, status: 403 },
  { title: 'Bool g:MFAPresent: kmsd has no MFA', policies: [doc(allow(['kms:cmk:generate'], { Condition: { Bool: { 'g:MFAPresent': ['true'] } } }))], op: 'gen-random', key: null, status: 403 },
  { title: 'a key change on keys tagged team=pay', policies: [doc(allow(['kms:cmk:update'], { Resource: [`kms:*:*:KeyId:*`], Condition: { StringEquals: { 'g:ResourceTag/team': ['pay'] } } }))], op: 'update-key-description', key: 'aes', status: 200 },
  { title: 'a key change refused on a key without that tag', policies: [doc(allow(['kms:cmk:update'], { Resource: [`kms:*:*:KeyId:*`], Condition: { StringEquals: { 'g:ResourceTag/team': ['pay'] } } }))], op: 'update-key-description', key: 'bare', status: 403 },
  // Grants across accounts: an authority of their own.
  { title: 'a grantee of another account without policies uses its grant', account: 'globex', policies: [], grant: ['encrypt-data'], op: 'encrypt-data', key: 'aes', status: 200 },
  { title: 'an Allow in another account gives nothing on acme\'s key', account: 'globex', policies: [doc(allow(['kms:*:*']))], op: 'encrypt-data', key: 'aes', status: 403 },
  { title: 'a grantee\'s own Deny stops its grant', account: 'globex', policies: [doc(deny(['kms:cmk:encryptData']))], grant: ['encrypt-data'], op: 'encrypt-data', key: 'aes', status: 403 },
  { title: 'a grantee\'s Deny of another action leaves its grant', account: 'globex', policies: [doc(deny(['kms:cmk:decryptData']))], grant: ['encrypt-data'], op: 'encrypt-data', key: 'aes', status: 200 },
  { title: 'a grantee\'s Deny on tags stops the grant on a tagged key', account: 'globex', policies: [doc(deny(['kms:cmk:*'], { Condition: { StringEquals: { 'g:ResourceTag/env': ['prod'] } } }))], grant: ['describe-key'], op: 'describe-key', key: 'aes', status: 403 },
  { title: 'a grantee in the key\'s account with a Resource-scoped Allow elsewhere still uses its grant', policies: [doc(allow(['kms:cmk:encryptData'], { Resource: ['kms:*:*:KeyId:00000000-0000-0000-0000-000000000000'] }))], grant: ['encrypt-data'], op: 'encrypt-data', key: 'aes', status: 200 },
];

let world: World;
const users = new Map<number, TestUser>();

function bodyFor(row: Row, user: TestUser): Record<string, unknown> {
  const keyId = row.key ? ids[row.key] : undefined;
  switch (row.op) {
    case 'describe-key': return { key_id: keyId };
    case 'encrypt-data': return { key_id: keyId, plain_text: 'hello' };
    case 'update-key-description': return { key_id: keyId, key_description: `d-${hex(3)}` };
    case 'create-key': return { key_alias: `p-${hex(6)}`, ...row.body };
    case 'create-grant': return { key_id: keyId, grantee_principal: world.users.gus.id, operations: ['describe-key'], ...row.body };
    case 'gen-random': return { random_data_length: '64' };
    case 'list-keys': return {};
    default: throw new Error(`no body for ${row.op} (${user.name})`);
  }
}


before(async () => {
  world = await startWorld();
  const admin = world.as('admin');
  ids.aes = await newKey(admin, { tags: [{ key: 'env', value: 'prod' }, { key: 'team', value: 'pay' }] });
  ids.sm4 = await newKey(admin, { key_spec: 'SM4', tags: [{ key: 'env', value: 'dev' }] });
  ids.bare = await newKey(admin);
  ids.ext = await newKey(admin, { origin: 'external' });
  ids.acme = world.users.admin.accountId;
  ids.globex = world.users.boss.accountId;
  ids.aes8 = ids.aes.slice(0, 8);
  // One fresh user per row, added to the identities file and applied as SIGHUP applies it.
  const path = join(world.dataDir, 'identities.json');
  const file = JSON.parse(readFileSync(path, 'utf8'));
  ROWS.forEach((row, i) => {
    const account = file.accounts.find((a: { name: string }) => a.name === (row.account ?? 'acme'));
    const user: TestUser = {
      name: `p${i}`, id: hex(16), account: account.name, accountId: account.id, projectId: account.project_id,
      password: '', ak: `AKP${i}X${hex(6).toUpperCase()}`, sk: hex(20),
    };
    account.users.push({ name: user.name, id: user.id, access_keys: [{ ak: user.ak, sk: user.sk }], policies: withIds(row.policies) });
    users.set(i, user);
    world.users[user.name] = user;
  });
  writeFileSync(path, JSON.stringify(file));
  await world.server.reloadIdentities();
  for (const [i, row] of ROWS.entries()) {
    if (row.grant && row.key) await newGrant(admin, ids[row.key], (users.get(i) as TestUser).id, row.grant);
  }
});
after(() => world.close());

describe('identity policies: (policies, operation, key) → answer', () => {
  test('the table has at least 40 rows', () => assert.ok(ROWS.length >= 40, `${ROWS.length} rows`));
  ROWS.forEach((row, i) => {
    test(`${row.title}: ${row.op}${row.key ? ` on ${row.key}` : ''} → ${row.status}`, async () => {
      const user = users.get(i) as TestUser;
      const r = await world.as(user.name, 'aksk').kms(row.op, bodyFor(row, user));
      if (row.status === 403) assert.deepEqual([r.status, r.body], [403, DENIED], row.title);
      else assert.equal(r.status, 200, `${row.title}: ${r.text}`);
    });
  });
  test('the administrator (first user) may do everything', async () => {
    const admin = world.as('admin', 'aksk');
    assert.equal((await admin.kms('encrypt-data', { key_id: ids.aes, plain_text: 'x' })).status, 200);
    assert.equal((await admin.kms('create-key', { key_alias: `a-${hex(4)}`, key_spec: 'SM4' })).status, 200);
    assert.equal((await admin.kms('gen-random', { random_data_length: '64' })).status, 200);
  });
  test('a policy change applies to the very next request', async () => {
    const path = join(world.dataDir, 'identities.json');
    const file = JSON.parse(readFileSync(path, 'utf8'));
    const entry = file.accounts[0].users.find((u: { name: string }) => u.name === 'p0');
    entry.policies = withIds([doc(allow(['kms:cmk:get']), deny(['kms:cmk:get'], { Resource: [urn('aes')] }))]);
    writeFileSync(path, JSON.stringify(file));
    await world.server.reloadIdentities();
    const client = world.as('p0', 'aksk');
    assert.deepEqual((await client.kms('describe-key', { key_id: ids.aes })).body, DENIED);
    assert.equal((await client.kms('describe-key', { key_id: ids.bare })).status, 200);
  });
});

describe('policy documents are checked when the identities file is read', () => {
  const file = (policies: unknown[], first = false) => ({
    accounts: [{ name: 'acme', users: [{ name: 'admin', policies: first ? policies : [] }, { name: 'app', policies }] }],
  });
  const at = 'accounts[0].users[1].policies[0]';
  const CASES: Array<[string, unknown, string]> = [
    ['a bad Version', { Version: '2012-10-17', Statement: [allow(['kms:*:*'])] }, `${at}.Version: must be "5.0" (identity policy) or "1.1" (custom policy)`],
    ['no Statement', { Version: '5.0' }, `${at}.Statement: must be a non-empty array`],
    ['an unknown member', { Version: '5.0', Statement: [allow(['kms:*:*'])], Id: 'x' }, `${at}.Id: unknown member (a policy document has Version and Statement)`],
    ['a bad Effect', doc({ Effect: 'allow', Action: ['kms:*:*'] }), `${at}.Statement[0].Effect: must be "Allow" or "Deny"`],
    ['Action and NotAction', doc({ Effect: 'Allow', Action: ['kms:*:*'], NotAction: ['kms:cmk:get'] }), `${at}.Statement[0]: must have exactly one of Action and NotAction`],
    ['a malformed action', doc(allow(['kms:cmk:get', 'encrypt'])), `${at}.Statement[0].Action[1]: "encrypt" is not an action "service:resource:action" (letters, digits, *)`],
    ['a malformed resource', doc(allow(['kms:*:*'], { Resource: ['key-1'] })), `${at}.Statement[0].Resource[0]: "key-1" is not "*" nor a URN "service:region:account:type:id" such as "kms:*:*:KeyId:<key id>"`],
    ['a Resource of another type (issue #20 §6: it would never match)', doc(deny(['kms:*:*'], { Resource: ['kms:*:*:alias:*'] })), `${at}.Statement[0].Resource[0]: "kms:*:*:alias:*" names no resource kmsd can evaluate: its resources are keys, "kms:<region>:<account>:KeyId:<key id>", and secrets, "csms:<region>:<account>:secret:<name>" (globs allowed)`],
    ['a Resource of another service', doc(allow(['kms:*:*'], { Resource: ['kms:*:*:KeyId:*', 'obs:*:*:bucket:logs'] })), `${at}.Statement[0].Resource[1]: "obs:*:*:bucket:logs" names no resource kmsd can evaluate: its resources are keys, "kms:<region>:<account>:KeyId:<key id>", and secrets, "csms:<region>:<account>:secret:<name>" (globs allowed)`],
    ['an unknown operator', doc(allow(['kms:*:*'], { Condition: { StringEqualz: { 'kms:KeySpec': ['SM4'] } } })), `${at}.Statement[0].Condition.StringEqualz: unknown condition operator "StringEqualz" (kmsd evaluates StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike, StringNotLike, StringStartWith, StringEndWith, StringNotStartWith, StringNotEndWith, Bool and Null, with IfExists and ForAnyValue:/ForAllValues: on string operators)`],
    ['an unknown condition key', doc(allow(['kms:*:*'], { Condition: { StringEquals: { 'kms:KeyColour': ['red'] } } })), `${at}.Statement[0].Condition.StringEquals["kms:KeyColour"]: unknown condition key "kms:KeyColour"`],
    ['a key kmsd does not evaluate', doc(allow(['kms:*:*'], { Condition: { StringEquals: { 'g:SourceIp': ['10.0.0.1'] } } })), `${at}.Statement[0].Condition.StringEquals["g:SourceIp"]: condition key "g:SourceIp" is documented by Huawei but not evaluated by kmsd`],
    ['a Bool that is not true or false', doc(allow(['kms:*:*'], { Condition: { Bool: { 'g:MFAPresent': ['yes'] } } })), `${at}.Statement[0].Condition.Bool["g:MFAPresent"]: Bool takes "true" or "false"`],
    ['an unknown statement member', doc({ Effect: 'Allow', Action: ['kms:*:*'], Principal: '*' }), `${at}.Statement[0].Principal: unknown statement member (kmsd reads Sid, Effect, Action, NotAction, Resource, Condition)`],
    ['a number', 42, `${at}: must be an action pattern such as "kms:cmk:*" or a system role name, or a policy document {"Version": "5.0", "Statement": [...]}`],
  ];
  for (const [what, policy, message] of CASES) {
    test(`${what}: refused with the entry named`, () => {
      assert.throws(() => parseIdentities(file([policy])), (e: unknown) => e instanceof IdentitiesError && e.message === message);
    });
  }
  test('a document on the first user (the administrator) is refused: it would never apply', () => {
    assert.throws(() => parseIdentities(file([doc(deny(['kms:*:*']))], true)), (e: unknown) =>
      e instanceof IdentitiesError && e.message === "accounts[0].users[0].policies[0]: the account's first user is its administrator, with every action: a policy document would never apply to it");
  });
  test('a valid document is kept as written', () => {
    const policy = doc(allow(['kms:cmk:*'], { Resource: 'kms:*:*:KeyId:*', Condition: { 'ForAnyValue:StringLikeIfExists': { 'g:ResourceTag/env': 'p*' } } }));
    assert.deepEqual(parseIdentities(file([policy])).accounts[0].users[1].policies, [policy]);
  });
});

describe('a refusal says which statement refused, in the log', () => {
  test('info line "identity policy refused the call" names the statement; the 403 body stays the documented one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-policy-log-'));
    const { path, users: people } = worldIdentities(dir);
    const file = JSON.parse(readFileSync(path, 'utf8'));
    const alice = file.accounts[0].users.find((u: { name: string }) => u.name === 'alice');
    alice.policies = ['kms:*:*', doc({ Sid: 'NoEncrypt', Effect: 'Deny', Action: ['kms:cmk:encryptData'] })];
    writeFileSync(path, JSON.stringify(file));
    const lines: Array<Record<string, unknown>> = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    const server = await startServer(testConfig({ dataDir: dir, identities: path, port: 0 }), { logger: pino({ level: 'info' }, stream) });
    try {
      const client = new Client({ url: server.url } as World, people.alice, 'aksk');
      const keyId = await newKey(client);
      const r = await client.kms('encrypt-data', { key_id: keyId, plain_text: 'secret words' });
      assert.deepEqual([r.status, r.body], [403, DENIED]);
      const nobody = new Client({ url: server.url } as World, people.nobody, 'aksk');
      assert.equal((await nobody.kms('list-keys', {})).status, 403);
      const refusals = lines.filter((l) => l.msg === 'identity policy refused the call');
      assert.deepEqual(
        refusals.map(({ operation, user, account, key_id, policy, level }) => ({ operation, user, account, key_id, policy, level })),
        [
          { operation: 'encrypt-data', user: 'alice', account: 'acme', key_id: keyId, policy: 'denied by policies[1].Statement[0] (Sid "NoEncrypt")', level: 30 },
          { operation: 'list-keys', user: 'nobody', account: 'acme', key_id: null, policy: 'no statement allows kms:cmk:list', level: 30 },
        ],
      );
      assert.ok(!lines.some((l) => JSON.stringify(l).includes('secret words')), 'no plaintext in the log');
      // The token lists a document as a custom policy, by its place (the SDKs read role names as strings).
      const token = await fetch(`${server.url}/v3/auth/tokens`, {
        method: 'POST',
        body: JSON.stringify({ auth: {
          identity: { methods: ['password'], password: { user: { name: 'alice', password: people.alice.password, domain: { name: 'acme' } } } },
          scope: { project: { id: people.alice.projectId } },
        } }),
      });
      assert.deepEqual((await token.json()).token.roles, [{ name: 'kms:*:*', id: '0' }, { name: 'custom_policy_1', id: '1' }]);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
