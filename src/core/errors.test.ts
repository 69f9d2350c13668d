import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KMS_ERRORS } from './error-table.ts';
import { AuthError, KmsError } from './errors.ts';

const tsv = fileURLToPath(new URL('../../test/fixtures/kms-error-codes.tsv', import.meta.url));

test('the error table holds every code of the reference with its exact status and message', () => {
  const rows = readFileSync(tsv, 'utf8').trim().split('\n').slice(1).map((line) => line.split('\t'));
  assert.equal(Object.keys(KMS_ERRORS).length, rows.length);
  for (const [status, code, message] of rows) {
    assert.deepEqual(KMS_ERRORS[code as keyof typeof KMS_ERRORS], [Number(status), message], code);
  }
});

test('a KMS error renders the nested body with the message of the table', () => {
  const error = new KmsError('KMS.2501');
  assert.equal(error.status, 400);
  assert.deepEqual(error.body(), { error: { error_code: 'KMS.2501', error_msg: 'Invalid grant ID.' } });
});

test('an authentication error renders the gateway flat body', () => {
  assert.deepEqual(new AuthError('decrypt token fail').body('r1'), {
    error_msg: 'Incorrect IAM authentication information: decrypt token fail',
    error_code: 'APIGW.0301',
    request_id: 'r1',
  });
});
