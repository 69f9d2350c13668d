import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allows, isValidPolicy, PolicySet } from './policy.ts';

const RETIRE = ['kms:grant:retire', 'kms:cmk:retireGrant'];

const CASES: Array<[string[], string[], boolean]> = [
  [['*:*:*'], RETIRE, true],
  [['kms:*:*'], RETIRE, true],
  [['kms:grant:*'], RETIRE, true],
  [['kms:grant:retire'], RETIRE, true],
  [['kms:cmk:retireGrant'], RETIRE, true],
  [['kms:cmk:*'], RETIRE, true],
  [['kms:cmk:get'], RETIRE, false],
  [['obs:*:*'], RETIRE, false],
  [[], RETIRE, false],
  [['KMS Administrator'], RETIRE, true],
  [['kms:cmk:get*'], ['kms:cmk:getQuota'], true],
  [['kms:cmk:get'], ['kms:cmk:getQuota'], false],
  // Huawei's own names with an empty resource type.
  [['kms::listRetirableGrants'], ['kms:grant:list', 'kms::listRetirableGrants'], true],
  [['kms:*:*'], ['kms::generateRandom'], true],
  [['kms:cmk:*'], ['kms::generateRandom'], false],
];

for (const [policies, actions, expected] of CASES) {
  test(`policies ${JSON.stringify(policies)} ${expected ? 'allow' : 'do not allow'} ${actions[0]}`, () => {
    assert.equal(allows(policies, actions), expected);
  });
}

test('policy syntax: three parts of letters, digits and *, or a known role', () => {
  assert.equal(isValidPolicy('kms:cmk:*'), true);
  assert.equal(isValidPolicy('Tenant Administrator'), true);
  assert.equal(isValidPolicy('kms:cmk'), false);
  assert.equal(isValidPolicy('kms:cmk:.*'), false);
  assert.equal(isValidPolicy('kms::listRetirableGrants'), true);
  assert.equal(isValidPolicy('::x'), false);
});

// Documents: the verdict names the statement that decided, for the log line of a refusal.
const SUBJECT = { userId: 'u1', userName: 'app', accountId: 'a1', accountName: 'acme', projectId: 'p1', region: 'cn-north-4' };
const KEY = { keyId: 'k1', accountId: 'a1', region: 'cn-north-4', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', origin: 'kms', tags: { env: 'prod' } };
const ENCRYPT = ['kms:cmk:crypto', 'kms:cmk:encryptData'];

test('a verdict names the Deny statement that refused, with its Sid', () => {
  const set = new PolicySet(['kms:*:*', { Version: '5.0', Statement: [{ Sid: 'NoProd', Effect: 'Deny', Action: ['kms:cmk:*'], Condition: { StringEquals: { 'g:ResourceTag/env': ['prod'] } } }] }]);
  assert.deepEqual(set.evaluate(ENCRYPT, SUBJECT, KEY), { allowed: false, denied: true, reason: 'denied by policies[1].Statement[0] (Sid "NoProd")' });
  assert.equal(set.readsTags, true);
});

test('a verdict says when no statement allows, with the key URN', () => {
  const set = new PolicySet([{ Version: '5.0', Statement: [{ Effect: 'Allow', Action: ['kms:cmk:get'] }] }]);
  assert.deepEqual(set.evaluate(ENCRYPT, SUBJECT, KEY), { allowed: false, denied: false, reason: 'no statement allows kms:cmk:encryptData on kms:cn-north-4:a1:KeyId:k1' });
  assert.equal(set.readsTags, false);
});

test('a verdict names the statement that allowed', () => {
  const set = new PolicySet(['kms:cmk:get', { Version: '1.1', Statement: [{ Effect: 'Allow', Action: 'kms:cmk:crypto', Resource: 'KMS:*:*:KeyId:k1' }] }]);
  assert.deepEqual(set.evaluate(ENCRYPT, SUBJECT, KEY), { allowed: true, denied: false, reason: 'allowed by policies[1].Statement[0]' });
});

const cond = (Condition: unknown) => new PolicySet([{ Version: '5.0', Statement: [{ Effect: 'Allow', Action: ['*'], Condition }] }]);
const CONDITIONS: Array<[string, unknown, Record<string, string | string[]>, boolean]> = [
  ['ForAllValues on an absent key holds', { 'ForAllValues:StringEquals': { 'kms:GrantOperations': ['describe-key'] } }, {}, true],
  ['ForAnyValue on an absent key fails', { 'ForAnyValue:StringEquals': { 'kms:GrantOperations': ['describe-key'] } }, {}, false],
  ['ForAllValues:StringNotEquals holds when no value is listed', { 'ForAllValues:StringNotEquals': { 'kms:GrantOperations': ['create-grant'] } }, { 'kms:GrantOperations': ['describe-key'] }, true],
  ['ForAllValues:StringNotEquals fails when one is', { 'ForAllValues:StringNotEquals': { 'kms:GrantOperations': ['create-grant'] } }, { 'kms:GrantOperations': ['describe-key', 'create-grant'] }, false],
  ['StringStartWith', { StringStartWith: { 'kms:GranteePrincipal': ['abc'] } }, { 'kms:GranteePrincipal': 'abcdef' }, true],
  ['StringEndWith', { StringEndWith: { 'g:UserName': ['pp'] } }, {}, true],
  ['StringNotEndWith', { StringNotEndWith: { 'g:UserName': ['pp'] } }, {}, false],
  ['StringLike with ?', { StringLike: { 'g:ProjectName': ['cn-north-?'] } }, {}, true],
  ['Null "true" on an absent key', { Null: { 'kms:RetiringPrincipal': 'true' } }, {}, true],
  ['Bool with a JSON boolean', { Bool: { 'g:MFAPresent': false } }, {}, true],
];
for (const [what, condition, request, expected] of CONDITIONS) {
  test(`condition: ${what}`, () => assert.equal(cond(condition).evaluate(ENCRYPT, SUBJECT, KEY, request).allowed, expected));
}
