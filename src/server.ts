import { mkdirSync, readFileSync, statSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { buildApp } from './api/app.ts';
import { listeningUrl } from './api/public-url.ts';
import type { Config } from './config.ts';
import { deleteDueKeys } from './core/keys.ts';
import { rotateDueKeys } from './core/rotation.ts';
import { expireImportedMaterial } from './core/import.ts';
import { systemClock, type Clock } from './core/runtime.ts';
import type { RootKey } from './core/sealing.ts';
import { devIdentities } from './dev-account.ts';
import { applyIdentities, IdentitiesError, parseIdentities, type IdentitiesSpec } from './identities.ts';
import { checkRootKey, loadRootKey, StartError } from './root-key.ts';
import { openStore } from './store/open.ts';
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
  /**
   * Reads the identities file again and applies it (SIGHUP): all of it or, when the file is
   * unreadable or wrong, nothing (the error says why; the identities in force stay).
   */
  reloadIdentities(): Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  logger?: Logger | false;
  /** Housekeeping period (expired deletions, tokens); tests shorten it. */
  maintenanceMs?: number;
}

export function createLogger(config: Config): Logger {
  // Secrets never reach the log: no header is logged, and these paths are censored if a
  // future log line carries them.
  return pino({
    level: config.logLevel,
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
    await expireImportedMaterial(tx, now);
    await tx.deleteExpiredTokens(now);
  });
}

/**
 * A data directory that other users can write would let them replace the root key, the
 * identities or the database: refuse it before anything is read or written.
 */
function checkDataDir(dataDir: string): void {
  let mode: number;
  try {
    mode = statSync(dataDir).mode;
  } catch {
    return; // created below, mode 0700
  }
  if ((mode & 0o002) !== 0) {
    throw new StartError(`the data directory ${dataDir} can be written by other users (mode ${(mode & 0o7777).toString(8)}); refusing to start: chmod o-w it, or choose another --data-dir`);
  }
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config);
  const say = (message: string) => (logger ? logger.warn(message) : undefined);
  checkDataDir(config.dataDir);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const spec = config.identities !== null ? readIdentities(config.identities) : null;
  const rootKey = loadRootKey(config, say);
  const store = await openStore(config);
  try {
    await checkRootKey(store, rootKey);
    const dev = spec === null ? devIdentities(config.dataDir) : null;
    // The development account is one identities file like any other.
    const identitiesFile = config.identities ?? (dev as { path: string }).path;
    const apply = async (current: IdentitiesSpec): Promise<void> => {
      try {
        await applyIdentities(store, current, config.region, rootKey, clock.now());
      } catch (error) {
        if (error instanceof IdentitiesError) throw new StartError(`identities: ${error.message}`);
        throw error;
      }
    };
    await apply(spec ?? (dev as { spec: IdentitiesSpec }).spec);
    await maintain(store, rootKey, clock);
    const app = await buildApp({ config, store, clock, rootKey, logger });
    await app.listen({ host: config.host, port: config.port });
    const timer = setInterval(() => {
      maintain(store, rootKey, clock).catch((error) => logger && logger.error({ err: error }, 'maintenance failed'));
    }, options.maintenanceMs ?? 30_000);
    timer.unref();
    return {
      url: listeningUrl(app.server.address(), config.host, config.port),
      app,
      store,
      rootKey,
      devIdentities: dev,
      maintain: () => maintain(store, rootKey, clock),
      reloadIdentities: async () => apply(readIdentities(identitiesFile)),
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
