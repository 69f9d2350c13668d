import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { siblingEntry } from './package-root.ts';
import { ASSETS, assetText, inSingleExecutable } from './single-executable/assets.ts';
import { SharedRateLimiter } from './core/rate-limit.ts';
import type { Config } from './config.ts';
import { startServer, type RunningServer, type SharedState } from './server.ts';
import { startOnLoad } from './loops-on-demand.ts';
import { generationsPerLoop } from './core/fair-gate.ts';
import { PasswordGate } from './auth/password-gate.ts';

// The worker's module sits next to this one: src/worker.ts, or dist/worker.js in the build.
const WORKER = siblingEntry(import.meta.url, './worker.ts', 'worker');

/**
 * A server of several event loops: `joined` settles once every worker thread started has
 * settled its start, with the count of loops serving then (the main thread's included).
 */
export interface RunningWorkers extends RunningServer {
  joined: Promise<number>;
}

/**
 * `kmsd serve --workers N`: N event loops in one process, the main thread and N-1 worker
 * threads, all listening on one port (SO_REUSEPORT; the kernel spreads connections over them).
 * Threads rather than processes (node:cluster): one process keeps one resident copy of node
 * and the libraries, and threads can share memory, which carries what kmsd must count once
 * per node: the SQLite write lock, the rate-limit buckets, the failed logins and the audit
 * bound on unknown callers (SharedRateLimiter), and the loops answer each other's metrics
 * scrapes (src/api/metrics.ts).
 *
 * The main thread starts first and alone: it checks the root key, brings the schema up to
 * date, applies the identities and runs the housekeeping, then listens and answers at once:
 * the start does not wait for the worker threads, which join the port as each has started
 * (`joined`). A worker started with the node (--loop-start-load 0, a sealed node) that fails
 * to start rejects `joined` after the main thread and the other workers have stopped (`kmsd
 * serve` then exits 1, as a failed start). One started later, on load (loops-on-demand.ts),
 * that fails is logged in one line and counted (kmsd_event_loop_start_failures_total): the
 * node serves on with the loops it has. A worker is given the certificate and key the main
 * thread serves (read at its start or last reload), never the files again: files staged for
 * the next reload, or mid-rotation (a new certificate beside the old key), are not what the
 * node serves. Every promise
 * holds across workers as across nodes: each worker reads the store itself, and a SQLite read
 * asks data_version first at every request, which moves with every other connection's commit.
 * A worker that fails later takes the process down (`onFailure`), as any crash of a
 * single-loop kmsd would: nothing is half-served, and the supervisor restarts it.
 */
