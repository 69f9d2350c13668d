import type { Principal } from '../auth/authenticate.ts';
import { parseAuthorization } from '../auth/signature.ts';
import { parse as parseEnvelope } from '../core/envelope.ts';
import type { AuditEvent, AuditOutcome } from '../core/model.ts';
import type { Clock } from '../core/runtime.ts';
import type { Store } from '../store/store.ts';
import { limiter, type Limiter } from '../core/rate-limit.ts';

/**
 * The audit trail at the edge (issue #6). Which requests are recorded:
 *
 * - a mutating operation that succeeds: inside the one transaction of its effect, so the
 *   effect and its record are durable together or not at all;
 * - a mutating operation that fails, and any request that is denied (401/403), whatever
 *   the operation: in a transaction of its own, written before the answer is sent.
 *
 * Reads that succeed (describe, list, encrypt, decrypt, ...) are not recorded, and neither
 * are requests refused by the rate limit (recording them would let a flood write to disk);
 * refusals of unknown callers are bounded per source address (RefusalRecorder).
 * Only identifiers are recorded: never bodies, plaintext, material, tokens or signatures.
 */
export interface AuditDraft {
  requestId: string;
  operation: string;
  accountId: string | null;
  userId: string | null;
  accessKeyId: string | null;
  claimedAccessKeyId: string | null;
  source: string | null;
  keyId: string | null;
  grantId: string | null;
  sequence: string | null;
  /** The CSMS secret named (by id in tag paths, by name elsewhere; both once a write returns it). */
  secretId: string | null;
  secretName: string | null;
  /**
   * Whether the caller proved who it is. A failed login names the user it tried, but proved
   * nothing: its refusals are bounded per source address like any unknown caller's.
   */
  authenticated: boolean;
  /** Set once the request's record is written, so it is never written twice. */
  recorded: boolean;
}

// Identifiers are at most 64 characters (grant ids); longer or non-string values in a bad
// request are not worth keeping and would let a caller grow the trail at will.
const identifier = (value: unknown): string | null =>
  typeof value === 'string' && value.length > 0 && value.length <= 64 ? value : null;

/**
 * A draft for a request before its caller is known. The access key it claims (if well formed)
 * is kept as claimed, never as the request's access key: anybody can write any id there.
 */
export function anonymousDraft(requestId: string, operation: string, authorization: string | undefined, source: string | null): AuditDraft {
  const claimed = authorization === undefined ? null : parseAuthorization(authorization)?.accessKey;
  return {
    requestId, operation, accountId: null, userId: null, accessKeyId: null, claimedAccessKeyId: identifier(claimed), source,
    keyId: null, grantId: null, sequence: null, secretId: null, secretName: null, authenticated: false, recorded: false,
  };
}

export function callerDraft(requestId: string, operation: string, principal: Principal, source: string | null): AuditDraft {
  return {
    ...anonymousDraft(requestId, operation, undefined, source),
    accountId: principal.accountId, userId: principal.userId, accessKeyId: principal.accessKey, authenticated: true,
  };
}

/**
 * Takes the key id, grant id and sequence a body names. Called on the raw body (for requests
 * refused by validation) and again on the validated input, whose values are what the
 * operation acts on (["id"] has become "id"; grant ids are case-insensitive hex).
 */
export function noteBody(draft: AuditDraft, body: unknown): void {
  if (typeof body !== 'object' || body === null) return;
  const fields = body as Record<string, unknown>;
  draft.keyId = identifier(fields.key_id ?? fields.target_key_id ?? fields.source_key_id)
    ?? keyOfCiphertext(fields.cipher_text) ?? identifier(fields.destination_key_id);
  draft.grantId = identifier(fields.grant_id)?.toLowerCase() ?? null;
  draft.sequence = identifier(fields.sequence);
  draft.secretId = identifier(fields.secret_id);
  // create-secret names its secret `name` (every other CSMS operation, `secret_name` in the path).
  draft.secretName = identifier(fields.secret_name ?? (draft.operation === 'create-secret' ? fields.name : undefined));
}

/**
 * The key a base64 ciphertext names in its envelope header (decrypt-data and re-encrypt send no
 * key_id, as the SDKs send them): a refused decrypt is then in that key's trail. The header is
 * authenticated only when the ciphertext is opened; a forged one names a key as a forged key_id
 * would, which any caller may write anyway.
 */
function keyOfCiphertext(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > 8192) return null;
  return parseEnvelope(Buffer.from(value, 'base64'))?.keyId ?? null;
}

function event(draft: AuditDraft, clock: Clock, outcome: AuditOutcome, status: number, errorCode: string | null, count = 1): AuditEvent {
  const { recorded: _recorded, authenticated: _authenticated, ...subject } = draft;
  return { ...subject, time: clock.now(), outcome, status, errorCode, count };
}

