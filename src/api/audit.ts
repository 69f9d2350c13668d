import type { Principal } from '../auth/authenticate.ts';
import { parseAuthorization } from '../auth/signature.ts';
import type { AuditEvent, AuditOutcome } from '../core/model.ts';
import type { Clock } from '../core/runtime.ts';
import type { Store } from '../store/store.ts';

/**
 * The audit trail at the edge (issue #6). Which requests are recorded:
 *
 * - a mutating operation that succeeds: inside the one transaction of its effect, so the
 *   effect and its record are durable together or not at all;
 * - a mutating operation that fails, and any request that is denied (401/403), whatever
 *   the operation: in a transaction of its own, written before the answer is sent.
 *
 * Reads that succeed (describe, list, encrypt, decrypt, ...) are not recorded, and neither
 * are requests refused by the rate limit (recording them would let a flood write to disk).
 * Only identifiers are recorded: never bodies, plaintext, material, tokens or signatures.
 */
export interface AuditDraft {
  requestId: string;
  operation: string;
  accountId: string | null;
  userId: string | null;
  accessKeyId: string | null;
  keyId: string | null;
  grantId: string | null;
  sequence: string | null;
  /** Set once the request's record is written, so it is never written twice. */
  recorded: boolean;
}

// Identifiers are at most 64 characters (grant ids); longer or non-string values in a bad
// request are not worth keeping and would let a caller grow the trail at will.
const identifier = (value: unknown): string | null =>
  typeof value === 'string' && value.length > 0 && value.length <= 64 ? value : null;

/** A draft for a request before its caller is known: the access key it claims, if well formed. */
export function anonymousDraft(requestId: string, operation: string, authorization: string | undefined): AuditDraft {
  const claimed = authorization === undefined ? null : parseAuthorization(authorization)?.accessKey;
  return {
    requestId, operation, accountId: null, userId: null, accessKeyId: identifier(claimed),
    keyId: null, grantId: null, sequence: null, recorded: false,
  };
}

export function callerDraft(requestId: string, operation: string, principal: Principal): AuditDraft {
  return { ...anonymousDraft(requestId, operation, undefined), accountId: principal.accountId, userId: principal.userId, accessKeyId: principal.accessKey };
}

/** Takes the key id, grant id and sequence a parsed body names. */
export function noteBody(draft: AuditDraft, body: unknown): void {
  if (typeof body !== 'object' || body === null) return;
  const fields = body as Record<string, unknown>;
  draft.keyId = identifier(fields.key_id ?? fields.target_key_id);
  draft.grantId = identifier(fields.grant_id);
  draft.sequence = identifier(fields.sequence);
}

function event(draft: AuditDraft, clock: Clock, outcome: AuditOutcome, status: number, errorCode: string | null): AuditEvent {
  const { recorded: _recorded, ...subject } = draft;
  return { ...subject, time: clock.now(), outcome, status, errorCode };
}

/**
 * The store an operation sees: its one write also appends the request's record, in the same
 * transaction. The key and grant a write returns (a created key or grant) name the record.
 */
export function recordingStore(store: Store, clock: Clock, draft: AuditDraft, status = 200): Store {
  return {
    driver: store.driver,
    read: (work) => store.read(work),
    write: (work) =>
      store.write(async (tx) => {
        const result = await work(tx);
        const made = (typeof result === 'object' && result !== null ? result : {}) as { keyId?: unknown; grantId?: unknown };
        if (typeof made.keyId === 'string') draft.keyId = made.keyId;
        if (typeof made.grantId === 'string') draft.grantId = made.grantId;
        await tx.insertAudit(event(draft, clock, 'allowed', status, null));
        return result;
      }).then((result) => {
        // Only once committed: a failed commit is then recorded as the failure it is.
        draft.recorded = true;
        return result;
      }),
    close: () => store.close(),
  };
}

/** Records a refused request when the trail wants it (see above). */
export async function recordRefusal(store: Store, clock: Clock, draft: AuditDraft, mutates: boolean, status: number, errorCode: string): Promise<void> {
  const denied = status === 401 || status === 403;
  if (draft.recorded || status === 429 || (!denied && !mutates)) return;
  draft.recorded = true;
  await store.write((tx) => tx.insertAudit(event(draft, clock, denied ? 'denied' : 'failed', status, errorCode)));
}
