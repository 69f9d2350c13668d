import type { FastifySchemaValidationError } from 'fastify/types/schema.js';
import { kms, type KmsError } from '../core/errors.ts';
import type { Operation } from './operation.ts';

/**
 * Maps the first schema failure of a request body to its documented error: a missing
 * required field is KMS.0204; any other failure takes the code of the field it is in
 * (KMS.0205 for key_id, KMS.2402 for principals, ...); a body that is not an object is
 * KMS.0202.
 */
export function validationError(op: Operation, errors: readonly FastifySchemaValidationError[]): KmsError {
  const first = errors[0];
  if (!first) return kms('KMS.0214');
  if (first.keyword === 'required') return kms('KMS.0204');
  const field = first.instancePath.split('/')[1];
  if (!field) return kms('KMS.0202');
  return kms(op.fields[field]?.code ?? 'KMS.0308');
}
