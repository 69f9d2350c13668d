import type { Tx } from './store.ts';
import { StoreUnavailableError } from './unavailable.ts';

/**
 * Group commit for a PostgreSQL node's writes: the writes of one event loop wait in a queue,
 * and one transaction runs every write waiting when it starts, each under its own SAVEPOINT, so
 * they share one durable COMMIT (one fsync) instead of taking one each, one after the other.
 *
 * Why groups cannot deadlock (docs/postgres-performance.md, "Group commit"): every writer locks
 * its key's row first and the audit chain's head row last, and the data version row at COMMIT.
 * A single transaction that follows that order cannot wait in a cycle with another one. In a
 * group, the second unit would lock its key after the first took the head: two groups (two
 * event loops, two nodes) could then each hold what the other waits for, until PostgreSQL's
 * deadlock_timeout (1 s). So a group waits for a lock only while it holds none: until one of its
 * units has run to its end, its units may wait as a lone transaction does (and in the same
 * order); after that the group sets `lock_timeout` to LOCK_WAIT_MS, and a unit that would wait
 * longer is rolled back to its savepoint with 55P03, and runs again at the head of the next
 * group, where it may wait. A wait that lasts is therefore always a lone transaction's wait,
 * never a wait by a transaction that holds locks of earlier units: the order above is kept.
 * The COMMIT's own wait for the data version row is a wait on a transaction that is already
 * committing (it takes that row in its last statement), which waits on nothing.
 */

/** A write waiting for its group: its work, its caller, and how many of its runs failed and were retried. */
export interface PendingWrite {
  work: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  attempts: number;
}

/** At most this many writes share a transaction: a group answers its callers within their deadline. */
export const MAX_GROUP = 64;
/** How long a unit of a group that holds locks may wait for another lock (see the top of this file). */
export const LOCK_WAIT_MS = 2;
/** How many times a write runs at most: conflicts with concurrent writers, a connection lost before COMMIT. */
export const MAX_ATTEMPTS = 5;

// Conflicts a unit of work is run again for, from its start: serialization failure, deadlock,
// and a unique key taken by a concurrent writer (the retry then sees the winner and answers as
// the rules say, e.g. KMS.1104).
const RETRYABLE = new Set(['40001', '40P01', '23505']);
export const retryable = (error: unknown): boolean => RETRYABLE.has((error as { code?: string } | null)?.code ?? '');

/** The lock_timeout of a unit that ran while its group held locks: run it again, first in the next group. */
export const lockWaitRefused = (error: unknown): boolean =>
  error instanceof StoreUnavailableError && (error.cause as { code?: string } | undefined)?.code === '55P03';

/** A unit that failed for a reason worth running it again for: again, unless it ran MAX_ATTEMPTS times. */
export function runAgain(unit: PendingWrite, error: unknown): Outcome {
  return ++unit.attempts < MAX_ATTEMPTS ? { again: true } : { ok: false, error };
}

/** What became of each unit of a group, in order. */
export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown } | { again: true };

/**
 * Writes of one event loop, run in groups by `runGroup` one group at a time. `runGroup` settles
 * nothing itself: it says what became of each unit, and the queue answers the callers (units
 * to run again go back to the head of the queue, in order).
 */
export class WriteQueue {
  private readonly waiting: PendingWrite[] = [];
  private running = false;
  private scheduled = false;
  private readonly runGroup: (group: PendingWrite[]) => Promise<Outcome[]>;
  constructor(runGroup: (group: PendingWrite[]) => Promise<Outcome[]>) {
    this.runGroup = runGroup;
  }

  submit<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ work, resolve: resolve as (value: unknown) => void, reject, attempts: 0 });
      this.schedule();
    });
  }

  /** Resolves once no write waits or runs (closing the store). */
  async idle(): Promise<void> {
    while (this.running || this.scheduled || this.waiting.length > 0) await new Promise((r) => setTimeout(r, 1));
  }

  // Started after the loop's I/O phase, as SQLite's: every request already received joins.
  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const group = this.waiting.splice(0, MAX_GROUP);
    let outcomes: Outcome[];
    try {
      outcomes = await this.runGroup(group);
    } catch (error) {
      outcomes = group.map(() => ({ ok: false, error }));
    }
    const again: PendingWrite[] = [];
    group.forEach((unit, i) => {
      const outcome = outcomes[i];
      if ('again' in outcome) again.push(unit);
      else if (outcome.ok) unit.resolve(outcome.value);
      else unit.reject(outcome.error);
    });
    this.waiting.unshift(...again);
    this.running = false;
    if (this.waiting.length > 0) this.schedule();
  }
}
