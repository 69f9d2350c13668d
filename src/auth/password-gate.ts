import { MAX_WAITING } from './login-guard.ts';

/** Why a password login was not let through the gate (PasswordGate.passable). */
export type GateRefusal = 'timed out' | 'stopping' | 'too many waiting';

/**
 * A password login the gate did not let through: answered with IAM's 503 (as a store outage is,
 * the same body), but logged by its own reason, not as "store unavailable" (src/api/app.ts).
 */
export class PasswordsNotInForceError extends Error {
  readonly reason: GateRefusal;
  constructor(reason: GateRefusal) {
    super(`the identities file's passwords are not in force yet: ${reason}`);
    this.reason = reason;
  }
}

/**
 * "The declared passwords are in force on this node" (DECISIONS.declaredPasswordsAfterListen):
 * one flag per process, in a SharedArrayBuffer so that every event loop (the main thread and
 * the worker threads, however late they start) reads the same one. The main thread closes it
 * while an identities file is being applied (the start's password checks run after kmsd
 * listens; each SIGHUP) and opens it once the newest file applied is in force; a node stopping
 * while it is closed sets it to "stopping" for good, which lets every login waiting go at once
 * with a 503. Every
 * password login, whatever user it names (existing or not: the wait tells nothing about who
 * exists), waits until it is open; AK/SK signatures and tokens never do.
 *
 * Nothing of it is stored: another node, or this node's next start, never waits for it.
 */
export class PasswordGate {
  private readonly flag: Int32Array;
  /** This loop's one wait for the gate to open, shared by every login waiting on it. */
  private opening: Promise<void> | null = null;
  /** Logins of this loop waiting now: the shared wait ends when none is left. */
  private waiting = 0;

  /** `buffer`: the process's (SharedState.passwordGate); a new one for a single loop. */
  constructor(buffer: SharedArrayBuffer = PasswordGate.buffer()) {
    this.flag = new Int32Array(buffer);
  }

  /** Four bytes, open (0). */
  static buffer(): SharedArrayBuffer {
    return new SharedArrayBuffer(4);
  }

  get isOpen(): boolean {
    return Atomics.load(this.flag, 0) === OPEN;
  }

  /** Closes it, unless the node is stopping (then it stays so). */
  close(): void {
    Atomics.compareExchange(this.flag, 0, OPEN, CLOSED);
  }

  /** Opens it, unless the node is stopping (then it stays so). */
  open(): void {
    Atomics.compareExchange(this.flag, 0, CLOSED, OPEN);
    Atomics.notify(this.flag, 0);
  }

  /**
   * The node stops while the gate is closed: every login waiting, and every one to come, is
   * refused at once ('stopping'). An open gate stays open: a login reaching its handler during
   * the grace of a stop is served like any request in flight.
   */
  stop(): void {
    Atomics.compareExchange(this.flag, 0, CLOSED, STOPPING);
    Atomics.notify(this.flag, 0);
  }

  /**
   * Resolves null once the gate is open, or why the login may not pass: still closed after
   * `maxWaitMs`, the node stopping, or MAX_WAITING logins of this loop already waiting (the cap is per event loop) (past
   * which a login is refused at once rather than held: the same bound as LoginGuard's).
   * Every login of this loop waiting at once shares one Atomics.waitAsync.
   */
  async passable(maxWaitMs: number): Promise<GateRefusal | null> {
    const now = Atomics.load(this.flag, 0);
    if (now === OPEN) return null;
    if (now === STOPPING) return 'stopping';
    if (this.waiting >= MAX_WAITING) return 'too many waiting';
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, maxWaitMs);
    });
    this.waiting++;
    try {
      await Promise.race([this.whenMoved(), timeout]);
    } finally {
      this.waiting--;
      clearTimeout(timer);
    }
    const after = Atomics.load(this.flag, 0);
    return after === OPEN ? null : after === STOPPING ? 'stopping' : 'timed out';
  }

  /** Settles once the gate is no longer closed (open, or the node stopping). */
  private whenMoved(): Promise<void> {
    this.opening ??= (async () => {
      try {
        // A wake-up missed (opened and closed again in between) costs one more round, no more.
        while (Atomics.load(this.flag, 0) === CLOSED && this.waiting > 0) {
          const waited = Atomics.waitAsync(this.flag, 0, CLOSED, RECHECK_MS);
          if (waited.async) await waited.value;
        }
      } finally {
        this.opening = null;
      }
    })();
    return this.opening;
  }
}

const OPEN = 0;
const CLOSED = 1;
const STOPPING = 2;
/** How long one Atomics wait lasts before the flag is read again. */
const RECHECK_MS = 250;
