/**
 * Work that holds a shared, scarce resource for long — key generation, which runs on libuv's
 * thread pool (an RSA_4096 key takes about a second of one of its threads) — let through a
 * few at a time, and fairly: at most `total` pieces at once in this event loop, at most
 * `perCaller` of them one caller's; waiting callers take turns (round robin), each caller's own
 * work in the order it came. So one caller with many generations in flight neither starves
 * another caller's generation nor fills the pool that password checks (scrypt) also need.
 *
 * Nothing is refused: a caller's extra work waits for its turn (its requests' time limits
 * bound the wait; the per-caller request rate bounds how much can arrive).
 */
export type Bounded = <T>(work: () => Promise<T>) => Promise<T>;

/** Runs the work at once: for callers with nothing to share (system work, tests of the core). */
export const unbounded: Bounded = (work) => work();

/** Threads of libuv's pool kept for password checks (scrypt) whatever generations run. */
export const POOL_KEPT_FOR_LOGINS = 2;

/**
 * Generations at once per event loop: two with one loop, one with several. libuv's pool is the
 * process's, shared by every loop: with N loops it is sized N + 2 (sizeThreadPool), so the
 * generations of all loops together still leave two threads to password checks.
 */
export function generationsPerLoop(loops: number): number {
  return loops > 1 ? 1 : 2;
}

/**
 * Sizes libuv's pool for `loops` event loops — every loop's generations plus two threads for
 * password checks (4, libuv's default, with one loop) — unless UV_THREADPOOL_SIZE is set
 * already (the operator's choice wins). libuv reads it once, when the pool first starts: call
 * this before anything of the process uses the pool (kmsd serve does, first thing).
 */
export function sizeThreadPool(loops: number, env: Record<string, string | undefined>): void {
  if (env.UV_THREADPOOL_SIZE !== undefined) return;
  env.UV_THREADPOOL_SIZE = String(Math.max(4, loops * generationsPerLoop(loops) + POOL_KEPT_FOR_LOGINS));
}

export class FairGate {
  private readonly totalNow: () => number;
  private readonly perCallerAsked: number;
  private running = 0;
  private readonly active = new Map<string, number>();
  /** Waiting work by caller; the map's order is the turn order. */
  private readonly waiting = new Map<string, Array<() => void>>();

  /** `total` may be a function, read at each piece of work: the main thread's share of libuv's pool grows and shrinks with the loops serving. */
  constructor(total: number | (() => number), perCaller: number) {
    this.totalNow = typeof total === 'number' ? () => total : total;
    this.perCallerAsked = perCaller;
  }

  private get total(): number {
    return Math.max(1, this.totalNow());
  }

  private get perCaller(): number {
    return Math.max(1, Math.min(this.perCallerAsked, this.total));
  }

  /** The gate as one caller sees it. */
  for(caller: string): Bounded {
    return (work) => this.run(caller, work);
  }

  async run<T>(caller: string, work: () => Promise<T>): Promise<T> {
    if (this.running < this.total && (this.active.get(caller) ?? 0) < this.perCaller && !this.waiting.has(caller)) this.start(caller);
    else await new Promise<void>((resolve) => this.enqueue(caller, resolve));
    try {
      return await work();
    } finally {
      this.finish(caller);
    }
  }

  /** Pieces of work running and waiting now (for tests and metrics). */
  get load(): { running: number; waiting: number } {
    let waiting = 0;
    for (const queue of this.waiting.values()) waiting += queue.length;
    return { running: this.running, waiting };
  }

  private enqueue(caller: string, resume: () => void): void {
    const queue = this.waiting.get(caller);
    if (queue) queue.push(resume);
    else this.waiting.set(caller, [resume]);
  }

  private start(caller: string): void {
    this.running++;
    this.active.set(caller, (this.active.get(caller) ?? 0) + 1);
  }

  private finish(caller: string): void {
    this.running--;
    const left = (this.active.get(caller) ?? 1) - 1;
    if (left === 0) this.active.delete(caller);
    else this.active.set(caller, left);
    // The caller just had its turn: its waiting work goes behind every other caller's.
    const queue = this.waiting.get(caller);
    if (queue) {
      this.waiting.delete(caller);
      this.waiting.set(caller, queue);
    }
    this.dispatch();
  }

  private dispatch(): void {
    while (this.running < this.total) {
      let next: string | null = null;
      for (const caller of this.waiting.keys()) {
        if ((this.active.get(caller) ?? 0) < this.perCaller) {
          next = caller;
          break;
        }
      }
      if (next === null) return;
      const queue = this.waiting.get(next) as Array<() => void>;
      const resume = queue.shift() as () => void;
      // The caller goes to the back of the turn order (if it still waits).
      this.waiting.delete(next);
      if (queue.length > 0) this.waiting.set(next, queue);
      this.start(next);
      resume();
    }
  }
}
