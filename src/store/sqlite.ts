import { chmodSync, closeSync, existsSync, openSync, statSync } from 'node:fs';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { MIGRATIONS, SQLITE } from './migrations.ts';
import type { SharedLock } from './shared-lock.ts';
import { SqlTx, type Executor } from './sql-tx.ts';
import { SchemaMismatch, type CommitListener, type ReadOptions, type Store, type StoreOptions, type Tx } from './store.ts';

type Row = Record<string, unknown>;

interface Pending {
  work: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Statements are written $1, $2 for both drivers; SQLite spells numbered parameters ?1, ?2. */
export class SqliteExecutor implements Executor {
  readonly forUpdate = '';
  readonly writableCte = false;
  readonly advisoryLocks = false;
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  constructor(db: DatabaseSync) {
    this.db = db;
  }
  private prepare(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql.replace(/\$(\d+)/g, '?$1'));
      this.statements.set(sql, statement);
    }
    return statement;
  }
  async all(sql: string, params: unknown[]): Promise<Row[]> {
    return this.prepare(sql).all(...(params as never[])) as Row[];
  }
  async run(sql: string, params: unknown[]): Promise<number> {
    return Number(this.prepare(sql).run(...(params as never[])).changes);
  }
}

/**
 * The reader's statements, with their rows remembered until anything is committed to the
 * database file. SQLite's data_version moves whenever another connection commits (the
 * writer, or another process on the same file, such as the CLI), and every read asks for it
 * first, so a remembered row is never older than the last commit before the read began: an
 * ended grant, a disabled key or a removed access key is refused on the next request, as
 * without the memo. Rows are shared: the row mappers copy, never change them.
 */
class MemoizingExecutor implements Executor {
  readonly forUpdate = '';
  readonly writableCte = false;
  readonly advisoryLocks = false;
  private readonly inner: SqliteExecutor;
  private readonly dataVersion: StatementSync;
  // By statement, then by parameters: statement texts are constants, whose hashes V8 keeps.
  private readonly rows = new Map<string, Map<string, Row[]>>();
  private rowCount = 0;
  private version: unknown = null;
  constructor(db: DatabaseSync) {
    this.inner = new SqliteExecutor(db);
    this.dataVersion = db.prepare('PRAGMA data_version');
  }
  /** Forgets every remembered row when anything was committed since the last call. */
  refresh(): void {
    const version = (this.dataVersion.get() as Row).data_version;
    if (version === this.version) return;
    this.version = version;
    this.forget();
  }
  private forget(): void {
    this.rows.clear();
    this.rowCount = 0;
  }
  async all(sql: string, params: unknown[]): Promise<Row[]> {
    let bySql = this.rows.get(sql);
    const id = JSON.stringify(params);
    const hit = bySql?.get(id);
    if (hit) return hit;
    const rows = await this.inner.all(sql, params);
    if (this.rowCount + rows.length > MEMO_ROWS) {
      this.forget();
      bySql = undefined;
    }
    if (!bySql) this.rows.set(sql, (bySql = new Map()));
    bySql.set(id, rows);
    this.rowCount += rows.length + 1;
    return rows;
  }
  run(sql: string, params: unknown[]): Promise<number> {
    return this.inner.run(sql, params);
  }
}

/** How many rows the reader remembers at most (a page of 100 grants counts 100). */
const MEMO_ROWS = 20_000;

/**
 * The embedded store: one SQLite file in WAL mode with synchronous=FULL, so a commit is on
 * disk before its promise settles.
 *
 * Writers are serialised through one queue, and the queue commits in groups: every unit of
 * work waiting when a transaction starts runs inside it, each under its own SAVEPOINT, so a
 * failing unit rolls back alone while the others share one fsync. Readers use a second
 * connection, which in WAL mode sees exactly the committed data and never a writer's
 * half-done transaction.
 */
export class SqliteStore implements Store {
  readonly driver = 'sqlite' as const;
  private readonly writer: DatabaseSync;
  private readonly reader: DatabaseSync;
  private readonly writeTx: SqlTx;
  private readonly readTx: SqlTx;
  private readonly readExecutor: MemoizingExecutor;
  private readonly queue: Pending[] = [];
  private draining = false;
  private closed = false;
  onCommit: CommitListener | null = null;
  /** Taken around every write transaction when several worker threads write this file. */
  private readonly writeLock: SharedLock | null;

  private readonly path: string;
  /** The database file as opened: device and inode. */
  private readonly identity: string;

