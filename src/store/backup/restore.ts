import { closeSync, existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATION_LOCK, MIGRATIONS } from '../migrations.ts';
import { NODES_SERVING } from '../node-lock.ts';
import { durablePublish } from './backup.ts';
import { isDatabaseError, naming } from './errors.ts';
import { BackupError, decodeValue, openBackup, type BackupHeader, type BackupItem } from './file.ts';
import { quoteName, SqliteRawDb, type Column, type RawDb } from './raw-db.ts';
import { BACKUP_TABLES } from './tables.ts';

export interface RestoreSummary {
  header: BackupHeader;
  rows: Record<string, number>;
  /** The schema the restored store is at (the backup's, brought up to this kmsd's). */
  schema: number;
}

/** Applies migrations from+1 .. to, in the open transaction (the restore's own). */
async function migrate(db: RawDb, from: number, to: number): Promise<void> {
  if (from === 0) await db.run(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at ${db.dialect.bigint} NOT NULL)`);
  for (let version = from + 1; version <= to; version++) {
    for (const sql of MIGRATIONS[version - 1](db.dialect)) await naming(`schema migration ${version}`, () => db.run(sql));
    await db.run('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, Date.now()]);
  }
}

/** Rows of one table, inserted in statements of many rows (PostgreSQL) or one prepared statement (SQLite). */
class TableLoader {
  private pending: unknown[][] = [];
  /** The number, in the backup's table, of the first pending row (1-based). */
  private first = 1;
  private readonly perStatement: number;
  private readonly db: RawDb;
  private readonly table: string;
  private readonly columns: readonly Column[];
  constructor(db: RawDb, table: string, columns: readonly Column[]) {
    this.db = db;
    this.table = table;
    this.columns = columns;
    // PostgreSQL takes up to 65535 parameters a statement.
    this.perStatement = db.driver === 'postgres' ? Math.max(1, Math.min(1000, Math.floor(60000 / columns.length))) : 1;
  }
  async add(values: unknown[]): Promise<void> {
    this.pending.push(values);
    if (this.pending.length >= this.perStatement) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const rows = this.pending;
    if (rows.length === 1) {
      await naming(() => this.rowName(0), () => this.insert(rows));
    } else {
      // A statement of many rows that the database refuses is retried a row at a time (back to
      // a savepoint) to name the row it refuses: the refusal then says which one to look at.
      await this.db.run('SAVEPOINT kmsd_rows');
      try {
        await this.insert(rows);
      } catch (error) {
        if (!isDatabaseError(error)) throw error;
        await this.db.run('ROLLBACK TO SAVEPOINT kmsd_rows');
        for (let i = 0; i < rows.length; i++) await naming(() => this.rowName(i), () => this.insert([rows[i]]));
        throw error;
      }
      await this.db.run('RELEASE SAVEPOINT kmsd_rows');
    }
    this.first += rows.length;
    this.pending = [];
  }
  private async insert(rows: unknown[][]): Promise<void> {
    const n = this.columns.length;
    const tuples = rows.map((_, r) => `(${this.columns.map((__, c) => `$${r * n + c + 1}`).join(', ')})`);
    await this.db.run(`INSERT INTO ${quoteName(this.table)} (${this.columns.map((c) => quoteName(c.name)).join(', ')}) VALUES ${tuples.join(', ')}`, rows.flat());
  }
  /** "table keys, row 17 of the backup (key_id 0f3c…)": the first column is the table's id, or starts its key. */
  private rowName(index: number): string {
    const id = this.pending[index]?.[0];
    const shown = typeof id === 'string' || typeof id === 'number' ? ` (${this.columns[0].name} ${JSON.stringify(id).slice(0, 80)})` : '';
    return `table ${this.table}, row ${this.first + index} of the backup${shown}`;
  }
}

/** Loads every table of the backup into the open transaction, checking each table's row count. */
async function load(db: RawDb, items: AsyncIterable<BackupItem>): Promise<Record<string, number>> {
  const rows: Record<string, number> = {};
  let table: { name: string; columns: Column[]; loader: TableLoader; count: number } | null = null;
  for await (const item of items) {
    if (item.type === 'table') {
      if (table !== null) throw new BackupError(`the backup file is damaged: table ${table.name} has no row count`);
      if (!BACKUP_TABLES.includes(item.name)) throw new BackupError(`the backup holds a table this kmsd does not know (${item.name})`);
      if (item.name in rows) throw new BackupError(`the backup file is damaged: table ${item.name} appears twice`);
      const known = new Set((await db.columns(item.name)).map((c) => c.name));
      const missing = item.columns.find((c) => !known.has(c.name));
      if (missing) throw new BackupError(`the backup's column ${item.name}.${missing.name} is not in this kmsd's schema`);
      // The target held nothing before its migrations ran; a row a migration seeded (the audit
      // chain's head) is the backup's to give.
      await db.run(`DELETE FROM ${quoteName(item.name)}`, []);
      table = { name: item.name, columns: item.columns, loader: new TableLoader(db, item.name, item.columns), count: 0 };
    } else if (item.type === 'row') {
      if (table === null || item.values.length !== table.columns.length) throw new BackupError('the backup file is damaged: a row outside a table, or of the wrong width');
      const t = table;
      await t.loader.add(t.columns.map((c, i) => decodeValue(c.kind, item.values[i], `${t.name}.${c.name}`)));
      t.count++;
    } else {
      if (table === null || item.rows !== table.count) throw new BackupError(`the backup file is damaged: table ${table?.name ?? '?'} does not hold the rows it counts`);
      await table.loader.flush();
      rows[table.name] = table.count;
      table = null;
    }
  }
  if (table !== null) throw new BackupError(`the backup file is damaged: table ${table.name} has no row count`);
  return rows;
}

/** Moves every sequence past the largest value restored into its column (PostgreSQL serial columns). */
async function resetSequences(db: RawDb, tables: readonly string[]): Promise<void> {
  for (const table of tables) {
    for (const column of await db.serialColumns(table)) {
      await db.run(
        `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX(${quoteName(column)}) FROM ${quoteName(table)}), 0) + 1, false)`,
        [table, column],
      );
    }
  }
}

/** Everything a restore does inside its one transaction: schema to the backup's, rows, schema to ours. */
async function restoreInto(db: RawDb, header: BackupHeader, items: AsyncIterable<BackupItem>): Promise<Record<string, number>> {
  await migrate(db, 0, header.schema);
  const rows = await load(db, items);
  await migrate(db, header.schema, MIGRATIONS.length);
  await resetSequences(db, Object.keys(rows));
  return rows;
}

async function openChecked(file: string) {
  const backup = await openBackup(file);
  if (backup.header.schema > MIGRATIONS.length) {
    throw new BackupError(
      `the backup is of schema ${backup.header.schema} (kmsd ${backup.header.kmsd_version}), newer than this kmsd knows (${MIGRATIONS.length}): restore it with kmsd ${backup.header.kmsd_version} or later`,
    );
  }
  if (backup.header.schema < 1) throw new BackupError(`${file} is damaged (its header)`);
  return backup;
}

/**
 * Restores into a new SQLite store in `dataDir`, which must hold none yet. The database is
 * built as a hidden file and renamed into place once complete and on disk: a restore that
 * fails or is killed leaves no kmsd.db behind.
 */
export async function restoreToSqlite(file: string, dataDir: string): Promise<RestoreSummary> {
  const target = join(dataDir, 'kmsd.db');
  const taken = (path: string) => new BackupError(`${dataDir} already holds a kmsd store (${path}): restore only into an empty target`);
  for (const path of [target, `${target}-wal`, `${target}-journal`]) {
    if (existsSync(path)) throw taken(path);
  }
  const backup = await openChecked(file);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const building = join(dataDir, '.kmsd.db.restoring');
  rmSync(building, { force: true });
  closeSync(openSync(building, 'wx', 0o600));
  const db = new SqliteRawDb(building);
  try {
    // A file nobody else sees until it is published: no journal needed; it is synced before.
    await db.run('PRAGMA journal_mode = OFF');
    await db.run('PRAGMA synchronous = OFF');
    // Room for the indexes being built (the pages of a million grants), instead of SQLite's 2 MiB.
    await db.run('PRAGMA cache_size = -262144');
    await db.run('BEGIN');
    const rows = await restoreInto(db, backup.header, backup.items);
    await naming('committing the restore', () => db.run('COMMIT'));
    await db.close();
    // A link, not a rename: a kmsd.db that appeared meanwhile is never replaced.
    durablePublish(building, target);
    return { header: backup.header, rows, schema: MIGRATIONS.length };
  } catch (error) {
    await db.close();
    rmSync(building, { force: true });
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw taken(target);
    throw error;
  }
}

/**
 * Restores into an empty PostgreSQL database (no table in its schema), in one transaction:
 * a restore that fails or is killed leaves the database empty.
 */
export async function restoreToPostgres(file: string, db: RawDb): Promise<RestoreSummary> {
  const backup = await openChecked(file);
  // Held until the command closes its connection: a node starting meanwhile waits, then serves the restored store.
  if (!(await db.lockOutNodes())) throw new BackupError(NODES_SERVING('restore'));
  await db.run('BEGIN');
  try {
    // The lock kmsd nodes take to migrate: a node starting now waits, then finds the restored schema.
    await db.run('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    const tables = await db.tables();
    if (tables.length > 0) throw new BackupError(`the PostgreSQL database already holds tables (${tables.slice(0, 3).join(', ')}): restore only into an empty database`);
    const rows = await restoreInto(db, backup.header, backup.items);
    await naming('committing the restore', () => db.run('COMMIT'));
    return { header: backup.header, rows, schema: MIGRATIONS.length };
  } catch (error) {
    await db.run('ROLLBACK').catch(() => {});
    throw error;
  }
}
