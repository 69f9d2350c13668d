import { DECISIONS } from '../core/decisions.ts';
import { isCsmsCode, kms, type KmsError } from '../core/errors.ts';
import type { Operation } from './operation.ts';

/**
 * The error a CSMS operation answers for a refusal the edge or a shared rule made in KMS's
 * words: malformed bodies CSMS.0004, bodies too long CSMS.0002, an unknown path CSMS.0003, refusals of who the caller is
 * CSMS.0302, internal errors CSMS.0001, any other bad input CSMS.0002 (the CSMS error page has
 * no finer codes). CSMS codes and every KMS operation's errors pass unchanged.
 */
export function forService(op: Operation | undefined, error: KmsError): KmsError {
  if (op?.service !== 'csms' || isCsmsCode(error.code)) return error;
  switch (error.code) {
    case 'KMS.0203':
      // A body past the limit is a value (or field) too long: what CSMS answers for those.
      return kms(DECISIONS.csmsBodyTooLong);
    case 'KMS.0202':
    case 'KMS.0214':
      return kms('CSMS.0004');
    case 'KMS.0201':
      return kms('CSMS.0003');
    case 'KMS.0306':
    case 'KMS.0321':
      return kms('CSMS.0302');
    case 'KMS.0103':
      return kms('CSMS.0001');
    default:
      return kms('CSMS.0002');
  }
}
