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
/** A reserved login: settle it once, with the outcome of the password check. */
export interface LoginReservation {
  /** The password was right: the reservation costs nothing. */
  succeeded(): void;
  /** The password was wrong (or the user may not log in): the reservation is the failure. */
  failed(): void;
}

export class LoginGuard {
  private readonly failures: Limiter | null;
  /** Seconds until a refused user or address has one more try: one token's refill time. */
  readonly retryAfterSeconds: number;
  /** Reservations in flight in this event loop, by bucket, and the logins waiting for one of them to settle. */
  private readonly inFlight = new Map<string, number>();
  private readonly waiters = new Map<string, Array<() => void>>();
  /** Whether other event loops charge the same buckets (their checks in flight are not seen here). */
  private readonly shared: boolean;

  constructor(perMinute: number, clock: Clock, shared?: SharedArrayBuffer | null) {
    this.retryAfterSeconds = perMinute > 0 ? Math.ceil(60 / perMinute) : 1;
    // A user or address that finds the shared table too crowded to be counted is refused rather
    // than let through uncounted: guessing must never go unlimited.
    this.failures = perMinute > 0 ? limiter(perMinute / 60, clock, shared, perMinute, DECISIONS.crowdedLoginTable) : null;
    this.shared = Boolean(shared);
  }

  /**
   * Reserves one failure's worth for this user (a resolved user id, or the request's spelling
   * of a name no user has) and this address, or null (answer 429, check no password) when
   * either budget is spent. A budget spent only by logins still being checked in this event
   * loop is waited for: their right passwords give it back (so many right logins at once all
   * get through, a few at a time), their wrong ones keep it. With several event loops, whose
   * checks in flight this loop cannot see, a spent budget is looked at again a few times over
   * a quarter of a second (about the time of a few password checks) before the answer is 429.
   */
  async reserve(user: string, source: string): Promise<LoginReservation | null> {
    const failures = this.failures;
    if (!failures) return { succeeded: () => undefined, failed: () => undefined };
    const keys = [`user:${user}`, `source:${source}`];
    let retries = this.shared ? 5 : 0;
    for (;;) {
      if (failures.take(keys[1])) {
        if (failures.take(keys[0])) return this.track(keys);
        failures.refund(keys[1]);
      }
      const pending = keys.filter((k) => (this.inFlight.get(k) ?? 0) > 0);
      if (pending.length === 0) {
        if (retries-- <= 0) return null;
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      await new Promise<void>((resolve) => {
        for (const k of pending) this.waiters.set(k, [...(this.waiters.get(k) ?? []), resolve]);
      });
    }
  }

  private track(keys: string[]): LoginReservation {
    for (const k of keys) this.inFlight.set(k, (this.inFlight.get(k) ?? 0) + 1);
    let settled = false;
    const settle = (refund: boolean) => {
      if (settled) return;
      settled = true;
      for (const k of keys) {
        if (refund) this.failures?.refund(k);
        const left = (this.inFlight.get(k) ?? 1) - 1;
        if (left === 0) this.inFlight.delete(k);
        else this.inFlight.set(k, left);
        const waiting = this.waiters.get(k);
        this.waiters.delete(k);
        for (const wake of waiting ?? []) wake();
      }
    };
    return { succeeded: () => settle(true), failed: () => settle(false) };
  }
}
