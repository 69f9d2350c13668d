import type { Clock } from '../core/runtime.ts';
import { RateLimiter } from '../core/rate-limit.ts';

/**
 * Failed password logins, counted per user and per source address. Past `perMinute` failures
 * (refilling over a minute) a login for that user, or from that address, is refused with 429
 * before the password is hashed, so a flood of wrong passwords neither guesses on for long nor
 * keeps scrypt busy for everybody else. Successful logins cost nothing. 0 turns it off.
 */
export class LoginGuard {
  private readonly byUser: RateLimiter | null;
  private readonly bySource: RateLimiter | null;
  constructor(perMinute: number, clock: Clock) {
    this.byUser = perMinute > 0 ? new RateLimiter(perMinute / 60, clock, perMinute) : null;
    this.bySource = perMinute > 0 ? new RateLimiter(perMinute / 60, clock, perMinute) : null;
  }

  /** May a login for this user (as named in the request) from this address be tried now? */
  mayTry(user: string, source: string): boolean {
    return (this.byUser?.available(user) ?? true) && (this.bySource?.available(source) ?? true);
  }

  failed(user: string, source: string): void {
    this.byUser?.take(user);
    this.bySource?.take(source);
  }
}
