/**
 * The store cannot be reached: the database is down, restarting, failing over, refusing
 * connections, or the connection a unit of work ran on died. The edge answers it with the
 * KMS system error of DECISIONS.storeUnavailable (503), never with a refusal of the caller.
 *
 * `stage` says what is known of the unit of work:
 * - 'connect': no connection could be had; nothing ran.
 * - 'work': the connection died before COMMIT was sent; nothing was committed, and the unit of
 *   work may run again on a new connection.
 * - 'commit': the connection died after COMMIT was sent; the unit of work was committed whole or
 *   not at all, and nobody can tell which until the database is asked again.
 */
export class StoreUnavailableError extends Error {
  readonly reason: string;
  readonly stage: 'connect' | 'work' | 'commit';
  /**
   * Worth running the unit of work again at once on a new connection: its connection died
   * before COMMIT (not a statement that timed out: the database would most likely not answer
   * the next one either).
   */
  readonly rerun: boolean;
  /**
   * The connection is still sound (the database cancelled a statement at its timeout): after a
   * ROLLBACK it goes back to the pool instead of being discarded.
   */
  readonly sessionSound: boolean;
  constructor(
    reason: string,
    stage: 'connect' | 'work' | 'commit',
    options: { cause?: unknown; timedOut?: boolean; sessionSound?: boolean } = {},
  ) {
    super(`the store is unavailable: ${reason}`, { cause: options.cause });
    this.reason = reason;
    this.stage = stage;
    this.rerun = stage === 'work' && options.timedOut !== true;
    this.sessionSound = options.sessionSound === true;
  }
}

/** Where the backoff between connection attempts starts, and where it stops growing. */
export const RECONNECT_MIN_MS = 100;
export const RECONNECT_MAX_MS = 1000;

/**
 * Reconnection with backoff. While the store is known to be down, requests are answered at
 * once (StoreUnavailableError with the last reason) instead of each trying to connect; one
 * request at a time, the probe, tries again once the backoff has passed (100 ms, doubling up to
 * 1 s: a database that is back is used again within about a second). The first connection that
 * succeeds ends the outage.
 */
export class Reconnection {
  private down: { reason: string; delay: number; retryAt: number; probing: boolean } | null = null;
  private readonly now: () => number;
  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /**
   * May a connection be attempted now? Throws while the store is down and it is not yet time
   * (or another request is probing); returns true when this attempt is the probe.
   */
  admit(): boolean {
    const down = this.down;
    if (down === null) return false;
    if (down.probing || this.now() < down.retryAt) throw new StoreUnavailableError(down.reason, 'connect');
    down.probing = true;
    return true;
  }

  /** A connection attempt failed; `probe` is what admit() returned for it. */
  failed(probe: boolean, reason: string): void {
    const now = this.now();
    const down = this.down;
    if (down === null) {
      this.down = { reason, delay: RECONNECT_MIN_MS, retryAt: now + RECONNECT_MIN_MS, probing: false };
    } else if (probe) {
      down.delay = Math.min(down.delay * 2, RECONNECT_MAX_MS);
      Object.assign(down, { reason, retryAt: now + down.delay, probing: false });
    }
    // Attempts admitted before the outage was known fail too; they change nothing.
  }

  /**
   * The probe was handed a connection that was already open (pg-pool gives a released one to a
   * request waiting for a full pool) rather than opening one: it proved nothing about new
   * connections, so the next request may probe. Without this the outage stayed "probing"
   * forever: every request that found no idle connection was answered 503, and the pool never
   * grew back while load kept its connections busy.
   */
  probeEnded(probe: boolean): void {
    if (probe && this.down !== null) this.down.probing = false;
  }

  /** A new connection was made, or the database answered on one: the outage is over. */
  succeeded(): void {
    this.down = null;
  }
}

/**
 * What a log line says of a failure: a store outage by its reason and stage (expected while the
 * database is away: no stack, nor the driver's error it wraps), anything else whole.
 */
export const failureFields = (error: unknown): Record<string, unknown> =>
  error instanceof StoreUnavailableError ? { reason: error.reason, stage: error.stage } : { err: error };
