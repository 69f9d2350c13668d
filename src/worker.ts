import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from './config.ts';
import { startServer, type SharedState } from './server.ts';

/**
 * A worker thread of `kmsd serve --workers N` (src/cluster.ts): one more event loop serving
 * the same port, store and root key as the main thread. It answers "ready" once it listens,
 * and on "stop" finishes the requests in flight, closes its store and ends.
 */
const { config, shared } = workerData as { config: Config; shared: SharedState };
const port = parentPort as NonNullable<typeof parentPort>;
const server = await startServer(config, { shared });
port.on('message', (message) => {
  if (message !== 'stop') return;
  server.close().then(
    () => port.close(),
    (error: unknown) => {
      throw error;
    },
  );
});
port.postMessage('ready');
