import { performance } from 'node:perf_hooks';
import { compactionPauseMs } from './compact-heap.ts';

/**
 * A sampler of this thread's event loop: each call answers the percentage of the time since the
 * previous call (or since it was made) that the loop spent working, not counting kmsd's own heap
 * compactions (compact-heap.ts). A compaction is a pause of a loop that was quiet, not load: counted
 * as work, one of 100+ ms (a busy machine) in a 250 ms sample made an idle node start every other
 * loop (loops-on-demand.ts), which then never stop, and would re-arm the next compaction.
 */
export function loopLoadSampler(): () => number {
  let last = performance.eventLoopUtilization();
  let paused = compactionPauseMs();
  return () => {
    const now = performance.eventLoopUtilization();
    const { active, idle } = performance.eventLoopUtilization(now, last);
    const pausedNow = compactionPauseMs();
    // The pause is out of the sample altogether: 55 ms of work around a 140 ms pause in 250 ms is 50 %.
    const pause = Math.min(active, pausedNow - paused);
    const span = active + idle - pause;
    last = now;
    paused = pausedNow;
    return span > 0 ? ((active - pause) / span) * 100 : 0;
  };
}
