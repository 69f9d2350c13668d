import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from './config.ts';
import type { WorkerAnswer, WorkerAsks, WorkerRequest } from './cluster.ts';
import type { Unsealer } from './seal/gate.ts';
import { startServer, type SharedState } from './server.ts';

/**
 * A worker thread of `kmsd serve --workers N` (src/cluster.ts): one more event loop serving
 * the same port, store and root key as the main thread. It answers "ready" once it listens,
 * and on "stop" finishes the requests in flight, closes its store and ends.
 */
const { config, shared, sealed, tls } = workerData as { config: Config; shared: SharedState; sealed: boolean; tls: { cert: string; key: string } | null };
const port = parentPort as NonNullable<typeof parentPort>;
// A sealed node: the shares this loop is given go to the main thread, which collects them.
// An answer that does not come (a message lost to a messageerror) fails the ask after
// ASK_TIMEOUT_MS rather than keeping the request open for ever.
const ASK_TIMEOUT_MS = 30_000;
const asked = new Map<number, { resolve: (value: never) => void; reject: (error: Error) => void }>();
let lastId = 0;
const ask = <T>(message: { kind: 'seal-status' } | { kind: 'unseal'; share: string | undefined; source: string }): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const id = ++lastId;
    const timer = setTimeout(() => {
      asked.delete(id);
      reject(new Error('the main thread did not answer'));
    }, ASK_TIMEOUT_MS);
    timer.unref();
    const settle = <A extends unknown[]>(f: (...args: A) => void) => (...args: A) => {
      clearTimeout(timer);
      f(...args);
    };
    asked.set(id, { resolve: settle(resolve as (value: never) => void), reject: settle(reject) });
    try {
      port.postMessage({ ...message, id } satisfies WorkerAsks);
    } catch (error) {
      asked.get(id)?.reject(error as Error);
      asked.delete(id);
    }
  });
// An answer that cannot be read is dropped; its ask times out.
port.on('messageerror', () => undefined);
const unsealer: Unsealer = {
  status: () => ask({ kind: 'seal-status' }),
  submit: (share, source) => ask({ kind: 'unseal', share, source }),
};
// Not a top-level await: the single executable runs this module as a CommonJS bundle. A
// failed start is still the thread's uncaught error (cluster.ts's 'error' event).
void startServer(config, { shared, sealed, unsealer, ...(tls && { tls }) }).then((server) => {
  port.on('message', (message: 'stop' | (WorkerRequest & { id: number })) => {
    if (typeof message === 'object' && (message as { kind: string }).kind === 'answer') {
      const { id, value, error } = message as unknown as { id: number; value: never; error?: string };
      const waiting = asked.get(id);
      asked.delete(id);
      if (error === undefined) waiting?.resolve(value);
      else waiting?.reject(new Error(error));
      return;
    }
    if (typeof message === 'object') {
      // A new certificate and key (SIGHUP), read and checked by the main thread.
      if (message.kind === 'tls') server.useTls(message);
      // The root key the main thread reconstructed from the shares: this loop serves from now on.
      if (message.kind === 'root-key') {
        const key = Buffer.from(message.key);
        server.unsealWith(key);
        key.fill(0);
        message.key.fill(0);
      }
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
});
