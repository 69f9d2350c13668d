import { DatabaseSync } from 'node:sqlite';
import type pg from 'pg';
import { POSTGRES, SQLITE, type Dialect } from '../migrations.ts';
import { takeNodeLockExclusive } from '../node-lock.ts';
import { SqliteExecutor } from '../sqlite.ts';

type Row = Record<string, unknown>;

/** How a column's values travel in a backup file, whatever the database spells its type. */
export type ColumnKind = 'int' | 'text' | 'blob';
export interface Column {
  name: string;
  kind: ColumnKind;
}

/**
 * A plain connection to a store's database, below the Store interface, for the offline tools
 * that work on whole tables (backup, restore, root-key rotation). Statements are written with
 * $1, $2 for both drivers. Nothing here knows what the tables mean.
 */
export interface RawDb {
  readonly driver: 'sqlite' | 'postgres';
  readonly dialect: Dialect;
  all(sql: string, params?: unknown[]): Promise<Row[]>;
  run(sql: string, params?: unknown[]): Promise<void>;
  /** The rows of a SELECT in batches, inside the transaction that is open (one snapshot). */
  batches(sql: string, size: number): AsyncIterable<Row[]>;
  /** Tables of the store, bookkeeping included. */
  tables(): Promise<string[]>;
  columns(table: string): Promise<Column[]>;
  /** Columns whose values the database draws from a sequence (PostgreSQL's serial columns). */
  serialColumns(table: string): Promise<string[]>;
  /**
   * PostgreSQL: takes the node lock exclusive for as long as this connection is open (false
   * while a kmsd node serves the database: src/store/node-lock.ts). SQLite: true (the data
   * directory's lock is the command's, src/cli/offline-lock.ts).
   */
  lockOutNodes(): Promise<boolean>;
  close(): Promise<void>;
}

const kindOf = (type: string, where: string): ColumnKind => {
  const t = type.toLowerCase();
  if (t.includes('int')) return 'int';
  if (t === 'blob' || t === 'bytea') return 'blob';
  if (t === 'text') return 'text';
  throw new Error(`column ${where} has type ${type}, which a backup cannot carry yet (src/store/backup/raw-db.ts)`);
};

/** Table names come from the store's own catalogue or from BACKUP_TABLES; never from input. */
const quoted = (name: string): string => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unexpected table or column name ${JSON.stringify(name)}`);
  return `"${name}"`;
};
export { quoted as quoteName };

export class SqliteRawDb implements RawDb {
  readonly driver = 'sqlite' as const;
  readonly dialect = SQLITE;
  readonly db: DatabaseSync;
  // The driver's own statements (prepared once, $1 spelled ?1).
  private readonly executor: SqliteExecutor;
  constructor(path: string) {
    this.db = new DatabaseSync(path);
    this.db.exec('PRAGMA busy_timeout = 5000');
    this.executor = new SqliteExecutor(this.db);
  }
  all(sql: string, params: unknown[] = []): Promise<Row[]> {
    return this.executor.all(sql, params);
  }
  async run(sql: string, params: unknown[] = []): Promise<void> {
    if (params.length === 0 && !sql.includes('$')) this.db.exec(sql);
    else await this.executor.run(sql, params);
  }
  async *batches(sql: string, size: number): AsyncIterable<Row[]> {
    let batch: Row[] = [];
    for (const row of this.db.prepare(sql).iterate()) {
      batch.push(row as Row);
      if (batch.length >= size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }
  async tables(): Promise<string[]> {
    return (await this.all("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")).map((r) => String(r.name));
  }
  async columns(table: string): Promise<Column[]> {
    const rows = await this.all(`PRAGMA table_info(${quoted(table)})`);
    return rows.map((r) => ({ name: String(r.name), kind: kindOf(String(r.type), `${table}.${String(r.name)}`) }));
  }
  async serialColumns(): Promise<string[]> {
    // AUTOINCREMENT keeps its counter at or above the largest row id inserted, given or drawn.
    return [];
  }
  async lockOutNodes(): Promise<boolean> {
    return true;
  }
  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }
}

export class PostgresRawDb implements RawDb {
  readonly driver = 'postgres' as const;
  readonly dialect = POSTGRES;
  readonly client: pg.Client;
  private cursors = 0;
  private constructor(client: pg.Client) {
    this.client = client;
  }
  static async connect(url: string): Promise<PostgresRawDb> {
    const { default: pgModule } = await import('pg');
    const client = new pgModule.Client({ connectionString: url, connectionTimeoutMillis: 10_000, application_name: 'kmsd-offline' });
    // A connection the server ends fails the query in flight; without a listener it would also crash the tool.
    client.on('error', () => {});
    await client.connect();
    return new PostgresRawDb(client);
  }
  async all(sql: string, params: unknown[] = []): Promise<Row[]> {
    return (await this.client.query({ text: sql, values: params })).rows as Row[];
  }
  async run(sql: string, params: unknown[] = []): Promise<void> {
    await this.client.query({ text: sql, values: params });
  }
  async *batches(sql: string, size: number): AsyncIterable<Row[]> {
    const cursor = `kmsd_cursor_${++this.cursors}`;
    await this.run(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${sql}`);
    try {
      for (;;) {
        const rows = await this.all(`FETCH ${size} FROM ${cursor}`);
        if (rows.length > 0) yield rows;
        if (rows.length < size) break;
      }
    } finally {
      await this.run(`CLOSE ${cursor}`);
    }
  }
  // The catalogue, not information_schema: information_schema shows only what the role may use, and
  // a table hidden from a role without privileges would be left out of a backup without a word.
  async tables(): Promise<string[]> {
    const rows = await this.all('SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema() ORDER BY tablename');
    return rows.map((r) => String(r.tablename));
  }
  async columns(table: string): Promise<Column[]> {
    const rows = await this.all(
      `SELECT a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type
         FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relname = $1 AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [table],
    );
    return rows.map((r) => ({ name: String(r.column_name), kind: kindOf(String(r.data_type), `${table}.${String(r.column_name)}`) }));
  }
  async serialColumns(table: string): Promise<string[]> {
    const rows = await this.all(
      "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_default LIKE 'nextval(%'",
      [table],
    );
    return rows.map((r) => String(r.column_name));
  }
  lockOutNodes(): Promise<boolean> {
    return takeNodeLockExclusive(this.client);
  }
  async close(): Promise<void> {
    await this.client.end().catch(() => {});
  }
}
