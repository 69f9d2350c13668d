import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config.ts';
import { kmsdVersion } from '../package-root.ts';
import { StartError } from '../root-key.ts';
import { describePostgres } from '../start-checks.ts';
import { backupStore } from '../store/backup/backup.ts';
import { databaseWords, isDatabaseError, isFileSystemError } from '../store/backup/errors.ts';
import { BackupError } from '../store/backup/file.ts';
import { PostgresRawDb, SqliteRawDb, type RawDb } from '../store/backup/raw-db.ts';
import { restoreToPostgres, restoreToSqlite } from '../store/backup/restore.ts';
import { lockDataDirForOfflineCommand } from './offline-lock.ts';

type Env = Record<string, string | undefined>;
type Out = { write(text: string): unknown };

/** --data-dir / --store as every command reads them (flags, then KMSD_DATA_DIR / KMSD_STORE). */
export function storeFlags(argv: string[], env: Env, more: Record<string, { type: 'string' }>) {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({ args: argv, options: { 'data-dir': { type: 'string' }, store: { type: 'string' }, ...more }, strict: true, allowPositionals: false })
      .values as Record<string, string | undefined>;
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const store = values.store ?? env.KMSD_STORE ?? 'sqlite';
  if (store !== 'sqlite' && !/^postgres(ql)?:\/\//.test(store)) throw new ConfigError('--store must be "sqlite" or a postgres:// URL');
  return { values, store, dataDir: resolve(values['data-dir'] ?? env.KMSD_DATA_DIR ?? './data') };
}

/** Opens the store's database for an offline tool; a store that is not there is one line, exit 2. */
export async function openRawStore(store: string, dataDir: string): Promise<RawDb> {
  if (store === 'sqlite') {
    const file = join(dataDir, 'kmsd.db');
    if (!existsSync(file)) throw new StartError(`no kmsd store at ${file} (give --data-dir or --store)`);
    return new SqliteRawDb(file);
  }
  try {
    return await PostgresRawDb.connect(store);
  } catch (error) {
    throw new StartError(`cannot connect to PostgreSQL at ${describePostgres(store)}: ${(error as Error).message}`);
  }
}

/**
 * An offline tool's refusals are one line, exit 2: its own (a damaged file, a non-empty target,
 * a newer schema), a file system's (a data directory that is a file, no permission, a full disk)
 * and a database's (a full disk, no privilege, a value it cannot hold) where the tool did not
 * already name the table and row.
 */
export async function oneLine<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof BackupError) throw new StartError(error.message);
    if (isFileSystemError(error)) throw new StartError((error as Error).message);
    if (isDatabaseError(error)) throw new StartError(`the database refused: ${databaseWords(error)}`);
    throw error;
  }
}

const describe = (rows: Record<string, number>): string =>
  `${rows.keys ?? 0} keys, ${rows.grants ?? 0} grants, ${rows.audit_events ?? 0} audit records; ${Object.values(rows).reduce((a, b) => a + b, 0)} rows in ${Object.keys(rows).length} tables`;

/** `kmsd backup --out FILE [--data-dir DIR | --store URL]`: a consistent backup of a store, while it serves. */
export async function backup(argv: string[], env: Env, out: Out): Promise<void> {
  const { values, store, dataDir } = storeFlags(argv, env, { out: { type: 'string' } });
  if (values.out === undefined) throw new ConfigError('--out FILE is required: where to write the backup');
  const file = resolve(values.out);
  const db = await oneLine(() => openRawStore(store, dataDir));
  try {
    const summary = await oneLine(() => backupStore(db, file, kmsdVersion()));
    out.write(`backed up ${describe(summary.rows)} (schema ${summary.schema}) to ${file}\n`);
  } finally {
    await db.close();
  }
}

/** `kmsd restore --in FILE [--data-dir NEWDIR | --store URL]`: into an empty target only. */
export async function restore(argv: string[], env: Env, out: Out): Promise<void> {
  const { values, store, dataDir } = storeFlags(argv, env, { in: { type: 'string' } });
  if (values.in === undefined) throw new ConfigError('--in FILE is required: the backup to restore');
  const file = resolve(values.in);
  if (!existsSync(file)) throw new StartError(`no backup file at ${file}`);
  const where = store === 'sqlite' ? dataDir : `PostgreSQL at ${describePostgres(store)}`;
  const release = store === 'sqlite' ? lockDataDirForOfflineCommand(dataDir, 'restore') : () => {};
  try {
    const summary = await oneLine(async () => {
      if (store === 'sqlite') return restoreToSqlite(file, dataDir);
      const db = await openRawStore(store, dataDir);
      try {
        return await restoreToPostgres(file, db);
      } finally {
        await db.close();
      }
    });
    out.write(
      `restored ${describe(summary.rows)} from a backup of kmsd ${summary.header.kmsd_version} (${summary.header.source}, ${summary.header.created}) into ${where}; ` +
        'start kmsd on it with the root key of the store it came from\n',
    );
  } finally {
    release();
  }
}
