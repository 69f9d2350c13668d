import { DECISIONS } from '../core/decisions.ts';
import { nativeCrypto } from '../core/pkey/native.ts';

/**
 * Gives the memory glibc's malloc holds free back to the system, every TRIM_EVERY_MS, for the
 * whole process (every event loop's isolate, OpenSSL, SQLite and libuv allocate from the same
 * arenas). Why: V8 compiles the hot request path while load ramps up (both loops' isolates, on
 * its helper threads), in memory it takes from malloc and frees again; glibc hands a freed block
 * back only when it is at the top of its arena, so ~25–30 MiB of those freed blocks stayed
 * resident for the life of the process (one trim 10 s into the load: 164 → 134 MiB; after a
 * minute of encrypt-data load, 179–208 MiB before, 178–182 with the trims:
 * docs/start-and-memory.md). malloc_trim(0) returns the free pages in the middle of the arenas
 * too. A trim costs 0.2–2 ms on the main thread (other threads wait for an arena's lock
 * meanwhile), once every TRIM_EVERY_MS.
 *
 * The call is glibc's, through the kmsd-crypto addon (native/kmsd-crypto.c: Node offers no way
 * to it). Where the addon does not load (no C compiler at install, `--native-crypto none`, an
 * older build without trimMemory) or the C library is not glibc, nothing is trimmed: kmsd serves
 * the same, with that memory resident.
 */
export const TRIM_EVERY_MS = DECISIONS.memory.trimEveryMs;

let trims = 0;

/** Trims made so far by this thread (kmsd_memory_trims_total of a single-loop process). */
export function mallocTrims(): number {
  return trims;
}

/**
 * One trim now; false when none can be made here (no addon, no glibc). `counter` (Int32 slot 0
 * of a view the process's loops share): counted there too, for every loop's metrics to read.
 */
export function trimMalloc(counter: Int32Array | null = null): boolean {
  const trim = nativeCrypto()?.trimMemory;
  if (typeof trim !== 'function') return false;
  trim();
  trims++;
  if (counter) Atomics.add(counter, 0, 1);
  return true;
}

/**
 * Trims every `every` ms until stopped, starting one period after the call (the addon loads
 * then, never during the start). Stops by itself where no trim can be made. The timer never
 * keeps the process alive. One per process: the main thread's (src/server.ts).
 */
export function trimMallocPeriodically(counter: Int32Array | null = null, every: number = TRIM_EVERY_MS): { stop(): void } {
  const timer = setInterval(() => {
    if (!trimMalloc(counter)) clearInterval(timer);
  }, every);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
