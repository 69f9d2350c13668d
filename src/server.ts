import { mkdirSync, readFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { buildApp } from './api/app.ts';
import type { Config } from './config.ts';
import { deleteDueKeys } from './core/keys.ts';
import { rotateDueKeys } from './core/rotation.ts';
import { systemClock, type Clock } from './core/runtime.ts';
import type { RootKey } from './core/sealing.ts';
import { devIdentities } from './dev-account.ts';
import { applyIdentities, IdentitiesError, parseIdentities, type IdentitiesSpec } from './identities.ts';
import { checkRootKey, loadRootKey, StartError } from './root-key.ts';
import { SharedRateLimiter } from './api/rate-limit.ts';
import { openStore } from './store/open.ts';
import { SharedLock } from './store/shared-lock.ts';
import type { Store } from './store/store.ts';

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  store: Store;
  rootKey: RootKey;
  /** The development account's file, when kmsd started without --identities. */
  devIdentities: { spec: IdentitiesSpec; path: string } | null;
  /** Runs the housekeeping now (it also runs every maintenanceMs). */
  maintain(): Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  logger?: Logger | false;
  /** Housekeeping period (expired deletions, tokens); tests shorten it. */
  maintenanceMs?: number;
  /** Set when this server is one of several event loops of one process (src/cluster.ts). */
  shared?: SharedState;
}

/**
 * What the worker threads of one process share. Worker 0 (the main thread) starts first and
 * alone applies the identities and runs the housekeeping; every worker listens on the same
 * port (SO_REUSEPORT: the kernel spreads connections), writes through the same lock and
 * counts the rate limit in the same buckets.
 */
export interface SharedState {
  worker: number;
  writeLock: SharedArrayBuffer;
  rateBuckets: SharedArrayBuffer | null;
}

export function createLogger(config: Config, worker?: number): Logger {
  // Secrets never reach the log: no header is logged, and these paths are censored if a
  // future log line carries them.
  return pino({
    level: config.logLevel,
    // Which worker thread wrote the line (--workers): a base binding rather than a child
    // logger, since Fastify makes a child of it for every request.
    ...(worker !== undefined && { base: { pid: process.pid, hostname: hostname(), worker } }),
    redact: ['req.headers.authorization', 'req.headers["x-auth-token"]', 'res.headers["x-subject-token"]', '*.password', '*.sk', '*.plain_text'],
  });
}

function readIdentities(path: string): IdentitiesSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new StartError(`cannot read the identities file ${path}: ${(error as Error).message}`);
  }
  try {
    return parseIdentities(JSON.parse(text));
  } catch (error) {
    const reason = error instanceof IdentitiesError ? error.message : `not valid JSON (${(error as Error).message})`;
    throw new StartError(`identities file ${path}: ${reason}`);
  }
}

/**
 * Housekeeping that runs on every node: expired key deletions, due rotations, expired
 * tokens. Each is idempotent under the key lock, so nodes may run it at the same time.
 */
async function maintain(store: Store, rootKey: RootKey, clock: Clock): Promise<void> {
  const now = clock.now();
  await store.write(async (tx) => {
    await deleteDueKeys(tx, now);
    await rotateDueKeys(tx, rootKey, now);
    await tx.deleteExpiredTokens(now);
  });
}

/** Rejects (EADDRINUSE, EACCES, ...) when a plain listener could not take the port. */
function portIsFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const shared = options.shared;
  const given = options.logger;
  const logger = given === undefined ? createLogger(config, shared?.worker) : given && shared ? given.child({ worker: shared.worker }) : given;
  const primary = !shared || shared.worker === 0;
  const say = (message: string) => (logger ? logger.warn(message) : undefined);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const spec = config.identities !== null ? readIdentities(config.identities) : null;
  const rootKey = loadRootKey(config, say);
  const store = await openStore(config, shared ? { writeLock: new SharedLock(shared.writeLock) } : {});
  try {
    await checkRootKey(store, rootKey);
    const dev = spec === null && primary ? devIdentities(config.dataDir) : null;
    try {
      if (primary) await applyIdentities(store, spec ?? (dev as { spec: IdentitiesSpec }).spec, config.region, rootKey, clock.now());
    } catch (error) {
      if (error instanceof IdentitiesError) throw new StartError(`identities: ${error.message}`);
      throw error;
    }
    if (primary) await maintain(store, rootKey, clock);
    const rateLimiter = shared?.rateBuckets ? new SharedRateLimiter(config.rateLimit, clock, shared.rateBuckets) : undefined;
    const app = await buildApp({ config, store, clock, rootKey, logger, ...(rateLimiter && { rateLimiter }) });
    // SO_REUSEPORT would let this kmsd share a port with another one silently: the main thread
    // first makes sure that nothing listens there, as a plain listen would (EADDRINUSE).
    if (shared?.worker === 0 && config.port !== 0) await portIsFree(config.host, config.port);
    await app.listen({ host: config.host, port: config.port, ...(shared && { reusePort: true }) });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const timer = setInterval(() => {
      maintain(store, rootKey, clock).catch((error) => logger && logger.error({ err: error }, 'maintenance failed'));
    }, options.maintenanceMs ?? 30_000);
    timer.unref();
    // The housekeeping runs once per process (per node): on the main thread.
    if (!primary) clearInterval(timer);
    return {
      url: `http://${host}:${port}`,
      app,
      store,
      rootKey,
      devIdentities: dev,
      maintain: () => maintain(store, rootKey, clock),
      async close() {
        clearInterval(timer);
        await app.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
