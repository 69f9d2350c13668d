import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, linkSync, openSync, rmSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { MIGRATIONS } from '../migrations.ts';
import { isFileSystemError, naming } from './errors.ts';
import { BackupError, BackupWriter, encodeValue, FORMAT } from './file.ts';
import { quoteName, type RawDb } from './raw-db.ts';
import { BACKUP_TABLES, isBookkeeping } from './tables.ts';

const BATCH = 2000;

export interface BackupSummary {
  schema: number;
  tables: number;
  rows: Record<string, number>;
}

/** The schema version a store is at (0: no kmsd schema). */
export async function schemaVersion(db: RawDb): Promise<number> {
  if (!(await db.tables()).includes('schema_migrations')) return 0;
  const rows = await db.all('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations');
  return Number(rows[0].v);
}

/**
 * Opens one read-only snapshot of the whole store for as long as `work` runs: every write
 * committed before it began is in it, nothing committed after. SQLite (WAL): a read
 * transaction, whose snapshot is fixed by its first read. PostgreSQL: REPEATABLE READ.
 * Writers go on meanwhile on both.
 */
async function inSnapshot<T>(db: RawDb, work: () => Promise<T>): Promise<T> {
  await db.run(db.driver === 'postgres' ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN');
  try {
    return await work();
  } finally {
    await db.run('ROLLBACK').catch(() => {});
  }
}

const EXISTS = (out: string) => `${out} already exists: choose a new file name (a backup never overwrites one)`;

/**
 * Writes a consistent backup of the store to `out`, a file that must not exist yet. It is
 * written as `out.<run>.partial` (a name of this run's own, created new) and published under
 * `out` once complete and on disk, by a link that fails if `out` exists: `out` is always whole,
 * and two backups to one name at once never overwrite each other (the second one refuses).
 */
export async function backupStore(db: RawDb, out: string, kmsdVersion: string): Promise<BackupSummary> {
  if (existsSync(out)) throw new BackupError(EXISTS(out));
  const partial = `${out}.${process.pid}-${randomBytes(4).toString('hex')}.partial`;
  return inSnapshot(db, async () => {
    const schema = await schemaVersion(db);
    if (schema === 0) throw new BackupError('the store holds no kmsd data (no schema)');
    if (schema > MIGRATIONS.length) {
      throw new BackupError(`the store is at schema ${schema}, newer than this kmsd knows (${MIGRATIONS.length}): back it up with the kmsd that serves it`);
    }
    const present = (await db.tables()).filter((t) => !isBookkeeping(t));
    const unlisted = present.filter((t) => !BACKUP_TABLES.includes(t));
    if (unlisted.length > 0) {
      throw new BackupError(`table ${unlisted.join(', ')} is not in the backup's table list (src/store/backup/tables.ts): refusing to write a backup without it`);
    }
    const writer = new BackupWriter(partial);
    const rows: Record<string, number> = {};
    try {
      await writer.header({ kmsd_backup: FORMAT, kmsd_version: kmsdVersion, schema, source: db.driver, created: new Date().toISOString() });
      for (const table of BACKUP_TABLES.filter((t) => present.includes(t))) {
        const columns = await db.columns(table);
        await writer.table(table, columns);
        let count = 0;
        const select = `SELECT ${columns.map((c) => quoteName(c.name)).join(', ')} FROM ${quoteName(table)}`;
        await naming(() => `reading table ${table} after row ${count}`, async () => {
          for await (const batch of db.batches(select, BATCH)) {
            for (const row of batch) {
              await writer.row(columns.map((c) => encodeValue(c.kind, row[c.name], `${table}.${c.name}`)));
            }
            count += batch.length;
          }
        });
        await writer.tableEnd(count);
        rows[table] = count;
      }
      await writer.finish();
    } catch (error) {
      await writer.abort();
      rmSync(partial, { force: true });
      // A file system's refusal (no such directory, no permission, a full disk) is one line.
      if (isFileSystemError(error)) throw new BackupError(`cannot write ${out}: ${(error as Error).message}`);
      throw error;
    }
    try {
      durablePublish(partial, out);
    } catch (error) {
      rmSync(partial, { force: true });
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new BackupError(EXISTS(out));
      throw error;
    }
    return { schema, tables: Object.keys(rows).length, rows };
  });
}

/**
 * Publishes a complete file under its final name so that both its contents and its name survive
 * a power cut: synced, linked (which fails with EEXIST, never overwrites, if `to` exists), the
 * temporary name removed, the directory synced.
 */
export function durablePublish(from: string, to: string): void {
  const fd = openSync(from, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  linkSync(from, to);
  unlinkSync(from);
  const dir = openSync(dirname(to), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
