import { accessSync, constants, existsSync, lstatSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { Config } from './config.ts';
import { StartError } from './root-key.ts';
import { readSeal, type SealSpec } from './seal/spec.ts';

/**
 * What a start checks before it writes anything (no data directory, root key, database file
 * or row is created until every check passed). Each failure is one StartError: one line on
 * stderr, exit code 2. The port is checked by binding it for a moment; a start that loses a
 * race for it after these checks still ends with the same one line (see server.ts).
 */
export async function checkStart(config: Config): Promise<SealSpec | null> {
  if (needsDataDir(config)) checkDataDir(config.dataDir);
  if (config.store === 'sqlite') checkDatabaseFiles(join(config.dataDir, 'kmsd.db'));
  checkRootKeyFile(config);
  if (config.endpointFile !== null) checkEndpointFile(config.endpointFile);
  let seal: SealSpec | null = null;
  if (config.store !== 'sqlite') seal = await checkPostgres(config);
  else if (rootKeyWouldBeGenerated(config) && existsSync(join(config.dataDir, 'kmsd.db'))) {
    // No root key, beside a store: a sealed store (kmsd seal init) has none, any other lost it.
    seal = await sealAtStart(config);
    if (seal === null) throw lostRootKey(config, `the store ${join(config.dataDir, 'kmsd.db')}`);
  }
  await checkPort(config.host, config.port);
  return seal;
}

/** The store's seal, read before anything is written; a store this kmsd cannot read is one line. */
async function sealAtStart(config: Config): Promise<SealSpec | null> {
  try {
    return await readSeal(config);
  } catch (error) {
    throw new StartError(`cannot read the seal of the store: ${(error as Error).message}`);
  }
}

/** The data directory is written for a SQLite store, a generated root key, the development account or certificate. */
export function needsDataDir(config: Config): boolean {
  return config.store === 'sqlite' || rootKeyWouldBeGenerated(config) || config.identities === null || config.tlsSelfSigned;
}

export const rootKeyWouldBeGenerated = (config: Config): boolean =>
  config.rootKey === null && config.rootKeyFile === null && !existsSync(join(config.dataDir, 'root.key'));

function lostRootKey(config: Config, store: string): StartError {
  return new StartError(
    `${store} already holds data sealed under a root key, but ${join(config.dataDir, 'root.key')} is missing: ` +
      'restore it (or give it as KMSD_ROOT_KEY or --root-key-file); refusing to start, nothing was written',
  );
}

const writable = (path: string): boolean => {
  try {
    accessSync(path, constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

function checkDataDir(dir: string): void {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new StartError(`the data directory ${dir} is a file, not a directory (choose another with --data-dir)`);
    if (!writable(dir)) throw new StartError(`the data directory ${dir} is not writable by this user (choose another with --data-dir)`);
    // One that other users can write would let them replace the root key, the identities or the database.
    const mode = statSync(dir).mode;
    if ((mode & 0o002) !== 0) {
      throw new StartError(`the data directory ${dir} can be written by other users (mode ${(mode & 0o7777).toString(8)}); refusing to start: chmod o-w it, or choose another --data-dir`);
    }
    return;
  }
  // It will be created: its nearest existing parent must be a directory this user may write.
  let parent = dirname(dir);
  while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
  if (!statSync(parent).isDirectory()) throw new StartError(`cannot create the data directory ${dir}: ${parent} is a file`);
  if (!writable(parent)) throw new StartError(`cannot create the data directory ${dir}: ${parent} is not writable by this user`);
}

/**
 * The endpoint file is written once kmsd serves (a new file renamed over it, see
 * cli/endpoint-file.ts): its directory must exist and be writable, and whatever is already
 * there must be a file kmsd may replace. Found now, not after the data directory was written.
 */
export function checkEndpointFile(path: string): void {
  const dir = dirname(path);
  const where = `cannot write the endpoint file ${path}`;
  if (!existsSync(dir)) throw new StartError(`${where}: the directory ${dir} does not exist (create it, or choose another --endpoint-file)`);
  if (!statSync(dir).isDirectory()) throw new StartError(`${where}: ${dir} is not a directory (choose another --endpoint-file)`);
  if (!writable(dir)) throw new StartError(`${where}: the directory ${dir} is not writable by this user (choose another --endpoint-file)`);
  let found;
  try {
    found = lstatSync(path);
  } catch {
    return; // nothing there yet
  }
  if (found.isDirectory()) throw new StartError(`${where}: it is a directory (choose another --endpoint-file)`);
  // In a sticky directory (/tmp) only its owner may replace a file: one planted by another user stays.
  const uid = process.getuid?.() ?? 0;
  if ((statSync(dir).mode & 0o1000) !== 0 && uid !== 0 && found.uid !== uid && statSync(dir).uid !== uid) {
    throw new StartError(`${where}: it belongs to another user (uid ${found.uid}) and ${dir} lets only its owner replace it (choose another --endpoint-file)`);
  }
}

function checkDatabaseFiles(db: string): void {
  for (const path of [db, `${db}-wal`, `${db}-shm`]) {
    if (!existsSync(path)) continue;
    if (!statSync(path).isFile()) throw new StartError(`the database file ${path} is not a file`);
    try {
      accessSync(path, constants.R_OK | constants.W_OK);
    } catch {
      throw new StartError(`the database file ${path} is read-only for this user: kmsd must write to its store (fix its owner or mode)`);
    }
  }
}

function checkRootKeyFile(config: Config): void {
  if (config.rootKey !== null) return;
  const path = config.rootKeyFile ?? join(config.dataDir, 'root.key');
  if (!existsSync(path)) return;
  try {
    accessSync(path, constants.R_OK);
  } catch {
    throw new StartError(`cannot read the root key file ${path} (permission denied)`);
  }
}

/** host:port/database of a PostgreSQL URL, never its user's password. */
export function describePostgres(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname || '/'}`;
  } catch {
    return 'the --store URL';
  }
}

async function checkPostgres(config: Config): Promise<SealSpec | null> {
  const where = describePostgres(config.store);
  // The PostgreSQL driver is loaded only for a postgres:// store (a SQLite start never pays for it).
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: config.store, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    const e = error as { code?: string; message?: string };
    throw new StartError(`cannot connect to PostgreSQL at ${where}: ${e.code && !e.message?.includes(e.code) ? `${e.code} ` : ''}${e.message ?? 'no answer'}`);
  }
  try {
    if (!rootKeyWouldBeGenerated(config)) return null;
    const table = await client.query(`SELECT to_regclass('settings') IS NOT NULL AS present`);
    if (!table.rows[0]?.present) return null;
    const canary = await client.query(`SELECT 1 FROM settings WHERE name = 'root-key-canary'`);
    if (!canary.rowCount) return null;
    // No root key for a store that has one: sealed (kmsd seal init), or lost.
    const seal = await sealAtStart(config);
    if (seal === null) throw lostRootKey(config, `the PostgreSQL store at ${where}`);
    return seal;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Why a listen failed, in one line. */
export function listenFailure(host: string, port: number, error: { code?: string; message?: string }): StartError {
  switch (error.code) {
    case 'EADDRINUSE':
      return new StartError(`port ${port} on ${host} is already in use (another kmsd?): stop it or choose another with --port`);
    case 'EADDRNOTAVAIL':
      return new StartError(`address ${host} is not available on this machine: choose another with --host`);
    case 'EACCES':
      return new StartError(`not permitted to listen on ${host} port ${port} (ports below 1024 need privileges): choose another with --port`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StartError(`cannot resolve the host name ${host}: choose another with --host`);
    default:
      return new StartError(`cannot listen on ${host} port ${port}: ${error.message ?? error.code}`);
  }
}

/** Binds the address for a moment to learn whether the real listen would succeed. */
function checkPort(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => reject(listenFailure(host, port, error)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
