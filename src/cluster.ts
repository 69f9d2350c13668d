import { Worker } from 'node:worker_threads';
import { siblingEntry } from './package-root.ts';
import { SharedRateLimiter } from './core/rate-limit.ts';
import type { Config } from './config.ts';
import { startServer, type RunningServer, type SharedState } from './server.ts';

// The worker's module sits next to this one: src/worker.ts, or dist/worker.js in the build.
const WORKER = siblingEntry(import.meta.url, './worker.ts', 'worker');

/**
 * `kmsd serve --workers N`: N event loops in one process, the main thread and N-1 worker
 * threads, all listening on one port (SO_REUSEPORT; the kernel spreads connections over them).
 * Threads rather than processes (node:cluster): one process keeps one resident copy of node
 * and the libraries, and threads can share memory, which carries the two things kmsd must
 * count once per node: the SQLite write lock and the rate-limit buckets.
 *
 * The main thread starts first and alone: it checks the root key, brings the schema up to
 * date, applies the identities and runs the housekeeping; then the workers start and the
 * returned server (the main thread's, with a close() that drains every worker) is ready.
 * Every promise holds across workers as across nodes: each worker reads the store itself,
 * and a SQLite read asks data_version first at every request, which moves with every other
 * connection's commit. A worker that fails takes the process down (`onFailure`), as any
 * crash of a single-loop kmsd would: nothing is half-served, and the supervisor restarts it.
 */
export async function startWorkers(config: Config, onFailure: (error: unknown) => void): Promise<RunningServer> {
  const shared: Omit<SharedState, 'worker'> = {
    writeLock: new SharedArrayBuffer(8),
    rateBuckets: config.rateLimit > 0 ? SharedRateLimiter.buffer() : null,
  };
  const main = await startServer(config, { shared: { ...shared, worker: 0 } });
  // Workers listen on the port the main thread got (it may have asked for port 0).
  const workerConfig: Config = { ...config, port: Number(new URL(main.url).port) };
  let stopping = false;
  const threads: Worker[] = [];
  const started = Array.from({ length: config.workers - 1 }, (_, i) => {
    const thread = new Worker(WORKER, { workerData: { config: workerConfig, shared: { ...shared, worker: i + 1 } } });
    threads.push(thread);
    return new Promise<void>((resolve, reject) => {
      thread.once('message', () => resolve());
      thread.once('error', (error) => (stopping ? undefined : reject(error)));
      thread.once('exit', (code) => reject(new Error(`worker ${i + 1} exited with code ${code} while starting`)));
    });
  });
  try {
    await Promise.all(started);
  } catch (error) {
    stopping = true;
    await Promise.all(threads.map((t) => t.terminate()));
    await main.close();
    throw error;
  }
  for (const [i, thread] of threads.entries()) {
    thread.on('error', (error) => onFailure(error));
    thread.on('exit', (code) => {
      if (!stopping) onFailure(new Error(`worker ${i + 1} exited with code ${code}`));
    });
  }
  return {
    ...main,
    async close(reason?: string) {
      stopping = true;
      // Every worker stops accepting and finishes its requests; the main thread last.
      await Promise.all(threads.map((thread) => new Promise<void>((resolve) => {
        thread.once('exit', () => resolve());
        thread.postMessage('stop');
      })));
      await main.close(reason);
    },
  };
}
