import { performance } from 'node:perf_hooks';
import { DECISIONS } from './core/decisions.ts';

/**
 * The extra event loops of `--workers N` start when load needs them
 * (DECISIONS.loopsStartOnLoad): each is a V8 isolate of its own (~24 MiB resident), which a
 * quiet node does not need. The main thread's event-loop utilization (the share of time it was
 * busy rather than waiting for I/O) is sampled every SAMPLE_MS; the first sample at or above
 * `percent` starts every other loop at once (a node busy enough to want one more loop soon
 * wants all of them, and one start is one pause). They then serve until the process stops.
 */
export const SAMPLE_MS = DECISIONS.loopsStartOnLoad.sampleMs;

export function startOnLoad(percent: number, start: () => void): { stop(): void } {
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    if (busy * 100 >= percent) {
      clearInterval(timer);
      start();
    }
  }, SAMPLE_MS);
  // The sampling never keeps the process alive on its own.
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
