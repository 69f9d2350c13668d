import { RateLimiter } from '../core/rate-limit.ts';
import type { Clock } from '../core/runtime.ts';
import { CANARY_CONTEXT, RootKey } from '../core/sealing.ts';
import { DECISIONS } from '../core/decisions.ts';
import { combineShares, parseShare } from './shares.ts';
import { shareNumber, type SealSpec } from './spec.ts';

/** What a node says of its seal (GET /_kmsd/seal-status, and with every unseal answer). */
export interface SealStatus {
  sealed: boolean;
  /** Shares needed, and shares made. */
  threshold: number;
  shares: number;
  /** Distinct valid shares given since the node started (or since the last failed attempt). */
  progress: number;
}

/**
 * How an unseal attempt ended. `refused` names why the share did not count (the HTTP answer
 * and the audit record say so; the share itself is never kept in either).
 */
export type UnsealOutcome =
  | { result: 'counted' | 'unsealed' | 'already-unsealed'; status: SealStatus }
  | { result: 'refused'; reason: UnsealRefusal; status: SealStatus }
  | { result: 'throttled'; retryAfterSeconds: number; status: SealStatus };

export type UnsealRefusal = 'malformed' | 'unknown-share' | 'repeated' | 'wrong-key';

export const REFUSAL_TEXT: Record<UnsealRefusal, string> = {
  malformed: 'not a share: a share is 44 characters of base64, as kmsd seal init printed it',
  'unknown-share': 'not one of the shares of this store',
  repeated: 'this share was given already: it counts once',
  'wrong-key': "the shares do not reconstruct this store's root key; the shares given so far were discarded, start again",
};

/**
 * The shares one node has been given, until it has enough (one per process: the main thread
 * collects for every event loop, src/cluster.ts). Shares live only in this object's memory
 * and are wiped once the key is reconstructed or an attempt fails. Attempts are rate limited
 * per source address, and refused ones for the whole node too (DECISIONS.unsealAttempts).
 */
export class ShareCollector {
  readonly #spec: SealSpec;
  readonly #canary: Buffer;
  readonly #given = new Map<number, Buffer>();
  readonly #perSource: RateLimiter;
  readonly #perNode: RateLimiter;
  #unsealed = false;
  /** One attempt at a time: the one that completes the set reconstructs the key before the next is looked at. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(spec: SealSpec, canary: Buffer, clock: Clock) {
    this.#spec = spec;
    this.#canary = canary;
    const { perSourcePerMinute, perNodePerMinute } = DECISIONS.unsealAttempts;
    this.#perSource = new RateLimiter(perSourcePerMinute / 60, clock, perSourcePerMinute);
    this.#perNode = new RateLimiter(perNodePerMinute / 60, clock, perNodePerMinute);
  }

  status(): SealStatus {
    return { sealed: !this.#unsealed, threshold: this.#spec.threshold, shares: this.#spec.shares, progress: this.#unsealed ? 0 : this.#given.size };
  }

  /**
   * Takes one share (text as the operator sent it). With the threshold reached, reconstructs
   * the key, checks it against the store's canary and hands it to `unseal` (which installs
   * it everywhere); the answer waits for that.
   */
  submit(text: unknown, source: string, unseal: (key: Buffer) => Promise<void>): Promise<UnsealOutcome> {
    const next = this.#queue.then(() => this.#take(text, source, unseal));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #take(text: unknown, source: string, unseal: (key: Buffer) => Promise<void>): Promise<UnsealOutcome> {
    // The limits come first: an unsealed node answers within them too (and writes nothing).
    if (!this.#perSource.take(source)) return this.#throttled();
    if (this.#unsealed) return { result: 'already-unsealed', status: this.status() };
    const share = parseShare(text);
    if (share === null) return this.#refuse('malformed');
    const number = shareNumber(this.#spec, share);
    if (number < 0) return this.#refuse('unknown-share');
    if (this.#given.has(number)) return this.#refuse('repeated');
    this.#given.set(number, share);
    if (this.#given.size < this.#spec.threshold) return { result: 'counted', status: this.status() };
    const key = await combineShares([...this.#given.values()]);
    this.#forget();
    try {
      new RootKey(key).open(this.#canary, CANARY_CONTEXT);
    } catch {
      key.fill(0);
      return this.#refuse('wrong-key');
    }
    try {
      await unseal(key);
    } finally {
      key.fill(0);
    }
    this.#unsealed = true;
    return { result: 'unsealed', status: this.status() };
  }

  /**
   * A refused attempt is charged to the node's budget too (a share that counts is not: refusals
   * from many addresses cannot lock a keeper out); with that budget spent it is throttled.
   */
  #refuse(reason: UnsealRefusal): UnsealOutcome {
    if (!this.#perNode.take('node')) return this.#throttled();
    return { result: 'refused', reason, status: this.status() };
  }

  #throttled(): UnsealOutcome {
    return { result: 'throttled', retryAfterSeconds: 60, status: this.status() };
  }

  #forget(): void {
    for (const share of this.#given.values()) share.fill(0);
    this.#given.clear();
  }
}
