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
import { deleteDueSecrets } from './core/secrets/secrets.ts';
import { rotateDueKeys } from './core/rotation.ts';
import { expireImportedMaterial } from './core/import.ts';
import { DECISIONS } from './core/decisions.ts';
import { systemClock, type Clock } from './core/runtime.ts';
import { CANARY_CONTEXT, RootKey } from './core/sealing.ts';
import { ShareCollector } from './seal/collector.ts';
import { SealGate, type Unsealer } from './seal/gate.ts';
import { SEAL_SETTING, type SealSpec } from './seal/spec.ts';
import { DEV_USERS, devIdentities, type DevIdentities } from './dev-account.ts';
import { applyIdentities, checkPasswords, IdentitiesError, KEEP_STORED_PASSWORDS, parseIdentities, type PasswordsChecked, type AddedUser, type IdentitiesSpec, type PasswordPlan } from './identities.ts';
import { endedByStop, IdentitiesChain } from './identities-chain.ts';
import { PasswordGate } from './auth/password-gate.ts';
import { checkRootKey, loadRootKey, StartError } from './root-key.ts';
import { applySeed, checkSeedNames, parseSeed, SeedError, seedsAnything, type SeedSpec } from './seed.ts';
import { checkStart, describePostgres, listenFailure, needsDataDir } from './start-checks.ts';
import { limiter } from './core/rate-limit.ts';
import { LoginGuard } from './auth/login-guard.ts';
import { FairGate, generationsPerLoop } from './core/fair-gate.ts';
import { DataDirLocked, lockDataDir, type DataDirLock } from './store/data-dir-lock.ts';
import { RefusalRecorder } from './api/audit.ts';
import { createMetrics, type MetricsLink } from './api/metrics.ts';
import { freeMemoryWhenQuiet } from './memory/malloc-trim.ts';
import { openStore } from './store/open.ts';
import { failureFields } from './store/unavailable.ts';
import type { Server as TlsServer } from 'node:tls';
import { checkTlsPair, readTlsPair, secureOptions, TlsError, validityWarning, type TlsPair } from './tls/certificate.ts';
import { selfSignedPair } from './tls/self-signed.ts';
import { AuditLogFile } from './audit/log-file.ts';
import { SharedLock } from './store/shared-lock.ts';
import type { Store } from './store/store.ts';
import { offerNativeCrypto, refuseNativeCrypto } from './core/pkey/native.ts';

export interface RunningServer {
  /** Where it listens: https:// when it serves TLS. */
  url: string;
  /** The certificate and key it serves (null: plain HTTP), and why a self-signed one was just made. */
  tls: TlsPair | null;
  tlsMade: string | null;
  /** The seal of a node started on a sealed store (null: the root key came from its file or the environment). */
  seal: SealGate | null;
  /** Where this node's shares are collected: the main thread's collector (null when not sealed). */
  unsealer: Unsealer | null;
  /** Settles once the node serves: at once when not sealed, else once unsealed (rejected when the start failed then). */
  unsealed: Promise<void>;
  /** A worker thread: the root key the main thread reconstructed; the loop serves from now on. */
  unsealWith(key: Buffer): void;
  app: FastifyInstance;
  store: Store;
  rootKey: RootKey;
  /** The development account's file, when kmsd started without --identities. */
  devIdentities: DevIdentities | null;
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
  /** Re-reads the identities file (SIGHUP); answers the users it added. */
  reloadIdentities(): Promise<AddedUser[]>;
  /**
   * Settles once every identities apply asked for so far has ended (the start's passwords, put
   * in force after it listens, and every reload): what password logins wait for.
   */
  identitiesSettled(): Promise<void>;
  /**
   * The first step of a stop, on every loop of the process at once: the password check under
   * way stops (nothing of it written) and every password login waiting on the gate, on any
   * loop, is answered 503 now. close() does it too; the cluster calls it before it stops its
   * worker threads, whose waiting logins would otherwise hold their stop for the grace period.
   * Resolves once the apply under way has ended.
   */
  stopIdentities(): Promise<void>;
  /**
   * Reads the certificate and key files again and serves them to new connections (SIGHUP);
   * a pair that is unreadable or does not belong together changes nothing (TlsError says why).
   * Null when the server does not serve TLS.
   */
  reloadTls(): Promise<TlsPair | null>;
  /** Serves an already checked pair to new connections (a worker thread, told by the main thread). */
  useTls(pair: Pick<TlsPair, 'cert' | 'key'>): void;
  /**
   * Stops: no new connections, requests in flight get config.shutdownGrace ms to finish, then
   * every connection still open is closed; then the store. Logs each step (`reason` first).
   */
  close(reason?: string): Promise<void>;
}

