import type { Store } from '../store/store.ts';
import { GENESIS, chainHash } from './chain.ts';

/** What a verification found: the trail intact up to its head, or the first record that breaks it. */
export type Verdict =
  | { intact: true; checked: number; before: number; startSeq: number; headSeq: number; headHash: string }
  | { intact: false; checked: number; seq: number | null; reason: string };

/** The result of the last verification that passed, as `kmsd audit verify` keeps it in the store's settings. */
export const LAST_PASSED = 'audit-verification-passed';
/** The result of the last verification that failed. */
export const LAST_FAILED = 'audit-verification-failed';

const PAGE = 1000;

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
export async function verifyTrail(store: Store): Promise<Verdict> {
  let head;
  try {
    head = await store.read((tx) => tx.auditChainHead());
  } catch {
    return { intact: false, checked: 0, seq: null, reason: "the store has no chain head (its audit_chain row was removed): the chain was cut" };
  }
  const { startSeq, headSeq, headHash, lastSeq } = head;
  let prevHash = GENESIS;
  let prevSeq: number | null = null;
  let checked = 0;
  let before = 0;
  const broken = (seq: number | null, reason: string): Verdict => ({ intact: false, checked, seq, reason });
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
    return { intact: true, checked, before, startSeq, headSeq, headHash };
  }
}
