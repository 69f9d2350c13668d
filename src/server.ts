import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { createRequire } from 'node:module';
import type PinoPretty from 'pino-pretty';
import { listeningUrl } from './api/public-url.ts';
import type { Config } from './config.ts';
import { deleteDueKeys } from './core/keys.ts';
import { rotateDueKeys } from './core/rotation.ts';
import { expireImportedMaterial } from './core/import.ts';
import { DECISIONS } from './core/decisions.ts';
import { systemClock, type Clock } from './core/runtime.ts';
import type { RootKey } from './core/sealing.ts';
import { devIdentities } from './dev-account.ts';
import { applyIdentities, IdentitiesError, parseIdentities, type IdentitiesSpec } from './identities.ts';
import { checkRootKey, loadRootKey, StartError } from './root-key.ts';
import { applySeed, checkSeedNames, parseSeed, SeedError, seedsAnything, type SeedSpec } from './seed.ts';
import { checkStart, describePostgres, listenFailure, needsDataDir } from './start-checks.ts';
import { limiter } from './core/rate-limit.ts';
import { LoginGuard } from './auth/login-guard.ts';
import { FairGate, generationsPerLoop } from './core/fair-gate.ts';
import { DataDirLocked, lockDataDir, type DataDirLock } from './store/data-dir-lock.ts';
import { RefusalRecorder } from './api/audit.ts';
import { createMetrics, type MetricsLink } from './api/metrics.ts';
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
  /** The identities applied at start (the file's, or the development account's). */
  identities: IdentitiesSpec;
  /** Logs through the server's logger (nothing when it has none). */
  logger: Logger | false;
  /** Runs the housekeeping now (it also runs every maintenanceMs). */
  maintain(): Promise<void>;
  /**
   * Reads the identities file again and applies it (SIGHUP): all of it or, when the file is
   * unreadable or wrong, nothing (the error says why; the identities in force stay).
   */
  reloadIdentities(): Promise<void>;
  /**
   * Stops: no new connections, requests in flight get config.shutdownGrace ms to finish, then
   * every connection still open is closed; then the store. Logs each step (`reason` first).
   */
  close(reason?: string): Promise<void>;
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
 * alone checks the start, applies the identities and seeds and runs the housekeeping; every
 * worker listens on the same port (SO_REUSEPORT: the kernel spreads connections), writes
 * through the same lock, counts the rate limit, the failed logins and the audit records of
 * unknown callers in the same buckets (one budget per node), and answers a metrics scrape
 * with the totals of every loop.
 */
export interface SharedState {
  worker: number;
  writeLock: SharedArrayBuffer;
  rateBuckets: SharedArrayBuffer | null;
  /** LoginGuard's buckets (null when --login-failures 0). */
  loginBuckets: SharedArrayBuffer | null;
  /** RefusalRecorder's buckets and counts (null when --audit-refusal-rate 0). */
  refusalBuckets: SharedArrayBuffer | null;
  metrics: MetricsLink;
}

/**
 * The log: JSON lines, or (--log-format pretty, the default on a terminal) pino-pretty's
 * human-readable lines, written synchronously so that nothing is lost at exit.
 */
export function createLogger(config: Config, worker?: number, isTerminal = process.stdout.isTTY === true): Logger {
  // Secrets never reach the log: no header is logged, and these paths are censored if a
  // future log line carries them.
  const options = {
    level: config.logLevel,
    // Which worker thread wrote the line (--workers): a base binding rather than a child
    // logger, since Fastify makes a child of it for every request.
    ...(worker !== undefined && { base: { pid: process.pid, hostname: hostname(), worker } }),
    redact: ['req.headers.authorization', 'req.headers["x-auth-token"]', 'res.headers["x-subject-token"]', '*.password', '*.sk', '*.plain_text'],
  };
  const format = config.logFormat === 'auto' ? (isTerminal ? 'pretty' : 'json') : config.logFormat;
  if (format === 'json') return pino(options);
  // Loaded only when used: a JSON log (the default off a terminal) does not pay for it at start.
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
  return pino(options, pretty({ sync: true, colorize: isTerminal, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
}

/**
 * Reads a JSON file the start depends on (identities, seed) and checks it with `parse`; every
 * failure is one StartError naming the file and, for a wrong entry, the entry.
 */
function readSpecFile<T>(path: string, what: 'identities' | 'seed', parse: (input: unknown) => T, Invalid: new (...args: never[]) => Error): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new StartError(`cannot read the ${what} file ${path}: ${(error as Error).message}`);
  }
  try {
    return parse(JSON.parse(text));
  } catch (error) {
    const reason = error instanceof Invalid ? error.message : `not valid JSON (${(error as Error).message})`;
    throw new StartError(`${what} file ${path}: ${reason}`);
  }
}

const readSeed = (path: string): SeedSpec => readSpecFile(path, 'seed', parseSeed, SeedError);

/** The keys and grants an identities file declares beside its accounts, if any. */
function seedOfIdentities(path: string): SeedSpec | null {
  const input: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!seedsAnything(input)) return null;
  try {
    return parseSeed(input);
  } catch (error) {
    if (error instanceof SeedError) throw new StartError(`identities file ${path}: ${error.message}`);
    throw error;
  }
}