export interface StartOptions {
  /** A worker thread: whether the store is sealed, as the main thread found at start. */
  sealed?: boolean;
  /** A worker thread of a sealed node: where its shares go (the main thread). */
  unsealer?: Unsealer;
  /** The main thread of several event loops: gives the reconstructed root key to every worker thread. */
  spreadRootKey?: (key: Buffer) => Promise<void>;
  clock?: Clock;
  logger?: Logger | false;
  /** Housekeeping period (expired deletions, tokens); tests shorten it. */
  maintenanceMs?: number;
  /** Set when this server is one of several event loops of one process (src/cluster.ts). */
  shared?: SharedState;
  /**
   * A worker thread: the certificate and key the main thread serves now (read at its start or
   * its last reload), served instead of the files, which may have changed since or be mid-rotation.
   */
  tls?: { cert: string; key: string };
  /** Key generations at once on this loop (FairGate), read at each one; by default generationsPerLoop(--workers). */
  generationsAtOnce?: () => number;
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
  /** Whether the process's standard output is a terminal: a worker thread's own never is, and every loop must log alike. */
  stdoutIsTerminal: boolean;
  /** The PasswordGate every loop's password logins wait on (the main thread moves it). */
  passwordGate: SharedArrayBuffer;
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

/** A store sealed with kmsd seal init must not be started with a root key from a file or the environment. */
async function refuseSealedStore(store: Store): Promise<void> {
  if ((await store.read((tx) => tx.getSetting(SEAL_SETTING))) === null) return;
  throw new StartError('this store is sealed (kmsd seal init): it takes no root key file or KMSD_ROOT_KEY; start it without one and unseal it with its shares (kmsd unseal)');
}

/** The main thread's unsealer: a ShareCollector checking reconstructed keys against the store's canary. */
async function localUnsealer(store: Store, seal: SealSpec, clock: Clock, unsealNode: (key: Buffer) => Promise<void>): Promise<Unsealer> {
  const canary = await store.read((tx) => tx.getSetting(CANARY_CONTEXT));
  if (canary === null) throw new StartError('this sealed store has no root key check value: it was not made by kmsd seal init');
  const collector = new ShareCollector(seal, Buffer.from(canary, 'base64'), clock);
  return {
    status: async () => collector.status(),
    submit: (share, source) => collector.submit(share, source, unsealNode),
  };
}

/** The pair given with --tls-cert/--tls-key, or one StartError saying why it cannot be served. */
function tlsPairAtStart(certPath: string, keyPath: string): TlsPair {
  try {
    return readTlsPair(certPath, keyPath);
  } catch (error) {
    if (error instanceof TlsError) throw new StartError(error.message);
    throw error;
  }
}

/**
 * Housekeeping that runs on every node: expired key and secret deletions, due rotations,
 * expired tokens. Each is idempotent under the key lock, so nodes may run it at the same time.
 */
async function maintain(store: Store, rootKey: RootKey, clock: Clock): Promise<void> {
  const now = clock.now();
  await store.write(async (tx) => {
    await deleteDueKeys(tx, now);
    await deleteDueSecrets(tx, now);
    await rotateDueKeys(tx, rootKey, now);
    await expireImportedMaterial(tx, now);
    await tx.deleteExpiredTokens(now);
  });
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const shared = options.shared;
  const given = options.logger;
  const logger = given === undefined ? createLogger(config, shared?.worker, shared?.stdoutIsTerminal ?? process.stdout.isTTY === true) : given && shared ? given.child({ worker: shared.worker }) : given;
  const primary = !shared || shared.worker === 0;
  const say = (message: string) => (logger ? logger.warn(message) : undefined);
  // Everything is read and checked before anything is written (start-checks.ts).
  const spec = config.identities !== null ? readIdentities(config.identities) : null;
  const seeds = [
    ...(config.identities !== null ? [seedOfIdentities(config.identities)] : []),
    ...(config.seed !== null ? [readSeed(config.seed)] : []),
  ].filter((s): s is SeedSpec => s !== null);
  // The development account is always "dev" with its users admin and app (dev-account.ts).
  const declared: IdentitiesSpec = spec ?? { accounts: [{ name: 'dev', users: DEV_USERS.map((u) => ({ name: u.name })) }] };
  try {
    for (const seed of seeds) checkSeedNames(seed, declared);
  } catch (error) {
    if (error instanceof SeedError) throw new StartError(`seed: ${error.message}`);
    throw error;
  }
  // A certificate and key given are read and checked before anything is written.
  const givenTls = config.tlsCert === null ? null
    : options.tls ? checkTlsPair(options.tls.cert, options.tls.key, config.tlsCert, config.tlsKey as string)
    : tlsPairAtStart(config.tlsCert, config.tlsKey as string);
  // The main thread checked the start (the port too) before any worker thread starts; it
  // learnt whether the store is sealed (kmsd seal init), and tells the workers.
  const sealSpec = primary ? await checkStart(config) : null;
  const seal = primary ? sealSpec !== null : options.sealed === true;
  // An addon the operator (or a single executable) names is loaded now, on every event loop: one
  // that does not load is a failed start, never a silent fallback. The package's own loads at first use.
  if (config.nativeCrypto === 'none') refuseNativeCrypto();
  else if (config.nativeCrypto !== null) {
    try {
      offerNativeCrypto(config.nativeCrypto);
    } catch (error) {
      throw new StartError(`--native-crypto: ${(error as Error).message}`);
    }
  }
  // A root key that exists is read (and checked) before anything is written; only a new one is
  // written. A sealed store has none: its key arrives in shares (src/seal/).
  const keyGiven = config.rootKey !== null || existsSync(config.rootKeyFile ?? join(config.dataDir, 'root.key')) || config.rootKeyFile !== null;
  const existingKey = keyGiven ? loadRootKey(config, say) : null;
  if (needsDataDir(config)) mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  // The process holds its data directory from here to close(): a second serve, a reset or an
  // offline command that writes refuses while it runs (worker threads run under the main thread's lock).
  const dirLock = primary && needsDataDir(config) ? takeDataDir(config.dataDir, 'serve') : null;
  let rootKey: RootKey;
  let selfSigned: Awaited<ReturnType<typeof selfSignedPair>> | null;
  let tls: TlsPair | null;
  let store: Store;
  let auditLog: AuditLogFile | null = null;
  try {
    rootKey = seal ? RootKey.awaited() : (existingKey ?? loadRootKey(config, say));
    selfSigned = givenTls === null && config.tlsSelfSigned ? await selfSignedPair(config.dataDir, config.host, clock.now()) : null;
    tls = givenTls ?? selfSigned?.pair ?? null;
    const expiry = tls && validityWarning(tls, clock.now());
    if (expiry && primary) say(expiry);
    auditLog = openAuditLog(config, logger);
    // A unit of work that the database does not finish in time is answered 503 within the request's deadline.
    store = await openStore(config, {
      serving: rootKey,
      deadlineMs: config.requestTimeout,
      ...(primary && { onNotice: say }),
      ...(shared ? { writeLock: new SharedLock(shared.writeLock) } : {}),
      ...(auditLog ? { onAudit: auditLog.append } : {}),
    }).catch((error: Error) => {
      const where = config.store === 'sqlite' ? `the SQLite store in ${config.dataDir}` : `the PostgreSQL store at ${describePostgres(config.store)}`;
      throw new StartError(`cannot open ${where}: ${error.message}`);
    });
  } catch (error) {
    auditLog?.close();
    dirLock?.release();
    throw error;
  }
  try {
    if (!seal) await refuseSealedStore(store);
    if (!seal) await checkRootKey(store, rootKey);
    const dev = spec === null ? devIdentities(config.dataDir) : null;
    // The development account is one identities file like any other.
    const identitiesFile = config.identities ?? (dev as { path: string }).path;
    // Seeds are applied at start only: a reload (SIGHUP) is about who exists, and must not bring
    // back a seeded grant that was retired since.
    const apply = async (current: IdentitiesSpec, withSeeds: readonly SeedSpec[], passwords: PasswordPlan): Promise<AddedUser[]> => {
      try {
        const added = await applyIdentities(store, current, config.region, rootKey, clock.now(), dev !== null && DECISIONS.devPasswordMatchRemembered, passwords);
        for (const seed of withSeeds) await applySeed(store, seed, current, config.region, rootKey, clock.now(), passwords === KEEP_STORED_PASSWORDS);
        return added;
      } catch (error) {
        if (error instanceof IdentitiesError) throw new StartError(`identities: ${error.message}`);
        if (error instanceof SeedError) throw new StartError(`seed: ${error.message}`);
        throw error;
      }
    };
    const identities = spec ?? (dev as { spec: IdentitiesSpec }).spec;
    // Whether a declared file's password is the user's stored one takes scrypt (~40 ms a user;
    // nothing faster that could confirm a password is ever stored). So a start with a declared
    // file applies everything of it but its passwords before it listens, and the passwords
    // after, on the chain every reload runs on; until they are in force, every password login
    // of this process waits (DECISIONS.declaredPasswordsAfterListen). So does the development
    // account when this start generated a user of it (a fresh data directory: each new password
    // is hashed, ~45 ms). A sealed node (its start ends when unsealed) and the development
    // account of a data directory that served before (a match is remembered: no scrypt) apply
    // the file whole before they serve.
    const passwordsAfter = primary && !seal && (dev === null || dev.generated);
    // The passwords of a file are checked before its transaction, once per file read: an apply
    // tried again (the store away) reuses them, and its transaction checks again only a user
    // whose stored hash moved since. The development account's remembered matches spare their
    // passwords the scrypt (DECISIONS.devPasswordMatchRemembered).
    const checkedFiles = new WeakMap<IdentitiesSpec, PasswordsChecked>();
    const checked = async (current: IdentitiesSpec, signal?: AbortSignal): Promise<PasswordsChecked> => {
      const known = checkedFiles.get(current);
      if (known) return known;
      const fresh = await checkPasswords(store, current, signal, dev !== null && DECISIONS.devPasswordMatchRemembered ? rootKey : null);
      checkedFiles.set(current, fresh);
      return fresh;
    };
    const applyWhole = async (current: IdentitiesSpec, signal?: AbortSignal) => apply(current, [], await checked(current, signal));
    // A file applied whole at the start (a sealed node's; the development account's) has its
    // passwords checked before its transaction too, two at a time on libuv's pool (one after
    // the other in it, a sealed start with 5 declared users waited ~5 × 45 ms).
    const finishStart = async () => {
      if (primary) await apply(identities, seeds, passwordsAfter ? KEEP_STORED_PASSWORDS : await checked(identities)).then(() => maintain(store, rootKey, clock));
    };
    // Sealed: the rest of the start runs once the root key is in (unsealNode below).
    const applied = seal ? Promise.resolve() : finishStart();
    applied.catch(() => undefined); // awaited below, once the app is built
    // One turn of the event loop: the store's write transaction starts (its drain is already
    // queued) and runs until it waits for scrypt on the pool. The HTTP edge (Fastify and the
    // routes, about a third of a start) is loaded and built meanwhile.
    await new Promise((resolve) => setImmediate(resolve));
    const { buildApp } = await import('./api/app.ts');
    // The node's budgets: over the buckets every event loop shares when there are several.
    const rateLimiter = config.rateLimit > 0 ? limiter(config.rateLimit, clock, shared?.rateBuckets) : null;
    // A store outage by its reason and stage (failureFields), as every other log site says it.
    const auditFailed = (err: unknown) => logger && logger.error(failureFields(err), 'audit record failed');
    const logins = new LoginGuard(config.loginFailures, clock, shared?.loginBuckets);
    const refusals = new RefusalRecorder(store, clock, config.auditRefusalRate, auditFailed, shared?.refusalBuckets);
    const metrics = config.metrics ? createMetrics(store, shared?.metrics) : null;
    // A sealed node listens with its gate closed; the main thread collects the shares.
    const unsealed = Promise.withResolvers<void>();
    unsealed.promise.catch(() => undefined);
    const unsealNode = async (key: Buffer) => {
      try {
        rootKey.install(key);
        await finishStart();
        await options.spreadRootKey?.(key);
        gate?.open();
        startHousekeeping();
        unsealed.resolve();
      } catch (error) {
        unsealed.reject(error);
        throw error;
      }
    };
    const unsealer = sealSpec ? await localUnsealer(store, sealSpec, clock, unsealNode) : seal ? (options.unsealer ?? null) : null;
    if (seal && !unsealer) throw new Error('a worker thread of a sealed node needs the main thread\'s unsealer');
    const gate = unsealer ? new SealGate(unsealer) : null;
    if (!seal) unsealed.resolve();
    // libuv's pool is shared by every loop of the process and sized for it (sizeThreadPool, at the
    // start of kmsd serve): every loop's generations together leave two threads to password checks.
    const generation = new FairGate(options.generationsAtOnce ?? generationsPerLoop(config.workers), 1);
    // One gate for every loop of the process; only the main thread applies files and moves it.
    const declaredPasswords = new PasswordGate(shared?.passwordGate ?? undefined);
    const chain = primary ? new IdentitiesChain(applyWhole, declaredPasswords, logger, !passwordsAfter, DECISIONS.declaredPasswordsAfterListen.retryMs) : null;
    const app = await buildApp({ config, store, clock, rootKey, logger, rateLimiter, logins, refusals, metrics, tls, seal: gate, generation, declaredPasswords });
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
    // The housekeeping runs once per process (per node): on the main thread, once the root key is in.
    let timer: NodeJS.Timeout | undefined;
    function startHousekeeping(): void {
      if (!primary) return;
      timer = setInterval(() => {
        maintain(store, rootKey, clock).catch((error) => logger && logger.error(failureFields(error), 'maintenance failed'));
      }, options.maintenanceMs ?? 30_000);
      timer.unref();
    }
    if (!seal) startHousekeeping();
    let identitiesStopping: Promise<void> | null = null;
    if (passwordsAfter && chain) {
      chain.enqueue(identities).catch((error: unknown) => {
        if (!logger) return;
        // A stop (Ctrl-C soon after the start) ends the check on purpose: nothing to warn of, and
        // the file is applied at the next start. (stopIdentities sets identitiesStopping in the
        // turn that aborts, before this can run.) Any other error of the try under way is warned of.
        if (identitiesStopping !== null && endedByStop(error)) {
          logger.debug('the start\'s identities file was not put in force: kmsd is stopping (it is at the next start)');
        } else {
          logger.warn(failureFields(error), 'the start\'s identities file is not the one in force: a later one replaced it, or kmsd stopped while it was being applied');
        }
      });
    }
    const stopIdentities = (): Promise<void> => (identitiesStopping ??= chain?.stop() ?? Promise.resolve());
    // Memory goes back to the system when a load is over: every loop compacts its own heap, and
    // the main thread trims malloc for the process (src/memory/malloc-trim.ts). Counted where
    // every loop's metrics read it (src/cluster.ts).
    const counter = (slot: number) => (shared && shared.metrics.loops.byteLength >= 4 * (slot + 1) ? new Int32Array(shared.metrics.loops, 4 * slot, 1) : null);
    const trimmer = freeMemoryWhenQuiet({
      trim: primary, trims: counter(2), compactions: counter(3),
      onTrim: (ms) => logger && logger.debug(`freed malloc memory given back to the system (${ms.toFixed(1)} ms)`),
      onCompact: (ms) => logger && logger.debug(`heap of this event loop compacted (${ms.toFixed(1)} ms)`),
    });
    let served = tls;
    const useTls = (pair: Pick<TlsPair, 'cert' | 'key'>) => (app.server as unknown as TlsServer).setSecureContext(secureOptions(pair));
    return {
      url: listeningUrl(app.server.address(), config.host, config.port, tls !== null),
      tls,
      tlsMade: selfSigned?.made ?? null,
      seal: gate,
      unsealer,
      unsealed: unsealed.promise,
      unsealWith(key: Buffer) {
        rootKey.install(key);
        gate?.open();
        unsealed.resolve();
      },
      app,
      store,
      rootKey,
      devIdentities: dev,
      identities,
      logger,
      maintain: () => maintain(store, rootKey, clock),
      identitiesSettled: async () => chain?.settled(),
      stopIdentities,
      reloadIdentities: async () => {
        const current = readIdentities(identitiesFile);
        return chain ? chain.enqueue(current) : applyWhole(current);
      },
      async reloadTls() {
        if (served === null) return null;
        const pair = readTlsPair(served.certPath, served.keyPath);
        useTls(pair);
        served = pair;
        return pair;
      },
      useTls,
      async close(reason?: string) {
        clearInterval(timer);
        // First of all: the password check under way stops, and every password login waiting on
        // the gate is answered 503 now, rather than hold the shutdown for its grace period.
        const chainStopped = stopIdentities();
        trimmer.stop();
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
          // The apply under way ends (committed whole or not at all) before the store closes.
          await chainStopped;
          metrics?.close();
          await store.close();
          auditLog?.close();
          dirLock?.release();
        }
        log?.info('kmsd stopped');
      },
    };
  } catch (error) {
    await store.close();
    auditLog?.close();
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

/** The --audit-log file, opened (created 0600) before anything is served; a file that cannot be opened stops the start. */
function openAuditLog(config: Config, logger: Logger | false): AuditLogFile | null {
  if (config.auditLog === null) return null;
  const failed = (err: unknown) => logger && logger.error({ err }, `the audit log ${config.auditLog} did not take a record: its request is refused`);
  try {
    return new AuditLogFile(config.auditLog, failed);
  } catch (error) {
    throw new StartError(`cannot open the audit log ${config.auditLog}: ${(error as Error).message}`);
  }
}
