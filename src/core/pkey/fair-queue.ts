/**
 * A bounded queue in front of a few slots of slow asynchronous work (the `openssl` command-line
 * fallback, pkeyutl.ts), fair between callers: each caller (an account) has its own line, and
 * a free slot goes to the line whose account has the fewest items running (in turn among equals,
 * one item each), so one account's burst waits behind itself, not in front of everyone. Bounds: `slots` items run at once; at most `perOwner` wait per caller and
 * `total` in all (more is refused at once: QueueFull); an item whose signal fires while it waits
 * (the client went away, or its time ran out) leaves the line and never runs.
 */

export class QueueFull extends Error {
  constructor() {
    super('the queue is full');
  }
}

export interface FairQueueLimits {
  slots: number;
  perOwner: number;
  total: number;
}

/** Whose work it is (an account id) and what cancels it while it waits. */
export interface WorkFor {
  owner: string;
  signal?: AbortSignal;
}

interface Item {
  owner: string;
  start: () => void;
}

export class FairQueue {
  readonly #limits: FairQueueLimits;
  /** Waiting items per owner; the Map's order is the turn order (an owner served goes to the back). */
  readonly #lines = new Map<string, Item[]>();
  /** Items running per owner. */
  readonly #busy = new Map<string, number>();
  #waiting = 0;
  #running = 0;
  #dropped = 0;

  constructor(limits: FairQueueLimits) {
    this.#limits = limits;
  }

  /** Items waiting (for the tests and metrics). */
  get waiting(): number {
    return this.#waiting;
  }

  get running(): number {
    return this.#running;
  }

  /** Items of `owner` waiting. */
  waitingFor(owner: string): number {
    return this.#lines.get(owner)?.length ?? 0;
  }

  /** Items that left the line unrun because their signal fired, since the start. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Runs `work` when a slot is free and it is `owner`'s turn; refused or dropped: rejects. */
  run<T>(owner: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#running < this.#limits.slots && this.#waiting === 0) return this.#execute(owner, work);
    const line = this.#lines.get(owner) ?? [];
    if (line.length >= this.#limits.perOwner || this.#waiting >= this.#limits.total) return Promise.reject(new QueueFull());
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        if (!this.#remove(item)) return;
        this.#dropped++;
        reject(signal?.reason);
      };
      const item: Item = {
        owner,
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          this.#execute(owner, work).then(resolve, reject);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      line.push(item);
      this.#lines.set(owner, line);
      this.#waiting++;
    });
  }

  async #execute<T>(owner: string, work: () => Promise<T>): Promise<T> {
    this.#running++;
    this.#busy.set(owner, (this.#busy.get(owner) ?? 0) + 1);
    try {
      return await work();
    } finally {
      this.#running--;
      const busy = (this.#busy.get(owner) as number) - 1;
      if (busy === 0) this.#busy.delete(owner);
      else this.#busy.set(owner, busy);
      this.#next();
    }
  }

  /**
   * Starts the first item of the line whose owner has the fewest items running (the earliest in
   * turn among equals); that line then goes to the back of the turn.
   */
  #next(): void {
    while (this.#running < this.#limits.slots && this.#lines.size > 0) {
      let owner = '';
      let line: Item[] = [];
      let fewest = Infinity;
      for (const [candidate, items] of this.#lines) {
        const busy = this.#busy.get(candidate) ?? 0;
        if (busy < fewest) [owner, line, fewest] = [candidate, items, busy];
        if (busy === 0) break;
      }
      const item = line.shift() as Item;
      this.#waiting--;
      this.#lines.delete(owner);
      if (line.length > 0) this.#lines.set(owner, line);
      item.start();
    }
  }

  #remove(item: Item): boolean {
    const line = this.#lines.get(item.owner);
    const at = line?.indexOf(item) ?? -1;
    if (!line || at < 0) return false;
    line.splice(at, 1);
    this.#waiting--;
    if (line.length === 0) this.#lines.delete(item.owner);
    return true;
  }
}

/** Runs `fn` in `work.owner`'s turn; gives up (rejects) after waiting `waitMs`, or when `work.signal` fires. */
export function runFor<T>(queue: FairQueue, work: WorkFor, waitMs: number, fn: () => Promise<T>): Promise<T> {
  const waited = AbortSignal.timeout(waitMs);
  return queue.run(work.owner, fn, work.signal ? AbortSignal.any([work.signal, waited]) : waited);
}