export async function startWorkers(config: Config, onFailure: (error: unknown) => void): Promise<RunningWorkers> {
  const shared: Omit<SharedState, 'worker'> = {
    writeLock: new SharedArrayBuffer(8),
    rateBuckets: config.rateLimit > 0 ? SharedRateLimiter.buffer() : null,
    loginBuckets: config.loginFailures > 0 ? SharedRateLimiter.buffer() : null,
    refusalBuckets: config.auditRefusalRate > 0 ? SharedRateLimiter.buffer() : null,
    // Int32 [0]: loops serving; [1]: loops started on load that failed to start; [2]: malloc
    // trims of the process; [3]: heap compactions of every loop (src/memory/malloc-trim.ts; all
    // read by src/api/metrics.ts).
    metrics: { channel: `kmsd-metrics-${randomUUID()}`, loops: new SharedArrayBuffer(16) },
    stdoutIsTerminal: process.stdout.isTTY === true,
    passwordGate: PasswordGate.buffer(),
  };
  // A sealed node: the main thread collects the shares every loop is given, and hands the
  // reconstructed root key to every worker thread before the last share's answer leaves.
  let spread: ((key: Buffer) => Promise<void>) | null = null;
  const count = config.workers - 1;
  const threads: Array<Worker | null> = Array(count).fill(null);
  const ready: boolean[] = Array(count).fill(false);
  const alive: boolean[] = Array(count).fill(false);
  // libuv's pool is sized for every loop (sizeThreadPool); the main thread takes the share of
  // key generations of the loops running now: two while it serves alone, as a single loop does.
  const generationsAtOnce = () => generationsPerLoop(1 + alive.filter(Boolean).length);
  const main = await startServer(config, { shared: { ...shared, worker: 0 }, spreadRootKey: (key) => spread?.(key) ?? Promise.resolve(), generationsAtOnce });
  // Workers listen on the port the main thread got (it may have asked for port 0), with the
  // certificate and key it serves now (updated at each reload; a self-signed pair it made too).
  const tlsFiles = main.tls && { tlsCert: main.tls.certPath, tlsKey: main.tls.keyPath, tlsSelfSigned: false };
  let servedTls = main.tls && { cert: main.tls.cert, key: main.tls.key };
  const workerConfig: Config = { ...config, port: Number(new URL(main.url).port), ...tlsFiles };
  let stopping = false;
  const startFailures = new Int32Array(shared.metrics.loops);
  const exitedBy = Array.from({ length: count }, () => Promise.withResolvers<void>());
  const exited = exitedBy.map((e) => e.promise);
  // The worker threads start when load needs them (loops-on-demand.ts), or at once: with
  // --loop-start-load 0, and on a sealed node (a thread that joined later would miss the root key).
  const launch = Promise.withResolvers<'at-start' | 'on-load' | 'never'>();
  const started = Array.from({ length: count }, (_, i) => launch.promise.then((go): Promise<boolean> | boolean => {
    if (go === 'never' || stopping) {
      exitedBy[i].resolve();
      return false;
    }
    const starting = startThread(i);
    if (go === 'at-start') return starting.then(() => true);
    // Started on load, after the node serves: a failure costs this loop only.
    return starting.then(() => true, async (error: Error) => {
      if (alive[i]) await threads[i]?.terminate();
      Atomics.add(startFailures, 1, 1);
      const line = `event loop ${i + 2} of ${config.workers} (worker thread ${i + 1}) failed to start on load; the node serves on with the loops it has: ${error?.message ?? String(error)}`;
      if (main.logger) main.logger.error(line);
      else process.stderr.write(`kmsd: ${line}\n`);
      return false;
    });
  }));
  function startThread(i: number): Promise<void> {
    const workerData = { config: workerConfig, shared: { ...shared, worker: i + 1 }, sealed: main.seal !== null, tls: servedTls };
    // The single executable has no worker file: it carries the worker's bundle as an asset.
    const thread = inSingleExecutable
      ? new Worker(assetText(ASSETS.worker), { eval: true, workerData })
      : new Worker(WORKER, { workerData });
    threads[i] = thread;
    alive[i] = true;
    thread.once('exit', () => {
      alive[i] = false;
      exitedBy[i].resolve();
    });
    // A message from a worker that cannot be read is dropped (its asker times out; src/worker.ts).
    thread.on('messageerror', (error) => {
      if (main.logger) main.logger.warn({ err: error }, `a message from worker ${i + 1} could not be read`);
    });
    thread.on('message', (message: WorkerAnswer | WorkerAsks) => onMessage(thread, message));
    // Until it is serving, a failure of the thread fails the start; from then on it takes the
    // process down at once (onFailure), whether or not the other workers have joined yet.
    return new Promise<void>((resolve, reject) => {
      thread.once('message', () => {
        ready[i] = true;
        resolve();
      });
      thread.on('error', (error) => (ready[i] ? onFailure(error) : reject(error)));
      thread.once('exit', (code) => {
        if (!ready[i]) reject(new Error(`worker ${i + 1} exited with code ${code} while starting`));
        else if (!stopping) onFailure(new Error(`worker ${i + 1} exited with code ${code}`));
      });
    });
  }
  let launchedLoops = false;
  const launched = () => launchedLoops;
  const startLoops = (when: 'at-start' | 'on-load') => {
    launchedLoops = true;
    launch.resolve(when);
  };
  const demand = config.loopStartLoad > 0 && main.seal === null ? startOnLoad(config.loopStartLoad, () => startLoops('on-load')) : null;
  if (!demand) startLoops('at-start');
  // Requests to the worker threads that they answer once done ({kind: 'done', id}).
  const asked = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  let lastId = 0;
  function onMessage(thread: Worker, message: WorkerAnswer | WorkerAsks): void {
    if (typeof message !== 'object' || message === null) return;
    if (message.kind === 'unseal' || message.kind === 'seal-status') {
      answerWorker(thread, message);
      return;
    }
    if (message.kind !== 'done') return;
    const waiting = asked.get(message.id);
    asked.delete(message.id);
    if (message.error === undefined) waiting?.resolve();
    else waiting?.reject(new Error(message.error));
  }
  /** Tells every serving worker thread something, and waits until each has done it. */
  const tell = (message: WorkerRequest): Promise<void> =>
    Promise.all(started.map(async (_, i) => {
      if (!launched()) return;
      await started[i].catch(() => undefined);
      const thread = threads[i];
      if (!thread || !alive[i] || !ready[i]) return;
      const id = ++lastId;
      await new Promise<void>((resolve, reject) => {
        asked.set(id, { resolve, reject });
        thread.postMessage({ ...message, id });
        // A thread that ends meanwhile has nothing left to serve.
        void exited[i].then(() => asked.get(id)?.resolve());
      });
    })).then(() => undefined);
  let closing: Promise<void> | null = null;
  const close = (reason?: string): Promise<void> => {
    // Every worker stops accepting and finishes its requests (one still starting finishes its
    // start first); the main thread last.
    closing ??= (async () => {
      stopping = true;
      demand?.stop();
      launch.resolve('never');
      // First of all, for every loop at once: the password check stops and the password logins
      // waiting on the gate (workers' included) are answered 503, before any loop's grace starts.
      const identitiesStopped = main.stopIdentities();
      await Promise.all(started.map(async (_, i) => {
        await started[i].catch(() => undefined);
        if (alive[i]) threads[i]?.postMessage('stop');
        await exited[i];
      }));
      await identitiesStopped;
      await main.close(reason);
    })();
    return closing;
  };
  const joined = Promise.all(started).then(
    (serving) => 1 + serving.filter(Boolean).length,
    async (error: unknown) => {
      // A worker that did not start: the others and the main thread stop, nothing half-served.
      // Workers already serving stop as at close() (terminate() would cut a thread off inside
      // a shared lock, leaving it held for the threads still running); one still starting is
      // terminated: it has taken no shared lock yet.
      stopping = true;
      demand?.stop();
      closing ??= (async () => {
        const identitiesStopped = main.stopIdentities();
        await Promise.all(threads.map(async (thread, i) => {
          if (!thread || !alive[i]) return;
          if (ready[i]) thread.postMessage('stop');
          else await thread.terminate();
          await exited[i];
        }));
        await identitiesStopped;
        await main.close('a worker thread failed to start');
      })();
      await closing;
      throw error;
    },
  );
  // Whoever awaits `joined` sees the failure; this keeps it from being an unhandled rejection before then.
  joined.catch(() => undefined);
  spread = async (key) => {
    const copy = new Uint8Array(key);
    try {
      await tell({ kind: 'root-key', key: copy });
    } finally {
      copy.fill(0);
    }
  };
  /** A worker thread passes on the shares it is given (and asks for the seal's status): the main thread's collector answers. */
  function answerWorker(thread: Worker, message: WorkerAsks): void {
    const unsealer = main.unsealer;
    if (!unsealer) return;
    const work = message.kind === 'unseal' ? unsealer.submit(message.share, message.source) : unsealer.status();
    work.then(
      (value) => thread.postMessage({ kind: 'answer', id: message.id, value }),
      (error: Error) => thread.postMessage({ kind: 'answer', id: message.id, error: error.message }),
    );
  }
  const reloadTls = async () => {
    // The main thread reads and checks the pair; the workers serve what it read (the files may change again meanwhile).
    const pair = await main.reloadTls();
    // A worker started from now on is given this pair; one starting now is told once it serves.
    if (pair) servedTls = { cert: pair.cert, key: pair.key };
    if (pair) await tell({ kind: 'tls', cert: pair.cert, key: pair.key });
    return pair;
  };
  return { ...main, close, joined, reloadTls };
}

/** What the main thread asks of a worker thread (besides 'stop'); each answers {kind: 'done', id}. */
export type WorkerRequest = { kind: 'tls'; cert: string; key: string } | { kind: 'root-key'; key: Uint8Array };
/** What a worker thread of a sealed node asks the main thread; answered {kind: 'answer', id, value | error}. */
export type WorkerAsks = { kind: 'unseal'; id: number; share: string | undefined; source: string } | { kind: 'seal-status'; id: number };
export type WorkerAnswer = { kind: 'done'; id: number; error?: string };
