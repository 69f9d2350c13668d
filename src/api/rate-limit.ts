import type { Clock } from '../core/runtime.ts';

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per access key (per user for token callers): `perSecond` requests a second,
 * with bursts up to one second's worth. Counted per node, in memory: the limit protects this
 * node's CPU and store, which is what a per-node count measures. Checked after the signature,
 * so nobody can spend another's budget with an access key id alone.
 */
export class RateLimiter {
  private readonly perSecond: number;
  private readonly clock: Clock;
  private readonly buckets = new Map<string, Bucket>();
  constructor(perSecond: number, clock: Clock) {
    this.perSecond = perSecond;
    this.clock = clock;
  }

  /** Takes one request from the caller's bucket; false when it is empty. */
  take(caller: string): boolean {
    const now = this.clock.now();
    const bucket = this.buckets.get(caller) ?? { tokens: this.perSecond, at: now };
    bucket.tokens = Math.min(this.perSecond, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    if (!this.buckets.has(caller)) this.makeRoom(now);
    this.buckets.set(caller, bucket);
    return true;
  }

  // A bucket that has refilled is the same as no bucket: forget those when many are kept, so
  // memory follows the callers active in the last second, not every caller ever seen.
  private makeRoom(now: number): void {
    if (this.buckets.size < 10_000) return;
    for (const [caller, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond >= this.perSecond) this.buckets.delete(caller);
    }
  }
}
