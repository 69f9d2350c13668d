import type { Clock } from '../core/runtime.ts';
import { DECISIONS } from '../core/decisions.ts';
import { limiter, type Limiter } from '../core/rate-limit.ts';

/**
 * Failed password logins, counted per user and per source address. Past `perMinute` failures
 * (refilling over a minute) a login for that user, or from that address, is refused with 429
 * before the password is hashed, so a flood of wrong passwords neither guesses on for long nor
 * keeps scrypt busy for everybody else. Successful logins cost nothing. 0 turns it off.
 *
 * The budget is reserved before the password is checked: a login takes one failure's worth
 * from the user's and the address's buckets first and gets it back only if the password was
 * right. Checking first and charging after would let every login in flight while one token is
 * left run a real password check (hundreds at once), whatever the limit says.
 *
 * The user is the resolved user (its id), never the text of the request: naming one user by
 * id, by name, with another domain spelling or case each time draws on one budget.
 *
 * One budget per node: with `shared` (src/cluster.ts) the buckets are the ones every worker
 * thread of the process charges, so spreading the attempts over connections that land on
 * different event loops gains nothing. Users and addresses are counted in one table, apart by
 * their prefix.
 */
export class LoginGuard {
  private readonly failures: Limiter | null;
  constructor(perMinute: number, clock: Clock, shared?: SharedArrayBuffer | null) {
    // A user or address that finds the shared table too crowded to be counted is refused rather
    // than let through uncounted: guessing must never go unlimited.
    this.failures = perMinute > 0 ? limiter(perMinute / 60, clock, shared, perMinute, DECISIONS.crowdedLoginTable) : null;
  }

  /**
   * Reserves one failure's worth for this user (a resolved user id, or the request's spelling
   * of a name no user has) and this address: false (answer 429, check no password) when
   * either budget is spent. Settle a true answer with succeeded() or keep it as the failure.
   */
  reserve(user: string, source: string): boolean {
    if (!this.failures) return true;
    if (!this.failures.take(`source:${source}`)) return false;
    if (this.failures.take(`user:${user}`)) return true;
    this.failures.refund(`source:${source}`);
    return false;
  }

  /** The password was right: the reservation costs nothing. */
  succeeded(user: string, source: string): void {
    this.failures?.refund(`user:${user}`);
    this.failures?.refund(`source:${source}`);
  }
}
