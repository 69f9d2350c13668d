import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allows, isValidPolicy } from './policy.ts';

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
