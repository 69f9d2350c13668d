import type { Clock } from '../core/runtime.ts';
import { DECISIONS } from '../core/decisions.ts';
import { limiter, type Limiter } from '../core/rate-limit.ts';

/**
 * Failed password logins, counted per user and per source address. Past `perMinute` failures
 * (refilling over a minute) a login for that user, or from that address, is refused with 429
 * before the password is hashed, so a flood of wrong passwords neither guesses on for long nor
 * keeps scrypt busy for everybody else. Successful logins cost nothing. 0 turns it off.
 *
 * One budget per node: with `shared` (src/cluster.ts) the buckets are the ones every worker
 * thread of the process charges, so spreading the attempts over connections that land on
 * different event loops gains nothing. Users and addresses are counted in one table, apart by
 * their prefix.
 */
export class LoginGuard {
  private readonly failures: Limiter | null;
  /** Seconds until a refused user or address has one more try: one token's refill time. */
  readonly retryAfterSeconds: number;
  constructor(perMinute: number, clock: Clock, shared?: SharedArrayBuffer | null) {
    this.retryAfterSeconds = perMinute > 0 ? Math.ceil(60 / perMinute) : 1;
    // A user or address that finds the shared table too crowded to be counted is refused rather
    // than let through uncounted: guessing must never go unlimited.
    this.failures = perMinute > 0 ? limiter(perMinute / 60, clock, shared, perMinute, DECISIONS.crowdedLoginTable) : null;
  }

  /** May a login for this user (as named in the request) from this address be tried now? */
  mayTry(user: string, source: string): boolean {
    return !this.failures || (this.failures.available(`user:${user}`) && this.failures.available(`source:${source}`));
  }

  failed(user: string, source: string): void {
    this.failures?.take(`user:${user}`);
    this.failures?.take(`source:${source}`);
  }
}