  constructor(path: string, options: StoreOptions = {}) {
    this.writeLock = options.writeLock ?? null;
    this.path = path;
    makePrivate(path);
    this.writer = new DatabaseSync(path);
    this.identity = fileIdentity(path) ?? '';
    this.writer.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON');
    try {
      if (options.migrate === false) checkSchema(this.writer);
      else migrate(this.writer);
    } catch (error) {
      this.writer.close();
      throw error;
    }
    this.reader = new DatabaseSync(path);
    this.reader.exec('PRAGMA busy_timeout = 5000; PRAGMA query_only = ON');
    this.writeTx = new SqlTx(new SqliteExecutor(this.writer), options.onAudit);
    this.readExecutor = new MemoizingExecutor(this.reader);
    this.readTx = new SqlTx(this.readExecutor);
  }

  // Commits of this process's writer, counted so that a read later in a request still sees
  // them without asking SQLite (which costs a statement) for other connections' commits.
  private commits = 0;
  private commitsAtRefresh = -1;

  read<T>(work: (tx: Tx) => Promise<T>, options?: ReadOptions): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    if (!options?.sameRequest || this.commits !== this.commitsAtRefresh) {
      this.commitsAtRefresh = this.commits;
      this.readExecutor.refresh();
    }
    return work(this.readTx);
  }

  write<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
      this.scheduleDrain();
    });
  }

  // The commit's fsync blocks the event loop, so a group started at once would hold only the
  // first request that arrived. Starting it after the loop's I/O phase lets every request
  // already received join the same group and share one fsync.
  private drainScheduled = false;
  private scheduleDrain(): void {
    if (this.drainScheduled || this.draining) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      // The group is taken once the lock is held: what arrived while waiting joins it.
      if (this.writeLock) await this.writeLock.acquire();
      try {
        await this.commitGroup(this.queue.splice(0, 512));
      } finally {
        this.writeLock?.release();
      }
    } finally {
      this.draining = false;
    }
    // Requests that arrived during the fsync are parsed before the next group starts.
    if (this.queue.length > 0) this.scheduleDrain();
  }

  private async commitGroup(group: Pending[]): Promise<void> {
    const outcomes: Array<{ ok: boolean; value: unknown }> = [];
    try {
      this.writer.exec('BEGIN IMMEDIATE');
    } catch (error) {
      for (const p of group) p.reject(error);
      return;
    }
    for (const p of group) {
      this.writer.exec('SAVEPOINT unit');
      try {
        const value = await p.work(this.writeTx);
        this.writer.exec('RELEASE unit');
        outcomes.push({ ok: true, value });
      } catch (error) {
        this.writer.exec('ROLLBACK TO unit; RELEASE unit');
        outcomes.push({ ok: false, value: error });
      }
    }
    // Counted first: a COMMIT that fails only makes the next read look again.
    this.commits++;
    const started = this.onCommit ? process.hrtime.bigint() : 0n;
    try {
      this.writer.exec('COMMIT');
    } catch (error) {
      try {
        this.writer.exec('ROLLBACK');
      } catch {
        // the failed COMMIT may already have ended the transaction
      }
      for (const p of group) p.reject(error);
      return;
    }
    this.onCommit?.(Number(process.hrtime.bigint() - started) / 1e9, group.length);
    group.forEach((p, i) => (outcomes[i].ok ? p.resolve(outcomes[i].value) : p.reject(outcomes[i].value)));
  }

  filesPresent(): boolean {
    return fileIdentity(this.path) === this.identity;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    while (this.draining || this.drainScheduled || this.queue.length > 0) await new Promise((r) => setTimeout(r, 1));
    this.closed = true;
    this.reader.close();
    this.writer.close();
  }
}

function fileIdentity(path: string): string | null {
  try {
    const { dev, ino } = statSync(path);
    return `${dev}:${ino}`;
  } catch {
    return null;
  }
}

/**
 * The database holds sealed key material, password hashes and the audit trail: its files are
 * readable by the owner only. SQLite creates -wal and -shm with the database file's mode, so
 * the file is created 0600 before SQLite opens it; files left by an older kmsd are narrowed.
 */
function makePrivate(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(file) && (statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  }
}

/** Refuses a schema other than this kmsd's (a store opened without migrating). */
function checkSchema(db: DatabaseSync): void {
  let version = 0;
  try {
    version = (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
  } catch {
    // no schema_migrations table: nothing migrated
  }
  if (version !== MIGRATIONS.length) throw new SchemaMismatch(version, MIGRATIONS.length);
}

function migrate(db: DatabaseSync): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const row = db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number };
  for (let version = row.v + 1; version <= MIGRATIONS.length; version++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const sql of MIGRATIONS[version - 1](SQLITE)) db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, Date.now());
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }
}
