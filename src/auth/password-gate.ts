/**
 * "The declared passwords are in force on this node" (DECISIONS.declaredPasswordsAfterListen):
 * one flag per process, in a SharedArrayBuffer so that every event loop (the main thread and
 * the worker threads, however late they start) reads the same one. The main thread closes it
 * while an identities file is being applied (the start's password checks run after kmsd
 * listens; each SIGHUP) and opens it once the newest file applied is in force. Every password
 * login, whatever user it names (existing or not: the wait tells nothing about who exists),
 * waits until it is open; AK/SK signatures and tokens never do.
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

  close(): void {
    Atomics.store(this.flag, 0, CLOSED);
  }

  open(): void {
    Atomics.store(this.flag, 0, OPEN);
    Atomics.notify(this.flag, 0);
  }

  /**
   * Resolves true once the gate is open, or false when it is still closed after `maxWaitMs`.
   * Every login of this loop waiting at once shares one Atomics.waitAsync.
   */
  async passable(maxWaitMs: number): Promise<boolean> {
    if (this.isOpen) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, maxWaitMs);
    });
    this.waiting++;
    try {
      await Promise.race([this.whenOpen(), timeout]);
    } finally {
      this.waiting--;
      clearTimeout(timer);
    }
    return this.isOpen;
  }

  private whenOpen(): Promise<void> {
    this.opening ??= (async () => {
      try {
        // A wake-up missed (opened and closed again in between) costs one more round, no more.
        while (!this.isOpen && this.waiting > 0) {
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
/** How long one Atomics wait lasts before the flag is read again. */
const RECHECK_MS = 250;
