import type { Store } from '../store/store.ts';
import { GENESIS, NoChainHead, chainHash } from './chain.ts';

/** What a verification found: the trail intact up to its head, or the first record that breaks it. */
export type Verdict =
  | { intact: true; checked: number; before: number; startSeq: number; headSeq: number; headHash: string }
  | { intact: false; checked: number; seq: number | null; reason: string };

/** The result of the last verification that passed, as `kmsd audit verify` keeps it in the store's settings. */
export const LAST_PASSED = 'audit-verification-passed';
/** The result of the last verification that failed. */
export const LAST_FAILED = 'audit-verification-failed';

/** A verification that passed, as kept in the store's settings. */
export interface KeptPass { at: number; records: number; start_seq: number; head_seq: number; head_hash: string }
/** A verification that failed, as kept. */
export interface KeptFailure { at: number; seq: number | null; reason: string }

const count = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const instant = (v: unknown): v is number => count(v) && (v as number) <= 8.64e15;
const HASH = /^[0-9a-f]{64}$/;

function parseKept(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * The kept outcomes, checked: anyone who can write the settings table can write anything there,
 * so a value of the wrong shape is `'unreadable'` (never an exception, never a 500).
 */
export function readKeptPass(text: string | null): KeptPass | null | 'unreadable' {
  if (text === null) return null;
  const v = parseKept(text);
  if (!v || !instant(v.at) || !count(v.records) || !count(v.start_seq) || !count(v.head_seq) || v.head_seq < v.start_seq) return 'unreadable';
  if (typeof v.head_hash !== 'string' || !HASH.test(v.head_hash)) return 'unreadable';
  return { at: v.at, records: v.records, start_seq: v.start_seq, head_seq: v.head_seq, head_hash: v.head_hash };
}
export function readKeptFailure(text: string | null): KeptFailure | null | 'unreadable' {
  if (text === null) return null;
  const v = parseKept(text);
  if (!v || !instant(v.at) || !(v.seq === null || count(v.seq)) || typeof v.reason !== 'string') return 'unreadable';
  return { at: v.at, seq: v.seq, reason: v.reason };
}

/** `--expect-head SEQ:HASH` as an anchor, or null when it is not one. */
export function parseExpectedHead(text: string): Anchor | null {
  const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(text);
  return m ? { seq: Number(m[1]), hash: m[2], source: '--expect-head' } : null;
}

const PAGE = 1000;

/**
 * A point of the chain known from outside this run: the head the last verification that passed
 * reached (kept in the store's settings, so only as trustworthy as whoever can write them), or one
 * the operator gives (`--expect-head SEQ:HASH`, noted from an earlier run and kept elsewhere).
 * The trail must still hold that record with that hash, inside the chain, and its head must not
 * be older: this is what finds the newest records cut with the head moved back, or every hash
 * removed with the chain's start moved past them, which the chain alone cannot tell apart from a
 * shorter trail.
 */
export interface Anchor {
  seq: number;
  hash: string;
  /** Where the chain started when this point was seen (known for a kept verification only). */
  startSeq?: number;
  /** Names it in a verdict: "the last verification that passed", "--expect-head". */
  source: string;
}

/**
 * Walks the trail of a store oldest first and checks every chained record against the one
 * before it and against its own content, then the last one against the store's head. It needs
 * no key: only the rows. Records committed after the walk began are left for the next one.
 *
 * What each break means: a record altered no longer matches its hash; a record deleted,
 * inserted or moved leaves the next record not following the one before it; records deleted at
 * the end leave the trail shorter than its head says. Someone able to rewrite the whole chain
 * from a point on (and the head with it) is caught only against a copy kept elsewhere: the
 * `--audit-log` lines a SIEM holds, or a head noted from an earlier verification.
 */
export async function verifyTrail(store: Store, anchors: Anchor[] = []): Promise<Verdict> {
  let head;
  try {
    head = await store.read((tx) => tx.auditChainHead());
  } catch (error) {
    // Only a missing row is about the trail; a store that does not answer is not a break.
    if (!(error instanceof NoChainHead)) throw error;
    return { intact: false, checked: 0, seq: null, reason: "the store has no chain head (its audit_chain row was removed): the chain was cut" };
  }
  const { startSeq, headSeq, headHash, lastSeq } = head;
  let prevHash = GENESIS;
  let prevSeq: number | null = null;
  let checked = 0;
  let before = 0;
  const broken = (seq: number | null, reason: string): Verdict => ({ intact: false, checked, seq, reason });
  const seen = new Set<Anchor>();
  for (const anchor of anchors) {
    if (anchor.startSeq !== undefined && anchor.startSeq !== startSeq) {
      return broken(null, `the chain starts after record ${startSeq}, but ${anchor.source} found it starting after record ${anchor.startSeq}: the start was moved`);
    }
    if (anchor.seq > headSeq) {
      return broken(anchor.seq, `the head is record ${headSeq}, older than record ${anchor.seq} which ${anchor.source} reached: the newest records were cut and the head moved back`);
    }
    const emptyChain = anchor.seq === startSeq && anchor.hash === GENESIS;
    if (anchor.seq <= startSeq && !emptyChain) {
      return broken(anchor.seq, `record ${anchor.seq}, which ${anchor.source} found chained, lies before the start of the chain (after record ${startSeq}): the start was moved`);
    }
  }
  for (let after = 0; after < lastSeq; ) {
    const page = await store.read((tx) => tx.listAuditChain(after, PAGE));
    if (page.length === 0) break;
    for (const record of page) {
      const { seq } = record;
      if (seq > lastSeq) return finish();
      if (seq > headSeq) return broken(seq, `record ${seq} lies after the chain's head (record ${headSeq}): it was added outside kmsd`);
      if (seq <= startSeq) {
        if (record.hash !== null) return broken(seq, `record ${seq} carries a chain hash but lies before the start of the chain (after record ${startSeq}): the start was moved`);
        before++;
        continue;
      }
      if (record.hash === null || record.prevHash === null) return broken(seq, `record ${seq} has no chain hash`);
      if (record.prevHash !== prevHash) {
        const previous = prevSeq === null ? 'the start of the chain' : `record ${prevSeq}`;
        return broken(seq, `record ${seq} does not follow ${previous}: a record was deleted, inserted or moved there, or the chain was cut`);
      }
      if (chainHash(record.prevHash, record) !== record.hash) return broken(seq, `record ${seq} was altered: its content does not match its hash`);
      for (const anchor of anchors) {
        if (anchor.seq !== seq) continue;
        if (anchor.hash !== record.hash) return broken(seq, `record ${seq} is not the one ${anchor.source} found (its hash differs): the chain was rewritten from there on`);
        seen.add(anchor);
      }
      prevHash = record.hash;
      prevSeq = seq;
      checked++;
    }
    after = page[page.length - 1].seq;
  }
  return finish();

  function finish(): Verdict {
    if (prevSeq === null ? headSeq !== startSeq : prevSeq !== headSeq) {
      const end = prevSeq === null ? 'before its first record' : `at record ${prevSeq}`;
      return broken(headSeq, `the trail ends ${end} but its head is record ${headSeq}: the records after it were deleted (the chain was cut)`);
    }
    if (prevHash !== headHash) return broken(headSeq, `record ${headSeq} is not the head the store recorded (its hash differs)`);
    const lost = anchors.find((a) => a.seq > startSeq && !seen.has(a));
    if (lost) return broken(lost.seq, `record ${lost.seq}, which ${lost.source} found, is no longer in the chain: the chain was rewritten`);
    return { intact: true, checked, before, startSeq, headSeq, headHash };
  }
}

/** How many records past the verified head the endpoint checks at most (it is served without credentials: bounded work). */
export const SINCE_LIMIT = 1000;

/** The store's head now, and whether it still chains from the head a verification reached (null: not checked, too far). */
export interface SinceVerified { headSeq: number | null; headHash: string | null; chains: boolean | null }

/**
 * Whether the store's current head still chains from `passed` (the head a verification reached):
 * the same start, the record it reached unchanged, and every record after it linked and matching
 * its hash up to the head. Reads at most SINCE_LIMIT records; further than that it says null
 * (`kmsd audit verify` checks the whole trail). It proves nothing if `passed` itself was forged:
 * it is read from the same database.
 */
export async function chainsFrom(store: Store, passed: KeptPass): Promise<SinceVerified> {
  let head;
  try {
    head = await store.read((tx) => tx.auditChainHead());
  } catch (error) {
    if (!(error instanceof NoChainHead)) throw error;
    return { headSeq: null, headHash: null, chains: false };
  }
  const now = { headSeq: head.headSeq, headHash: head.headHash };
  if (head.startSeq !== passed.start_seq || head.headSeq < passed.head_seq) return { ...now, chains: false };
  if (head.headSeq - passed.head_seq > SINCE_LIMIT) return { ...now, chains: null };
  const emptyChain = passed.head_seq === passed.start_seq;
  const page = await store.read((tx) => tx.listAuditChain(emptyChain ? passed.head_seq : passed.head_seq - 1, SINCE_LIMIT + 1));
  // The record the verification reached must still be there (it is the first one read).
  if (!emptyChain && page[0]?.seq !== passed.head_seq) return { ...now, chains: false };
  let prevHash = emptyChain ? GENESIS : passed.head_hash;
  let lastSeq = passed.head_seq;
  for (const record of page) {
    if (record.seq > head.headSeq) break;
    if (record.seq === passed.head_seq && !emptyChain) {
      if (record.hash !== passed.head_hash) return { ...now, chains: false };
      continue;
    }
    if (record.prevHash !== prevHash || record.hash === null || chainHash(prevHash, record) !== record.hash) return { ...now, chains: false };
    prevHash = record.hash;
    lastSeq = record.seq;
  }
  return { ...now, chains: lastSeq === head.headSeq && prevHash === head.headHash };
}
