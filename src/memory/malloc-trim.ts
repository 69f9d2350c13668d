import { performance } from 'node:perf_hooks';
import { DECISIONS } from '../core/decisions.ts';
import { nativeCrypto } from '../core/pkey/native.ts';
import { compactHeap, heapGrownSinceCompaction } from './compact-heap.ts';
import { loopLoadSampler } from './loop-load.ts';

/**
 * Gives the memory glibc's malloc holds free back to the system once a load is over, for the
 * whole process (every event loop's isolate, OpenSSL, SQLite and libuv allocate from the same
 * arenas). Why: V8 compiles the hot request path while load ramps up (both loops' isolates, on
 * its helper threads), in memory it takes from malloc and frees again; glibc hands a freed block
 * back only when it is at the top of its arena, so ~25–30 MiB of those freed blocks stayed
 * resident for the life of the process. malloc_trim(0) returns the free pages in the middle of
 * the arenas too (docs/start-and-memory.md, "Memory", has the figures).
 *
 * When: only once the node has gone quiet, once per quiet period. A trim walks every arena with
 * its lock held: under encrypt-data load one took 34–157 ms of the main thread (20–54 ms of CPU)
 * while the other loops waited for those locks, and trimming during a steady load buys little
 * (the load takes the memory again). So the main thread's event-loop utilization is sampled
 * every `sampleMs`; after `quietSamples` samples in a row below `quietPercent` each loop compacts
 * its heap and the process trims once, and again only after a sample at or above `busyPercent`
 * (load came back).
 * The first quiet period after the start trims too (what the start compiled).
 *
 * The call is glibc's, through the kmsd-crypto addon (native/kmsd-crypto.c: Node offers no way
 * to it), which defines trimMemory only when built against glibc. Where the addon does not load
 * (no C compiler at install, `--native-crypto none`, the arm64 executable, an older build) or the
 * C library is not glibc, nothing is trimmed or counted: kmsd serves the same, with that memory
 * resident.
 */
export const TRIM_WHEN_QUIET = DECISIONS.memory.trim;
/** A loop's heap is compacted only when it grew this much since its last compaction (DECISIONS.memory). */
const COMPACT_AFTER_GROWTH = DECISIONS.memory.compactAfterGrowthMb * 1024 * 1024;

let trims = 0;

/** Whether this process can trim: the addon loaded, built against glibc. */
export function mallocTrimSupported(): boolean {
  return typeof nativeCrypto()?.trimMemory === 'function';
}

/** Trims made so far by this thread (kmsd_memory_trims_total of a single-loop process). */
export function mallocTrims(): number {
  return trims;
}

/**
 * One trim now; false (and nothing counted) when none can be made here. `counter` (Int32 slot
 * 0 of a view the process's loops share): counted there too, for every loop's metrics to read.
 */
export function trimMalloc(counter: Int32Array | null = null): boolean {
  const trim = nativeCrypto()?.trimMemory;
  if (typeof trim !== 'function') return false;
  trim();
  trims++;
  if (counter) Atomics.add(counter, 0, 1);
  return true;
}

/** When a loop counts as quiet, and as busy again (DECISIONS.memory.trim). */
export type QuietTiming = { sampleMs: number; quietSamples: number; quietPercent: number; busyPercent: number };

export interface FreeMemoryOptions {
  /** The main thread's: it also trims malloc for the whole process (one per process). */
  trim: boolean;
  /** Shared counters (an Int32 slot each, src/cluster.ts) every loop's metrics read; null: this thread's own counts only. */
  trims?: Int32Array | null;
  compactions?: Int32Array | null;
  /** Told how long each trim / compaction held the thread, in ms. */
  onTrim?: (ms: number) => void;
  onCompact?: (ms: number) => void;
  timing?: QuietTiming;
}

/**
 * Once per quiet period of this thread's event loop (see above): first the loop's own V8 heap is
 * compacted (compact-heap.ts: every loop, each its own isolate), when it grew by
 * DECISIONS.memory.compactAfterGrowthMb since its last compaction (a trickle of requests frees
 * too little to be worth a pause); then, one sample later and still quiet, the main thread trims
 * malloc for the whole process, so what the compactions freed goes back too (the loops go quiet
 * together when the load ends). Re-armed by a sample at or above `busyPercent`; a load that
 * comes back between the two steps starts the period over (a sample merely not quiet between
 * them only puts the trim off). The time a compaction held the loop is not counted as the
 * loop's work (loop-load.ts). The timer never keeps the process alive. `stop()` ends it.
 */
export function freeMemoryWhenQuiet(o: FreeMemoryOptions): { stop(): void } {
  const timing = o.timing ?? TRIM_WHEN_QUIET;
  // Asked at the first trim, not at the start: it loads the addon (~15 ms of a start otherwise).
  let trimSupported: boolean | null = null;
  const trimming = () => (trimSupported ??= o.trim && mallocTrimSupported());
  const load = loopLoadSampler();
  let quiet = 0;
  let armed = true;
  let compacted = false;
  const timer = setInterval(() => {
    const busy = load();
    // Load came back: a new period, from its compaction on.
    if (busy >= timing.busyPercent) {
      armed = true;
      compacted = false;
    }
    quiet = busy < timing.quietPercent ? quiet + 1 : 0;
    if (!armed || quiet < timing.quietSamples) return;
    if (!compacted) {
      if (heapGrownSinceCompaction(COMPACT_AFTER_GROWTH)) {
        const ms = compactHeap();
        if (o.compactions) Atomics.add(o.compactions, 0, 1);
        o.onCompact?.(ms);
      }
      compacted = true;
      if (trimming()) return;
    } else if (trimming()) {
      const began = performance.now();
      trimMalloc(o.trims ?? null);
      o.onTrim?.(performance.now() - began);
    }
    armed = false;
    compacted = false;
  }, timing.sampleMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
