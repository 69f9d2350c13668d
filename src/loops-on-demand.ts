import { DECISIONS } from './core/decisions.ts';
import { loopLoadSampler } from './memory/loop-load.ts';

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
  // Its own heap compactions (src/memory/compact-heap.ts) are no load: not counted.
  const load = loopLoadSampler();
  const timer = setInterval(() => {
    if (load() >= percent) {
      clearInterval(timer);
      start();
    }
  }, SAMPLE_MS);
  // The sampling never keeps the process alive on its own.
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
