import { randomFillSync } from 'node:crypto';
import type { Clock } from './runtime.ts';

interface Bucket {
  tokens: number;
  at: number;
  /** Refusals counted since the count was opened (takeOrCount), until settled. */
  refused: number;
}

/**
 * What the edge needs of a rate limiter: token buckets by caller, `perSecond` tokens a second
 * holding at most `burst`. RateLimiter counts in one event loop's memory; SharedRateLimiter in
 * memory every worker thread of the process shares (one budget per node). The users: the
 * per-access-key request rate, the failed-login limit (LoginGuard) and the bound on audit
 * records of unknown callers (RefusalRecorder), which also counts what it refused.
 */
export interface Limiter {
  /** Takes one token from the caller's bucket; false when it is empty. */
  take(caller: string): boolean;
  /** Whether the caller's bucket holds a token now (nothing is taken). */
  available(caller: string): boolean;
  /**
   * Takes a token like take(); when the bucket is empty, adds one to the caller's count of
   * refusals instead: 'first' when that opened the count (it was 0), else 'counted'. The
   * caller's bucket is kept (never forgotten) while its count is open.
   */
  takeOrCount(caller: string): 'taken' | 'first' | 'counted';
  /** The caller's count of refusals since it was opened, and closes it (back to 0). */
  settle(caller: string): number;
}

/**
 * Token buckets by caller: `perSecond` tokens a second, holding at most `burst` (by default one
 * second's worth). Counted in memory, per event loop (one loop: `--workers 1`, and tests).
 * Used for the per-access-key request rate (checked after the signature, so nobody can spend
 * another's budget with an access key id alone), for audit records of unknown callers per
 * source address, and for failed logins.
 */
export class RateLimiter implements Limiter {
  private readonly perSecond: number;
  private readonly burst: number;
  private readonly clock: Clock;
  private readonly buckets = new Map<string, Bucket>();
  constructor(perSecond: number, clock: Clock, burst = perSecond) {
    this.perSecond = perSecond;
    this.burst = burst;
    this.clock = clock;
  }

  private refilled(caller: string, now: number): Bucket {
    const bucket = this.buckets.get(caller) ?? { tokens: this.burst, at: now, refused: 0 };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    return bucket;
  }

  available(caller: string): boolean {
    return this.refilled(caller, this.clock.now()).tokens >= 1;
  }

  take(caller: string): boolean {
    return this.takeOrCount(caller, false) === 'taken';
  }

  takeOrCount(caller: string, count = true): 'taken' | 'first' | 'counted' {
    const now = this.clock.now();
    const bucket = this.refilled(caller, now);
    if (!this.buckets.has(caller)) this.makeRoom(now);
    this.buckets.set(caller, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 'taken';
    }
    if (!count) return 'counted';
    return ++bucket.refused === 1 ? 'first' : 'counted';
  }

  settle(caller: string): number {
    const bucket = this.buckets.get(caller);
    if (!bucket) return 0;
    const refused = bucket.refused;
    bucket.refused = 0;
    return refused;
  }

