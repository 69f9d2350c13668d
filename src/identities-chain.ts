import type { Logger } from 'pino';
import type { PasswordGate } from './auth/password-gate.ts';
import { failureFields } from './store/unavailable.ts';
import type { AddedUser, IdentitiesSpec } from './identities.ts';

/** An apply ended by stop(): not a failure of the file (it is applied at the next start). */
export class ChainStopped extends Error {
  constructor() {
    super('kmsd is stopping: the identities file was not applied');
  }
}

/** Whether an apply's error is the stop's own doing: its abort, or the chain refusing to start one. */
export const endedByStop = (error: unknown): boolean =>
  error instanceof ChainStopped || (error as { name?: unknown } | null)?.name === 'AbortError';

/**
 * Every application of an identities file on this node, one after the other
 * (DECISIONS.declaredPasswordsAfterListen): the start's password checks, which run after kmsd
 * listens, and each SIGHUP's reload. A reload waits for the apply before it, so an older file
 * never writes after a newer one. While any apply is queued or running the node's PasswordGate
 * is closed (every password login on every loop waits); it opens when the last one ends with a
 * file in force.
 *
 * Until a file's passwords have been in force once since the start, the newest apply does not
 * give up: on any failure (the store away) it logs and tries again every `retryMs`, so password
 * logins keep waiting (then 503, as when the store is away) rather than pass on a password the
 * file replaced. A newer apply supersedes it. From then on a reload that fails changes nothing
 * (its caller reports it) and the passwords in force stay in force.
 */
export class IdentitiesChain {
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;
  /** Applies asked for so far: an apply retrying stops once it is not the newest. */
  private asked = 0;
  private inForce: boolean;
  private stopped = false;
  /** Aborted by stop(): an apply still checking passwords ends without writing. */
  private readonly stopping = new AbortController();
  private wake: (() => void) | null = null;

  /**
   * `apply`: one whole application of a file (its password checks included; `signal` aborted
   * when the node stops); `inForce`: whether
   * the start already applied its file whole (a development account, a sealed node).
   */
  private readonly apply: (spec: IdentitiesSpec, signal: AbortSignal) => Promise<AddedUser[]>;
  private readonly gate: PasswordGate;
  private readonly logger: Logger | false;
  private readonly retryMs: number;

  constructor(apply: (spec: IdentitiesSpec, signal: AbortSignal) => Promise<AddedUser[]>, gate: PasswordGate, logger: Logger | false, inForce: boolean, retryMs = 1000) {
    this.apply = apply;
    this.gate = gate;
    this.logger = logger;
    this.retryMs = retryMs;
    this.inForce = inForce;
    if (!inForce) gate.close();
  }

  /** Applies `spec` once every apply asked before it has ended; answers the users it added. */
  enqueue(spec: IdentitiesSpec): Promise<AddedUser[]> {
    const mine = ++this.asked;
    this.queued++;
    // Once stopping, the gate is not closed again: an open one stays open for the grace period.
    if (!this.stopped) this.gate.close();
    // An apply retrying is superseded by this one: it stops waiting now.
    this.wake?.();
    const run = async (): Promise<AddedUser[]> => {
      try {
        for (;;) {
          if (this.stopped) throw new ChainStopped();
          try {
            const added = await this.apply(spec, this.stopping.signal);
            this.inForce = true;
            return added;
          } catch (error) {
            if (this.inForce || this.stopped || mine !== this.asked) throw error;
            if (this.logger) this.logger.error(failureFields(error), `the identities file's passwords are not in force yet (password logins wait); trying again in ${this.retryMs} ms`);
            await this.pause();
          }
        }
      } finally {
        this.queued--;
        if (this.queued === 0 && this.inForce && !this.stopped) this.gate.open();
      }
    };
    const result = this.tail.then(run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Settles once every apply asked for so far has ended. */
  async settled(): Promise<void> {
    await this.tail;
  }

  /**
   * No more tries; an apply still checking passwords stops before its transaction (a node
   * stopping does not wait for scrypt of every user); every password login waiting on the gate
   * is let go at once with a 503 (PasswordGate.stop); resolves once the apply under way has ended.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.gate.stop();
    this.stopping.abort();
    this.wake?.();
    await this.tail;
  }

  private pause(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, this.retryMs);
      this.wake = done;
    });
  }
}
