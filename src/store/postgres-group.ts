import type { Tx } from './store.ts';
import { StoreUnavailableError } from './unavailable.ts';
import { currentUnit } from './postgres-overlap.ts';

/**
 * Group commit for a PostgreSQL node's writes: the writes of one event loop wait in a queue,
 * and one transaction runs every write waiting when it starts, one after the other, so they
 * share one durable COMMIT (one fsync) instead of taking one each. A write that fails after it
 * wrote undoes its group, whose writes run again each under its own SAVEPOINT (postgres.ts
 * commitGroup).
 *
 * Why groups cannot deadlock (docs/postgres-performance.md, "Group commit"): every writer locks
 * its keys' rows first, then, after its last unit, the audit chain's head row (the statement
 * that writes the group's records), and the data version row at COMMIT. In a group, the second
 * unit locks its key after the first unit locked its own: two groups (two event loops, two
 * nodes) could then each hold a key the other waits for, until PostgreSQL's deadlock_timeout
 * (1 s). So a unit waits for a lock only while its group holds none: until one of its units has
 * run to its end, its units may wait as a lone transaction does; after that the group sets
 * `lock_timeout` to LOCK_WAIT_MS, and a unit that would wait longer fails with 55P03 (rolled
 * back to its savepoint, or its group undone whole) and runs again at the head of the next
 * group, where it may wait. The
 * group's tail waits with no such bound (it is lifted first): for the head, whose holder is
 * another group at its own tail, which waits only for the data version row; and for that row,
 * whose holder is committing (it takes the row in its last statement) and waits on nothing.
 */

/** A write waiting for its group: its work, its caller, and how many of its runs failed and were retried. */
export interface PendingWrite {
  work: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  attempts: number;
  /** When it was submitted, or put back after it ran in a group (performance.now()): what its wait for a connection is bounded from. */
  since: number;
  /** It ran in a group that was undone whole (postgres.ts commitGroup): its next group runs every unit under a SAVEPOINT. */
  undone?: boolean;
}

/** At most this many writes share a transaction: a group answers its callers within their deadline. */
// Not above 64: PostgreSQL caches 64 subtransactions per backend (PGPROC_MAX_CACHED_SUBXIDS); a
// transaction with more (each unit is a SAVEPOINT in a group that runs again after an undo) makes
// every other session's snapshots slower.
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

/**
 * What became of each unit of a group, in order. `first`: put back ahead of the group's other
 * units (a unit its group's lock bound refused: first in the next group, it may wait).
 */
export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown } | { again: true; first?: boolean };

/**
 * A unit that runs longer than this (waiting for a lock held elsewhere, a slow database) hands
 * the group's later units to a new group: a fortieth of the deadline (N writes stuck behind one
 * lock start within N × D/40), at most 200 ms, well above a wait for another group's COMMIT.
 */
export const stallMs = (deadlineMs: number | undefined): number => Math.min(200, Math.max(1, Math.floor((deadlineMs ?? Infinity) / 40)));

/**
 * The run of one group: its units, and where it stops. A unit that stalls (STALL_MS) hands
 * the units after it back to the queue, which starts another group for them at once on
 * another connection: a write that waits, up to its deadline, for a row held by a session in
 * psql delays no other write of the loop, as it did not when each write had its own
 * transaction.
 */
export class GroupRun {
  readonly units: PendingWrite[];
  /** The group runs the units before this index; those from it on were handed to another group. */
  end: number;
  stalled = false;
  private readonly onStall: (run: GroupRun, from: number) => void;
  private readonly stallMs: number;
  constructor(units: PendingWrite[], stallMs: number, onStall: (run: GroupRun, from: number) => void) {
    this.units = units;
    this.end = units.length;
    this.stallMs = stallMs;
    this.onStall = onStall;
  }
  /** Units begun: a later unit may begin before an earlier one ends (postgres-overlap.ts). */
  private begun = 0;
  /** Runs unit `i`'s work in the group's transaction. */
  async run(i: number, tx: Tx): Promise<unknown> {
    this.begun = Math.max(this.begun, i + 1);
    // A unit that stalls hands back the units after it that have not begun. Set outside the
    // unit's async context (postgres-overlap.ts), which the group it starts would inherit.
    const timer = currentUnit.exit(() => setTimeout(() => this.onStall(this, Math.max(i + 1, this.begun)), this.stallMs));
    try {
      return await this.units[i].work(tx);
    } finally {
      clearTimeout(timer);
    }
  }
}

export interface QueueLimits {
  /** Groups at once at most (connections). */
  maxInFlight: number;
  /** See stallMs. */
  stallMs: number;
  /** How long a write may wait for its group, and the error it is refused with after that. */
  maxWaitMs: number;
  waitedTooLong: () => Error;
}