const readIdentities = (path: string): IdentitiesSpec => readSpecFile(path, 'identities', parseIdentities, IdentitiesError);

/**
 * Housekeeping that runs on every node: expired key deletions, due rotations, expired
 * tokens. Each is idempotent under the key lock, so nodes may run it at the same time.
 */
async function maintain(store: Store, rootKey: RootKey, clock: Clock): Promise<void> {
  const now = clock.now();
  await store.write(async (tx) => {
    await deleteDueKeys(tx, now);
    await rotateDueKeys(tx, rootKey, now);
    await expireImportedMaterial(tx, now);
    await tx.deleteExpiredTokens(now);
  });
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const shared = options.shared;
  const given = options.logger;
  const logger = given === undefined ? createLogger(config, shared?.worker) : given && shared ? given.child({ worker: shared.worker }) : given;
  const primary = !shared || shared.worker === 0;
  const say = (message: string) => (logger ? logger.warn(message) : undefined);
  // Everything is read and checked before anything is written (start-checks.ts).
  const spec = config.identities !== null ? readIdentities(config.identities) : null;
  const seeds = [
    ...(config.identities !== null ? [seedOfIdentities(config.identities)] : []),
    ...(config.seed !== null ? [readSeed(config.seed)] : []),
  ].filter((s): s is SeedSpec => s !== null);
  // The development account is always "dev" with its administrator "admin" (dev-account.ts).
  const declared: IdentitiesSpec = spec ?? { accounts: [{ name: 'dev', users: [{ name: 'admin' }] }] };
  try {
    for (const seed of seeds) checkSeedNames(seed, declared);
  } catch (error) {
    if (error instanceof SeedError) throw new StartError(`seed: ${error.message}`);
    throw error;
  }
  // The main thread checked the start (the port too) before any worker thread starts.
  if (primary) await checkStart(config);
  // A root key that exists is read (and checked) before anything is written; only a new one is written.
  const keyGiven = config.rootKey !== null || existsSync(config.rootKeyFile ?? join(config.dataDir, 'root.key')) || config.rootKeyFile !== null;
  const existingKey = keyGiven ? loadRootKey(config, say) : null;
  if (needsDataDir(config)) mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  // The process holds its data directory from here to close(): a second serve, a reset or an
  // offline command that writes refuses while it runs (worker threads run under the main thread's lock).
  const dirLock = primary && needsDataDir(config) ? takeDataDir(config.dataDir, 'serve') : null;
  let rootKey: RootKey;
  let store: Store;
  try {
    rootKey = existingKey ?? loadRootKey(config, say);
    store = await openStore(config, shared ? { writeLock: new SharedLock(shared.writeLock) } : {}).catch((error: Error) => {
      const where = config.store === 'sqlite' ? `the SQLite store in ${config.dataDir}` : `the PostgreSQL store at ${describePostgres(config.store)}`;
      throw new StartError(`cannot open ${where}: ${error.message}`);
    });
  } catch (error) {
    dirLock?.release();
    throw error;
  }
  try {
    await checkRootKey(store, rootKey);
    const dev = spec === null ? devIdentities(config.dataDir) : null;
    // The development account is one identities file like any other.
    const identitiesFile = config.identities ?? (dev as { path: string }).path;
    // Seeds are applied at start only: a reload (SIGHUP) is about who exists, and must not bring
    // back a seeded grant that was retired since.
    const apply = async (current: IdentitiesSpec, withSeeds: readonly SeedSpec[]): Promise<void> => {
      try {
        await applyIdentities(store, current, config.region, rootKey, clock.now(), dev !== null && DECISIONS.devPasswordMatchRemembered);
        for (const seed of withSeeds) await applySeed(store, seed, current, config.region, rootKey, clock.now());
      } catch (error) {
        if (error instanceof IdentitiesError) throw new StartError(`identities: ${error.message}`);
        if (error instanceof SeedError) throw new StartError(`seed: ${error.message}`);
        throw error;
      }
    };
    const identities = spec ?? (dev as { spec: IdentitiesSpec }).spec;
    // Applying the identities checks every declared password against its stored scrypt hash
    // (~40 ms a user, on libuv's pool: scrypt stays the only check of a password, nothing
    // faster is kept). The app is built on this thread meanwhile; nothing listens until the
    // identities are in force.
    const applied = primary ? apply(identities, seeds).then(() => maintain(store, rootKey, clock)) : Promise.resolve();
    applied.catch(() => undefined); // awaited below, once the app is built
    // One turn of the event loop: the store's write transaction starts (its drain is already
    // queued) and runs until it waits for scrypt on the pool. The HTTP edge (Fastify and the
    // routes, about a third of a start) is loaded and built meanwhile.
    await new Promise((resolve) => setImmediate(resolve));
    const { buildApp } = await import('./api/app.ts');
    // The node's budgets: over the buckets every event loop shares when there are several.
    const rateLimiter = config.rateLimit > 0 ? limiter(config.rateLimit, clock, shared?.rateBuckets) : null;
    const auditFailed = (err: unknown) => logger && logger.error({ err }, 'audit record failed');
    const logins = new LoginGuard(config.loginFailures, clock, shared?.loginBuckets);
    const refusals = new RefusalRecorder(store, clock, config.auditRefusalRate, auditFailed, shared?.refusalBuckets);
    const metrics = config.metrics ? createMetrics(store, shared?.metrics) : null;
    // libuv's pool is shared by every loop of the process and sized for it (sizeThreadPool, at the
    // start of kmsd serve): every loop's generations together leave two threads to password checks.
    const generation = new FairGate(generationsPerLoop(config.workers), 1);
    const app = await buildApp({ config, store, clock, rootKey, logger, rateLimiter, logins, refusals, metrics, generation });
    const discard = async () => {
      metrics?.close();
      await app.close();
    };
    try {
      await applied;
    } catch (error) {
      await discard();
      throw error;
    }
    try {
      await app.listen({ host: config.host, port: config.port, ...(shared && { reusePort: true }) });
    } catch (error) {
      await discard();
      throw listenFailure(config.host, config.port, error as NodeJS.ErrnoException);
    }
    const timer = setInterval(() => {
      maintain(store, rootKey, clock).catch((error) => logger && logger.error({ err: error }, 'maintenance failed'));
    }, options.maintenanceMs ?? 30_000);
    timer.unref();
    // The housekeeping runs once per process (per node): on the main thread.
    if (!primary) clearInterval(timer);
    return {
      url: listeningUrl(app.server.address(), config.host, config.port),
      app,
      store,
      rootKey,
      devIdentities: dev,
      identities,
      logger,
      maintain: () => maintain(store, rootKey, clock),
      reloadIdentities: async () => apply(readIdentities(identitiesFile), []),
      async close(reason?: string) {
        clearInterval(timer);
        const log = logger || null;
        const open = await new Promise<number>((resolve) => app.server.getConnections((_e, n) => resolve(n ?? 0)));
        log?.info(`${reason ? `${reason}: ` : ''}shutting down; ${open} connection(s) open, requests in flight get up to ${config.shutdownGrace} ms to finish`);
        const closing = app.close();
        const grace = setTimeout(() => {
          app.server.getConnections((_e, n) => {
            log?.warn(`shutdown grace period of ${config.shutdownGrace} ms is over: closing ${n ?? 0} connection(s) still open`);
            app.server.closeAllConnections();
          });
        }, config.shutdownGrace);
        try {
          await closing;
        } finally {
          clearTimeout(grace);
          metrics?.close();
          await store.close();
          dirLock?.release();
        }
        log?.info('kmsd stopped');
      },
    };
  } catch (error) {
    await store.close();
    dirLock?.release();
    throw error;
  }
}

/** The data directory's lock (store/data-dir-lock.ts), or the one-line refusal a start gives (exit 2). */
function takeDataDir(dir: string, what: string): DataDirLock {
  try {
    return lockDataDir(dir, what);
  } catch (error) {
    if (error instanceof DataDirLocked) throw new StartError(error.message);
    throw error;
  }
}
