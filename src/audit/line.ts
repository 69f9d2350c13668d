import type { AuditEvent } from '../core/model.ts';

/**
 * One audit record as a JSON line: snake_case names as on the wire, the time in ISO 8601
 * (`kmsd audit`); with its place in the chain when it has one (`--audit-log`).
 */
export function auditLine(e: AuditEvent & { prevHash?: string | null; hash?: string | null }): string {
  return JSON.stringify({
    seq: e.seq, time: new Date(e.time).toISOString(), request_id: e.requestId, account_id: e.accountId,
    user_id: e.userId, access_key_id: e.accessKeyId, claimed_access_key_id: e.claimedAccessKeyId, source: e.source,
    operation: e.operation, key_id: e.keyId, grant_id: e.grantId,
    sequence: e.sequence, outcome: e.outcome, status: e.status, error_code: e.errorCode, count: e.count,
    secret_id: e.secretId ?? null, secret_name: e.secretName ?? null,
    ...(e.hash === undefined ? {} : { prev_hash: e.prevHash, hash: e.hash }),
  });
}
