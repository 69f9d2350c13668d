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
// Not a top-level await: the single executable runs this module as a CommonJS bundle. A
// failed start is still the thread's uncaught error (cluster.ts's 'error' event).
void startServer(config, { shared }).then((server) => {
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
});
