import type { Clock } from './runtime.ts';

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets by caller: `perSecond` tokens a second, holding at most `burst` (by default one
 * second's worth). Counted in memory, per process. Used for the per-access-key request rate
 * (checked after the signature, so nobody can spend another's budget with an access key id
 * alone), for audit records of unknown callers per source address, and for failed logins.
 */
export class RateLimiter {
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
    const bucket = this.buckets.get(caller) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    return bucket;
  }

  /** Whether the caller's bucket holds a token now (nothing is taken). */
  available(caller: string): boolean {
    return this.refilled(caller, this.clock.now()).tokens >= 1;
  }

  /** Takes one token from the caller's bucket; false when it is empty. */
  take(caller: string): boolean {
    const now = this.clock.now();
    const bucket = this.refilled(caller, now);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    if (!this.buckets.has(caller)) this.makeRoom(now);
    this.buckets.set(caller, bucket);
    return true;
  }

  // A bucket that has refilled is the same as no bucket: forget those when many are kept, so
  // memory follows the callers active lately, not every caller ever seen.
  private makeRoom(now: number): void {
    if (this.buckets.size < 10_000) return;
    for (const [caller, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(caller);
    }
  }
}
/** What the edge needs of a rate limiter. */
export interface Limiter {
  take(caller: string): boolean;
}

// The shared table: a lock word, then SLOTS slots of 32 bytes: the caller's fingerprint (two
// 32-bit hashes; 0,0 is an empty slot), then tokens and time as doubles.
const SLOTS = 1 << 16;
const PROBES = 16;
const HEADER = 32;
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
 * their name in an open-addressed table of 65,536 slots; a slot whose bucket has refilled is
 * the same as an empty one and is reused. A short spin lock guards each take (a few hundred
 * nanoseconds). In the unlikely case that 16 neighbouring slots all hold callers active in
 * the last second (tens of thousands of active callers), the request is let through rather
 * than charged to another caller's bucket.
 */
export class SharedRateLimiter implements Limiter {
  static buffer(): SharedArrayBuffer {
    return new SharedArrayBuffer(HEADER + SLOTS * SLOT);
  }
  private readonly perSecond: number;
  private readonly clock: Clock;
  private readonly ints: Int32Array;
  private readonly doubles: Float64Array;
  constructor(perSecond: number, clock: Clock, buffer: SharedArrayBuffer) {
    this.perSecond = perSecond;
    this.clock = clock;
    this.ints = new Int32Array(buffer);
    this.doubles = new Float64Array(buffer);
  }

  take(caller: string): boolean {
    const h1 = fnv1a(caller, 0x811c9dc5);
    const h2 = fnv1a(caller, 0x2f8a3c17) || 1;
    const now = this.clock.now();
    const { ints, doubles, perSecond } = this;
    while (Atomics.compareExchange(ints, 0, 0, 1) !== 0) {
      // another thread is inside take(): a few hundred nanoseconds
    }
    try {
      let free = -1;
      for (let k = 0; k < PROBES; k++) {
        const slot = (h1 + k) & (SLOTS - 1);
        const i = (HEADER + slot * SLOT) / 4;
        const d = (HEADER + slot * SLOT) / 8;
        if (ints[i] === h1 && ints[i + 1] === h2) {
          const tokens = Math.min(perSecond, doubles[d + 1] + ((now - doubles[d + 2]) / 1000) * perSecond);
          doubles[d + 2] = now;
          if (tokens < 1) {
            doubles[d + 1] = tokens;
            return false;
          }
          doubles[d + 1] = tokens - 1;
          return true;
        }
        const empty = ints[i] === 0 && ints[i + 1] === 0;
        if (free < 0 && (empty || doubles[d + 1] + ((now - doubles[d + 2]) / 1000) * perSecond >= perSecond)) free = slot;
      }
      if (free < 0) return true;
      const i = (HEADER + free * SLOT) / 4;
      const d = (HEADER + free * SLOT) / 8;
      ints[i] = h1;
      ints[i + 1] = h2;
      doubles[d + 1] = perSecond - 1;
      doubles[d + 2] = now;
      return true;
    } finally {
      Atomics.store(ints, 0, 0);
    }
  }
}