  // A bucket that has refilled (and counts no refusal) is the same as no bucket: forget those
  // when many are kept, so memory follows the callers active lately, not every caller ever seen.
  private makeRoom(now: number): void {
    if (this.buckets.size < 10_000) return;
    for (const [caller, bucket] of this.buckets) {
      if (bucket.refused === 0 && bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(caller);
    }
  }
}

// The shared table: a lock word, then SLOTS slots of 32 bytes: the caller's fingerprint (two
// 32-bit hashes; 0,0 is an empty slot), tokens and time as doubles, then the count of refusals
// (takeOrCount) and the count of checks in flight (reserve()) as 32-bit integers.
const SLOTS = 1 << 16;
const PROBES = 16;
// The header: the lock word, then the table's two hash seeds.
const HEADER = 32;
/** lock(): the caller has no slot and there is no room for one. */
const FULL = -2;
const SLOT = 32;

function fnv1a(text: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/**
 * The same token buckets as RateLimiter, kept in a SharedArrayBuffer that every worker thread
 * of the process uses (src/cluster.ts), so a caller's budget is one per process however its
 * connections are spread over the workers. Callers are found by a 64-bit fingerprint of
 * their name in an open-addressed table of 65,536 slots; a slot whose bucket has refilled (and
 * counts no refusal) is the same as an empty one and is reused. A short spin lock guards each
 * call (a few hundred nanoseconds). In the unlikely case that 16 neighbouring slots all hold
 * callers active lately (tens of thousands of active callers), the request is let through
 * rather than charged to another caller's bucket — or refused, for a limit built with
 * `whenFull: 'refuse'` (failed logins). The hash seeds are random per table (buffer()), so no
 * caller can aim names at another's slots. One buffer per use (rate, logins, refusals):
 * each has its own rate, and a slot is judged refilled at its table's rate.
 */
export class SharedRateLimiter implements Limiter {
  /**
   * A new table. Its two hash seeds are drawn at random here and kept in its header: with
   * public seeds a caller could work out names that land in another's 16 slots and fill them,
   * so that the other caller's requests find no slot (and, for a limit that lets such a
   * request through, no limit).
   */
  static buffer(): SharedArrayBuffer {
    const buffer = new SharedArrayBuffer(HEADER + SLOTS * SLOT);
    const seeds = new Int32Array(buffer, 4, 2);
    randomFillSync(seeds);
    return buffer;
  }
  private readonly perSecond: number;
  private readonly burst: number;
  private readonly clock: Clock;
  private readonly ints: Int32Array;
  private readonly doubles: Float64Array;
  private readonly seeds: [number, number];
  /** What a caller that finds no slot gets: let through (a request rate), or refused (failed logins). */
  private readonly whenFull: 'allow' | 'refuse';
  constructor(perSecond: number, clock: Clock, buffer: SharedArrayBuffer, burst = perSecond, whenFull: 'allow' | 'refuse' = 'allow') {
    this.perSecond = perSecond;
    this.burst = burst;
    this.clock = clock;
    this.ints = new Int32Array(buffer);
    this.doubles = new Float64Array(buffer);
    this.seeds = [this.ints[1] ^ 0x811c9dc5, this.ints[2] ^ 0x2f8a3c17];
    this.whenFull = whenFull;
  }

  /**
   * Takes the table's lock (release with unlock()) and finds the caller's slot: its byte offset,
   * -1 when the caller has none and `create` is false, or FULL when the caller has none and its
   * 16 slots all hold other callers active lately.
   */
  private lock(caller: string, create: boolean, now: number): number {
    this.acquire();
    return this.find(caller, create, now);
  }

  private acquire(): void {
    while (Atomics.compareExchange(this.ints, 0, 0, 1) !== 0) {
      // another thread is inside the table: a few hundred nanoseconds
    }
  }

  /** lock() under a lock already taken; `avoid`: slots this call already uses (never reused for another caller). */
  private find(caller: string, create: boolean, now: number, avoid: readonly number[] = []): number {
    const h1 = fnv1a(caller, this.seeds[0]);
    const h2 = fnv1a(caller, this.seeds[1]) || 1;
    const { ints, doubles, perSecond, burst } = this;
    let free = -1;
    for (let k = 0; k < PROBES; k++) {
      const at = HEADER + ((h1 + k) & (SLOTS - 1)) * SLOT;
      const i = at / 4;
      const d = at / 8;
      if (ints[i] === h1 && ints[i + 1] === h2) return at;
      const empty = ints[i] === 0 && ints[i + 1] === 0;
      // A slot with checks in flight (reserve()) is kept whatever its tokens.
      const idle = ints[i + 6] === 0 && ints[i + 7] === 0 && doubles[d + 1] + (Math.max(0, now - doubles[d + 2]) / 1000) * perSecond >= burst;
      if (free < 0 && (empty || idle) && !avoid.includes(at)) free = at;
    }
    if (free < 0) return FULL;
    if (!create) return -1;
    ints[free / 4] = h1;
    ints[free / 4 + 1] = h2;
    ints[free / 4 + 6] = 0;
    ints[free / 4 + 7] = 0;
    doubles[free / 8 + 1] = burst;
    doubles[free / 8 + 2] = now;
    return free;
  }

  private unlock(): void {
    Atomics.store(this.ints, 0, 0);
  }

  /** The slot's tokens, refilled to now (a clock that went back refills nothing, and takes nothing away). */
  private tokens(slot: number, now: number): number {
    const d = slot / 8;
    return Math.min(this.burst, this.doubles[d + 1] + (Math.max(0, now - this.doubles[d + 2]) / 1000) * this.perSecond);
  }

  available(caller: string): boolean {
    const now = this.clock.now();
    const slot = this.lock(caller, false, now);
    try {
      if (slot === FULL) return this.whenFull === 'allow';
      return slot < 0 || this.tokens(slot, now) >= 1;
    } finally {
      this.unlock();
    }
  }

  take(caller: string): boolean {
    return this.spend(caller, false) === 'taken';
  }

  takeOrCount(caller: string): 'taken' | 'first' | 'counted' {
    return this.spend(caller, true);
  }

  private spend(caller: string, count: boolean): 'taken' | 'first' | 'counted' {
    const now = this.clock.now();
    const slot = this.lock(caller, true, now);
    try {
      if (slot < 0) return this.whenFull === 'allow' ? 'taken' : 'counted'; // FULL
      const tokens = this.tokens(slot, now);
      this.doubles[slot / 8 + 2] = now;
      if (tokens >= 1) {
        this.doubles[slot / 8 + 1] = tokens - 1;
        return 'taken';
      }
      this.doubles[slot / 8 + 1] = tokens;
      if (!count) return 'counted';
      return ++this.ints[slot / 4 + 6] === 1 ? 'first' : 'counted';
    } finally {
      this.unlock();
    }
  }

  /**
   * For work whose outcome decides its cost (a password check: a failure costs a token, a
   * success nothing): takes one token from every caller's bucket, all or none, and counts one
   * check in flight on each ('taken'; settle it with release()). When a bucket is empty:
   * 'held' if every empty bucket has checks in flight on some thread — their outcomes may give
   * tokens back: `wait` resolves when one settles (or after `ms`), then reserve again — else
   * 'spent'. A caller with no room in the table is 'spent' (this is for limits that refuse).
   */
  reserve(callers: readonly string[]): { outcome: 'taken' } | { outcome: 'spent' } | { outcome: 'held'; wait: (ms: number) => Promise<void> } {
    const now = this.clock.now();
    const { ints, doubles } = this;
    let word = -1;
    let seen = 0;
    this.acquire();
    try {
      const slots: number[] = [];
      for (const caller of callers) {
        const slot = this.find(caller, true, now, slots);
        if (slot < 0) return { outcome: 'spent' };
        slots.push(slot);
      }
      const empty = slots.filter((slot) => this.tokens(slot, now) < 1);
      if (empty.length === 0) {
        for (const slot of slots) {
          doubles[slot / 8 + 1] = this.tokens(slot, now) - 1;
          doubles[slot / 8 + 2] = now;
          ints[slot / 4 + 7]++;
        }
        return { outcome: 'taken' };
      }
      if (!empty.every((slot) => ints[slot / 4 + 7] > 0)) return { outcome: 'spent' };
      word = empty[0] / 4 + 7;
      seen = ints[word];
    } finally {
      this.unlock();
    }
    // The count of checks in flight is the word waited on: release() changes it and wakes.
    return {
      outcome: 'held',
      wait: async (ms) => {
        const waiting = Atomics.waitAsync(ints, word, seen, ms);
        if (waiting.async) await waiting.value;
      },
    };
  }

  /**
   * Settles a reserve() that was 'taken': one check fewer in flight on each caller's bucket,
   * and its token back when `refund`. Wakes one waiter of each bucket for a token given back
   * (one token serves one), every waiter when none is (they may now find the budget spent).
   */
  release(callers: readonly string[], refund: boolean): void {
    const now = this.clock.now();
    const words: number[] = [];
    this.acquire();
    try {
      for (const caller of callers) {
        const slot = this.find(caller, false, now);
        if (slot < 0) continue;
        if (refund) {
          this.doubles[slot / 8 + 1] = Math.min(this.burst, this.tokens(slot, now) + 1);
          this.doubles[slot / 8 + 2] = now;
        }
        if (this.ints[slot / 4 + 7] > 0) this.ints[slot / 4 + 7]--;
        words.push(slot / 4 + 7);
      }
    } finally {
      this.unlock();
    }
    for (const word of words) Atomics.notify(this.ints, word, refund ? 1 : Infinity);
  }

  settle(caller: string): number {
    const slot = this.lock(caller, false, this.clock.now());
    try {
      if (slot < 0) return 0;
      const refused = this.ints[slot / 4 + 6];
      this.ints[slot / 4 + 6] = 0;
      return refused;
    } finally {
      this.unlock();
    }
  }
}

/** A limiter: over `shared` (the buckets every event loop of the process uses) when given, else this loop's own. */
export function limiter(
  perSecond: number, clock: Clock, shared: SharedArrayBuffer | null | undefined, burst = perSecond, whenFull: 'allow' | 'refuse' = 'allow',
): Limiter {
  return shared ? new SharedRateLimiter(perSecond, clock, shared, burst, whenFull) : new RateLimiter(perSecond, clock, burst);
}
