import type { Clock } from '../core/runtime.ts';
import { DECISIONS } from '../core/decisions.ts';
import { SharedRateLimiter } from '../core/rate-limit.ts';

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
 * One budget per node: with `shared` (src/cluster.ts) the buckets, and the counts of checks in
 * flight, are the ones every worker thread of the process uses, so spreading the attempts over
 * connections that land on different event loops gains nothing, and right passwords wait for
 * checks in flight on any loop rather than being refused. Users and addresses are counted in one table, apart by
 * their prefix.
 */
/** A reserved login: settle it once, with the outcome of the password check. */
export interface LoginReservation {
  /** The password was right: the reservation costs nothing. */
  succeeded(): void;
  /** The password was wrong (or the user may not log in): the reservation is the failure. */
  failed(): void;
}

/** How long one wait for a check in flight lasts before the budget is looked at again (a wake-up missed costs no more). */
const RECHECK_MS = 200;
/** How long a login waits in all for checks in flight before 429. */
const MAX_WAIT_MS = 30_000;
/** Logins waiting at once in one event loop; past that a login that would wait gets 429 (PasswordGate: 503). */
export const MAX_WAITING = 1_000;

export class LoginGuard {
  private readonly failures: SharedRateLimiter | null;
  private readonly clock: Clock;
  /** Seconds until a refused user or address has one more try: one token's refill time. */
  readonly retryAfterSeconds: number;
  /** Logins of this event loop waiting for checks in flight. */
  private waiting = 0;

  constructor(perMinute: number, clock: Clock, shared?: SharedArrayBuffer | null) {
    // The buckets and the counts of checks in flight live in a shared table even with one event
    // loop (its own then): every loop of the process sees every check in flight and wakes the
    // logins waiting on it. A user or address that finds the table too crowded to be counted is
    // refused rather than let through uncounted: guessing must never go unlimited.
    this.failures = perMinute > 0
      ? new SharedRateLimiter(perMinute / 60, clock, shared ?? SharedRateLimiter.buffer(), perMinute, DECISIONS.crowdedLoginTable)
      : null;
    this.clock = clock;
    this.retryAfterSeconds = perMinute > 0 ? Math.ceil(60 / perMinute) : 1;
  }

  /**
   * Reserves one failure's worth for this user (a resolved user id, or the request's spelling
   * of a name no user has) and this address, or null (answer 429, check no password) when
   * either budget is spent. A budget spent only by logins still being checked — in any event
   * loop of the process — is waited for: their right passwords give it back (so many right
   * logins at once all get through, a few at a time), their wrong ones keep it (then 429).
   */
  async reserve(user: string, source: string): Promise<LoginReservation | null> {
    const failures = this.failures;
    if (!failures) return { succeeded: () => undefined, failed: () => undefined };
    const keys = [`user:${user}`, `source:${source}`];
    const deadline = this.clock.now() + MAX_WAIT_MS;
    for (;;) {
      const reserved = failures.reserve(keys);
      if (reserved.outcome === 'taken') return this.settleOnce(failures, keys);
      if (reserved.outcome === 'spent' || this.waiting >= MAX_WAITING || this.clock.now() >= deadline) return null;
      this.waiting++;
      try {
        await reserved.wait(RECHECK_MS);
      } finally {
        this.waiting--;
      }
    }
  }

  private settleOnce(failures: SharedRateLimiter, keys: string[]): LoginReservation {
    let settled = false;
    const settle = (refund: boolean) => {
      if (settled) return;
      settled = true;
      failures.release(keys, refund);
    };
    return { succeeded: () => settle(true), failed: () => settle(false) };
  }
}