/**
 * The store an operation sees: its one write also appends the request's record, in the same
 * transaction. The key and grant a write returns (a created key or grant) name the record.
 */
export function recordingStore(store: Store, clock: Clock, draft: AuditDraft, status = 200): Store {
  return {
    driver: store.driver,
    read: (work) => store.read(work),
    write: (work) => {
      // What the request named: every run of the write starts from it (a write runs again after a
      // conflict, or when its group is undone), so a run refused is recorded under what the request
      // named, not under a key or grant an earlier, rolled-back run made. (A group that fails whole
      // after the unit's run, e.g. at its COMMIT, records that run's names: what it tried to commit.)
      const named = { keyId: draft.keyId, grantId: draft.grantId, secretId: draft.secretId, secretName: draft.secretName };
      return store.write(async (tx) => {
        Object.assign(draft, named);
        const result = await work(tx);
        const made = (typeof result === 'object' && result !== null ? result : {}) as {
          keyId?: unknown; grantId?: unknown; secretId?: unknown; secretName?: unknown;
        };
        if (typeof made.keyId === 'string') draft.keyId = made.keyId;
        if (typeof made.grantId === 'string') draft.grantId = made.grantId;
        // A write on a secret returns it: the record names the secret by id and name.
        if (typeof made.secretId === 'string') draft.secretId = made.secretId;
        if (typeof made.secretName === 'string') draft.secretName = made.secretName;
        await tx.insertAudit(event(draft, clock, 'allowed', status, null));
        return result;
      }).then((result) => {
        // Only once committed: a failed commit is then recorded as the failure it is.
        draft.recorded = true;
        return result;
      });
    },
    close: () => store.close(),
  };
}

/**
 * Writes the records of refused requests. A request refused before its caller is known (a
 * bad signature, a claimed access key, a failed login) costs its sender nothing, so those are
 * bounded per source address: past `perSecond` records a second from one address, refusals
 * are counted, and one summary record a second carries the count (its `count` field), so a
 * flood grows the store by at most perSecond + 1 records a second per address.
 *
 * Several event loops (`--workers`, `shared`): the budget and the count live in the buckets
 * every loop of the process charges (SharedRateLimiter), so the bound is per node. The loop
 * whose refusal opened a source's count (takeOrCount said 'first') is the one that writes its
 * summary, a second later: it holds that refusal's draft, which names the summary, and only
 * one loop can open a count. settle() reads the count and closes it in one step under the
 * table's lock, so the summary carries every loop's refusals up to then, and a refusal counted
 * after it opens the next count (and summary) in whichever loop it lands: no refusal is
 * counted twice or lost, and at most one summary is pending per source at a time.
 */
export class RefusalRecorder {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly limiter: Limiter | null;
  /** Sources whose count this loop opened, with the refusal that opened it, waiting for their summary record. */
  private readonly pending = new Map<string, { draft: AuditDraft; status: number; errorCode: string }>();
  private timer: NodeJS.Timeout | null = null;
  private readonly failed: (error: unknown) => void;
  constructor(store: Store, clock: Clock, perSecond: number, failed: (error: unknown) => void, shared?: SharedArrayBuffer | null) {
    this.store = store;
    this.clock = clock;
    this.limiter = perSecond > 0 ? limiter(perSecond, clock, shared) : null;
    this.failed = failed;
  }

  /** Records a refused request when the trail wants it (see the top of this file). */
  async record(draft: AuditDraft, mutates: boolean, status: number, errorCode: string): Promise<void> {
    const denied = status === 401 || status === 403;
    if (draft.recorded || status === 429 || (!denied && !mutates)) return;
    draft.recorded = true;
    if (!draft.authenticated && this.limiter) {
      const source = draft.source ?? '';
      const verdict = this.limiter.takeOrCount(source);
      if (verdict === 'first') this.open(source, draft, status, errorCode);
      if (verdict !== 'taken') return;
    }
    await this.store.write((tx) => tx.insertAudit(event(draft, this.clock, denied ? 'denied' : 'failed', status, errorCode)));
  }

  private open(source: string, draft: AuditDraft, status: number, errorCode: string): void {
    this.pending.set(source, { draft, status, errorCode });
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush().catch(this.failed), 1000);
      this.timer.unref();
    }
  }

  /** Writes the summary records of the counts this loop opened now (also at shutdown). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const opened = [...this.pending];
    this.pending.clear();
    const summaries = opened
      .map(([source, summary]) => ({ ...summary, count: this.limiter?.settle(source) ?? 0 }))
      .filter((summary) => summary.count > 0);
    if (summaries.length === 0) return;
    await this.store.write(async (tx) => {
      for (const { draft, status, errorCode, count } of summaries) {
        await tx.insertAudit(event({ ...draft, requestId: `summary-${draft.requestId}` }, this.clock, 'denied', status, errorCode, count));
      }
    });
  }
}
