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
