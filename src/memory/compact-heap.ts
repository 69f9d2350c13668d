import { performance } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DECISIONS } from '../core/decisions.ts';

/**
 * One full, memory-reducing garbage collection of this thread's V8 isolate (each event loop is
 * an isolate of its own), made once the loop has gone quiet after a load (src/memory/
 * malloc-trim.ts, freeMemoryWhenQuiet). Why: under load V8 grows the young generation to its
 * bound on every loop and lets the old one grow past what is live; left alone, a quiet node
 * keeps all of it (V8 collects when it allocates, and a quiet node hardly does). The
 * "last-resort" flavor is V8's collection for low memory: it collects until nothing more is
 * freed, compacts, shrinks the young generation and gives the freed pages back. Measured with
 * two loops after 60 s of encrypt-data (docs/start-and-memory.md, "Memory"): 157 MiB once quiet
 * with the trim alone, 136 with a regular full collection, 108–111 with this one; it holds the
 * loop 40–120 ms, once per quiet period, when the loop has been < 10 % busy for 2 s.
 *
 * Node offers no call for it but V8's `gc` function, which V8 puts only in contexts made while
 * --expose-gc is set: the flag is set for the one context made here and unset again, about a
 * millisecond once per loop (V8's flags are the process's: a context another thread made in that
 * millisecond would get a `gc` too; kmsd makes none while serving).
 */
let collect: ((options: { type: 'major'; execution: 'sync'; flavor: typeof DECISIONS.memory.compaction }) => void) | null = null;
let compactions = 0;
let pausedMs = 0;
/** The heap's size right after this thread's last compaction (null: none yet). */
let heapAfterLast: number | null = null;

/** Collects now; answers how long it held the thread, in ms. */
export function compactHeap(): number {
  if (collect === null) {
    setFlagsFromString('--expose-gc');
    try {
      collect = runInNewContext('gc') as typeof collect;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  const began = performance.now();
  collect!({ type: 'major', execution: 'sync', flavor: DECISIONS.memory.compaction });
  const ms = performance.now() - began;
  compactions++;
  pausedMs += ms;
  heapAfterLast = getHeapStatistics().total_heap_size;
  return ms;
}

/** The time this thread's compactions held it, in all, ms: what loop-load.ts leaves out of the loop's load. */
export function compactionPauseMs(): number {
  return pausedMs;
}

/**
 * Whether the heap grew by `bytes` or more since this thread's last compaction (always, before
 * the first): a quiet period after a load that grew nothing (a trickle of requests) frees too
 * little to be worth a pause.
 */
export function heapGrownSinceCompaction(bytes: number): boolean {
  return heapAfterLast === null || getHeapStatistics().total_heap_size - heapAfterLast >= bytes;
}

/** Compactions made so far by this thread (kmsd_memory_compactions_total of a single-loop process). */
export function heapCompactions(): number {
  return compactions;
}
