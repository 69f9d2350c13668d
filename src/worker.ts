import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from './config.ts';
import type { WorkerAnswer, WorkerRequest } from './cluster.ts';
import { startServer, type SharedState } from './server.ts';

/**
 * A worker thread of `kmsd serve --workers N` (src/cluster.ts): one more event loop serving
 * the same port, store and root key as the main thread. It answers "ready" once it listens,
 * and on "stop" finishes the requests in flight, closes its store and ends.
 */
const { config, shared } = workerData as { config: Config; shared: SharedState };
const port = parentPort as NonNullable<typeof parentPort>;
const server = await startServer(config, { shared });
port.on('message', (message: 'stop' | (WorkerRequest & { id: number })) => {
  if (typeof message === 'object') {
    // A new certificate and key (SIGHUP), read and checked by the main thread.
    if (message.kind === 'tls') server.useTls(message);
    port.postMessage({ kind: 'done', id: message.id } satisfies WorkerAnswer);
    return;
  }
  if (message !== 'stop') return;
  server.close().then(
    () => port.close(),
    (error: unknown) => {
      throw error;
    },
  );
});
port.postMessage('ready');
