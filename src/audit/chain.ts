import { createHash } from 'node:crypto';
import type { AuditEvent } from '../core/model.ts';

/**
 * The audit trail's hash chain (issue #22 §3). Every record carries `hash`, the SHA-256 of
 * the hash of the record before it (`prev_hash`) and of its own content, so that altering,
 * deleting, inserting or moving a record breaks the chain at that point, and anyone holding
 * the rows can check it: no key is involved (nor needed to verify).
 *
 * One chain per store: the store keeps its head (the newest record's seq and hash) in one row
 * that every writer of a record locks in the transaction that writes it (see SqlTx.insertAudit;
 * on PostgreSQL a group of writes locks it once, after its last unit: SqlTx.appendStagedAudit),
 * so records are chained in the order they are committed, whichever node, event loop or timer
 * writes them. The content hashed is every column of the record except seq (the links give the
 * order; seq only names records): a table copy that keeps the columns verifies as the original.
 */

/** The `prev_hash` of a chain's first record. */
export const GENESIS = '0'.repeat(64);

/** Names the hashing rule, so that a later rule can be told apart from this one. */
const RULE = 'kmsd-audit-chain-1';

/** The record as hashed: its fields in a fixed order, as JSON (exact, and the same on every driver). */
function content(e: AuditEvent): string {
  return JSON.stringify([
    e.time, e.requestId, e.accountId, e.userId, e.accessKeyId, e.claimedAccessKeyId, e.source, e.operation,
    e.keyId, e.grantId, e.sequence, e.outcome, e.status, e.errorCode, e.count, e.secretId ?? null, e.secretName ?? null,
  ]);
}

/**
 * The record as the store keeps it: every string well-formed. A lone surrogate (a caller can send
 * `"\ud800"` in any identifier, even in a refused request) cannot be stored as UTF-8: SQLite and
 * PostgreSQL would keep U+FFFD in its place, and a hash of the string as sent would never match
 * the row again. So the record is made well-formed (U+FFFD for each lone surrogate, as the stores
 * would) before it is hashed, stored or logged: what is hashed is exactly what is stored.
 * NUL (U+0000) too: PostgreSQL stores no NUL in text and refused the whole record, so a refused
 * request naming `"x\u0000y"` left no record at all; it becomes U+FFFD on every driver.
 */
export function wellFormed<T extends AuditEvent>(e: T): T {
  const out = { ...e } as Record<string, unknown>;
  for (const [name, value] of Object.entries(out)) {
    if (typeof value !== 'string') continue;
    const storable = value.includes('\u0000') ? value.replaceAll('\u0000', '\ufffd') : value;
    out[name] = storable.isWellFormed() ? storable : storable.toWellFormed();
  }
  return out as T;
}

/** The hash of a record whose predecessor's hash is `prevHash`. */
export function chainHash(prevHash: string, e: AuditEvent): string {
  return hashOfParts(chainHashParts(e), prevHash);
}

/** The hash made of chainHashParts around `prevHash` (the parts made once, for the database and for the check). */
export function hashOfParts([before, after]: [Buffer, Buffer], prevHash: string): string {
  return createHash('sha256').update(before).update(prevHash).update(after).digest('hex');
}

/**
 * The UTF-8 bytes hashed before and after the predecessor's hash (an ASCII hex string): the
 * SHA-256 of `before ‖ prevHash ‖ after` is the record's hash. PostgreSQL hashes the same bytes
 * in the statement that reads the head and writes a group's records (SqlTx.appendStagedAudit),
 * so the head's lock is one statement and the COMMIT long.
 */
export function chainHashParts(e: AuditEvent): [Buffer, Buffer] {
  return [Buffer.from(`${RULE}\n`), Buffer.from(`\n${content(e)}`)];
}

/** The store has no chain head row (audit_chain): someone removed it. Other read errors are not about the trail. */
export class NoChainHead extends Error {
  constructor() {
    super('the audit chain has no head row (audit_chain)');
  }
}

/** Where a store's chain stands: where it began and its newest record. */
export interface ChainHead {
  /** Records with seq at or below this were written before the store chained its trail. */
  startSeq: number;
  /** The newest chained record (startSeq while there is none). */
  headSeq: number;
  /** Its hash (GENESIS while there is none). */
  headHash: string;
  /** The newest record in the trail, chained or not, read with the head (equal to headSeq unless a record was added outside kmsd). */
  lastSeq: number;
}

/** A record as the store wrote it: with its seq and its place in the chain. */
export type ChainedAuditEvent = AuditEvent & { seq: number; prevHash: string; hash: string };

/** A record as read back for verification: its chain columns as they are now (null before the chain began, or when removed). */
export type StoredAuditEvent = AuditEvent & { seq: number; prevHash: string | null; hash: string | null };
