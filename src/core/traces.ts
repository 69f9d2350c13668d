import { requireAction } from './access.ts';
import { CSMS_ERRORS, KMS_ERRORS } from './error-table.ts';
import { kms } from './errors.ts';
import { DECISIONS } from './decisions.ts';
import type { AuditEvent, AuditFilter, AuditOutcome, Caller } from './model.ts';
import type { Tx } from '../store/store.ts';

/**
 * The audit trail as Cloud Trace Service traces (ListTraces, GET /v3/{project_id}/traces).
 * A caller of the account with the action sees its account's trail: what its users did, and
 * what anyone did to its keys (a use of a key from another account is seen by both accounts).
 */
export interface TraceQuery {
  limit: number;
  /** Newest trace to list: traces older than `next` (a trace id). */
  next?: number;
  traceId?: number;
  from?: number;
  to?: number;
  /** A user id or account id. */
  user?: string;
  /** A key id or secret id (the trace's resource_id). */
  keyId?: string;
  /** KMS or CSMS traces only. */
  service?: AuditFilter['service'];
  operation?: string;
  outcomes?: AuditOutcome[];
}

export interface Trace {
  event: AuditEvent & { seq: number };
  userName: string | null;
  accountName: string | null;
}

export interface TracePage {
  traces: Trace[];
  /** The id to ask for the next page with, when there may be one. */
  marker: string | null;
}

/** trace_rating as CTS writes it: normal for a success, warning for a refusal or failure. */
export const ratingOf = (outcome: AuditOutcome): 'normal' | 'warning' => (outcome === 'allowed' ? 'normal' : 'warning');

/** retire-grant ⇄ retireGrant: CTS names traces in camel case; both spellings are accepted. */
export const traceName = (operation: string): string => operation.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
export const operationOfTrace = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The error body a refusal was answered with: KMS's nested one, or CSMS's flat one. */
export function refusalBody(code: string | null): string {
  if (code === null) return '';
  const known = ({ ...KMS_ERRORS, ...CSMS_ERRORS } as Record<string, readonly [number, string]>)[code];
  const error = { error_code: code, error_msg: known ? known[1] : '' };
  return JSON.stringify(code.startsWith('CSMS.') ? error : { error });
}

export async function listTraces(tx: Tx, caller: Caller, query: TraceQuery): Promise<TracePage> {
  requireAction(caller);
  const filter: AuditFilter = { visibleTo: caller.accountId, newestFirst: true };
  if (query.keyId !== undefined) filter.keyId = query.keyId;
  if (query.user !== undefined) filter.principal = query.user;
  if (query.from !== undefined) filter.since = query.from;
  if (query.to !== undefined) filter.until = query.to;
  if (query.operation !== undefined) filter.operation = query.operation;
  if (query.service !== undefined) filter.service = query.service;
  if (query.outcomes !== undefined) filter.outcomes = query.outcomes;
  let before = query.next;
  if (query.traceId !== undefined) before = Math.min(before ?? Infinity, query.traceId + 1);
  if (before !== undefined) filter.before = before;
  const after = query.traceId !== undefined ? query.traceId - 1 : 0;
  const events = (await tx.listAudit(filter, after, query.limit + 1)) as Array<AuditEvent & { seq: number }>;
  const more = events.length > query.limit;
  const page = events.slice(0, query.limit);
  const users = new Map<string, string | null>();
  const accounts = new Map<string, string | null>();
  for (const e of page) {
    if (e.userId !== null && !users.has(e.userId)) users.set(e.userId, (await tx.getUser(e.userId))?.name ?? null);
    if (e.accountId !== null && !accounts.has(e.accountId)) accounts.set(e.accountId, (await tx.getAccount(e.accountId))?.name ?? null);
  }
  return {
    traces: page.map((event) => ({
      event,
      userName: event.userId === null ? null : (users.get(event.userId) ?? null),
      accountName: event.accountId === null ? null : (accounts.get(event.accountId) ?? null),
    })),
    marker: more ? String(page[page.length - 1].seq) : null,
  };
}