/**
 * Writes of one event loop, run in groups by `runGroup`: one group at a time, or another one
 * next to a group whose unit stalled (GroupRun), up to `maxInFlight` groups (connections).
 * `runGroup` settles nothing itself: it says what became of each unit it ran, and the queue
 * answers the callers (units to run again go back to the head of the queue, in order).
 */
export class WriteQueue {
  private readonly waiting: PendingWrite[] = [];
  /** Groups running whose units did not stall: while there is one, new writes wait for the next group. */
  private active = 0;
  private inFlight = 0;
  private scheduled = false;
  /** Refuses the writes that waited past their bound while no group could start (armed by schedule()). */
  private expiry: NodeJS.Timeout | null = null;
  private readonly runGroup: (run: GroupRun) => Promise<Outcome[]>;
  private readonly limits: QueueLimits;
  constructor(runGroup: (run: GroupRun) => Promise<Outcome[]>, limits: QueueLimits) {
    this.runGroup = runGroup;
    this.limits = limits;
  }

  submit<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ work, resolve: resolve as (value: unknown) => void, reject, attempts: 0, since: performance.now() });
      this.schedule();
    });
  }

  /** Resolves once no write waits or runs (closing the store). */
  async idle(): Promise<void> {
    while (this.inFlight > 0 || this.scheduled || this.waiting.length > 0) await new Promise((r) => setTimeout(r, 1));
  }

  // Started after the loop's I/O phase, as SQLite's: every request already received joins.
  private schedule(): void {
    if (this.scheduled || this.waiting.length === 0) return;
    // Every connection runs a group: what waits now may wait for stalled groups, bounded below.
    if (this.inFlight >= this.limits.maxInFlight) {
      this.watchWaits();
      return;
    }
    // A group runs (not stalled) and a connection is free: the next group starts when it ends or stalls.
    if (this.active > 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private readonly stall = (run: GroupRun, from: number): void => {
    if (run.stalled) return;
    run.stalled = true;
    this.active--;
    this.waiting.unshift(...run.units.slice(from, run.end));
    run.end = from;
    // They may have waited longer than the write the timer was set for.
    this.rearm();
  };

  /**
   * Writes that waited past their bound while every connection runs a group are refused, as a lone
   * write that waited that long for a pooled connection was: at the oldest waiting write's bound
   * (watchWaits), since stalled groups may hold every connection for as long as their statements'
   * own timeout, and nothing else would look at the queue till then. Never while a connection is
   * free: a write waiting behind a group that runs (a slow database, within the group's budget)
   * gets the next group.
   */
  private refuseOverdue(): void {
    if (this.inFlight < this.limits.maxInFlight) return;
    const now = performance.now();
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      if (now - this.waiting[i].since >= this.limits.maxWaitMs) this.waiting.splice(i, 1)[0].reject(this.limits.waitedTooLong());
    }
  }

  private watchWaits(): void {
    if (this.expiry !== null || this.waiting.length === 0) return;
    const oldest = this.waiting.reduce((min, w) => Math.min(min, w.since), Infinity);
    this.expiry = setTimeout(() => {
      this.expiry = null;
      this.refuseOverdue();
      this.schedule();
    }, Math.max(0, oldest + this.limits.maxWaitMs - performance.now()));
    this.expiry.unref();
  }

  /** Sets the timer again for the writes waiting now (some put back may be older than the one it was set for). */
  private rearm(): void {
    if (this.expiry !== null) clearTimeout(this.expiry);
    this.expiry = null;
    this.schedule();
  }

  private async drain(): Promise<void> {
    if (this.active > 0 || this.inFlight >= this.limits.maxInFlight || this.waiting.length === 0) return;
    this.active++;
    this.inFlight++;
    const run = new GroupRun(this.waiting.splice(0, MAX_GROUP), this.limits.stallMs, this.stall);
    let outcomes: Outcome[];
    try {
      outcomes = await this.runGroup(run);
    } catch (error) {
      outcomes = run.units.map(() => ({ ok: false, error }));
    }
    const again: PendingWrite[] = [];
    for (let i = 0; i < run.end; i++) {
      // Every unit is answered or queued again, whatever runGroup said (this runs detached from
      // any caller: a throw here would be an unhandled rejection, and the queue would stop).
      const outcome = outcomes[i] ?? { ok: false, error: new Error('a write of a group got no outcome') };
      if ('again' in outcome) {
        if (outcome.first === true) again.unshift(run.units[i]);
        else again.push(run.units[i]);
      } else if (outcome.ok) run.units[i].resolve(outcome.value);
      else run.units[i].reject(outcome.error);
    }
    // A unit put back had its connection: its wait for one starts again.
    for (const unit of again) unit.since = performance.now();
    this.waiting.unshift(...again);
    if (!run.stalled) this.active--;
    this.inFlight--;
    this.rearm();
  }
}
