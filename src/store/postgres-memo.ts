import { BACKUP_TABLES } from './backup/tables.ts';

type Row = Record<string, unknown>;

/**
 * The data versions (migration 12): one row per data table, whose value every committed write
 * that changed the table replaces. Read as one row, one string ("accounts=…,audit_chain=…"),
 * so that a node compares a single value at every request and parses it only when it changed.
 * In the order the rows lie in (no sort, no digest: this is every request's one statement, and
 * each cost 8–22 µs of the database's time a request): a reordering only costs a parse.
 */
export const DATA_VERSION_READ = `SELECT string_agg(table_name || '=' || version, ',') AS versions FROM data_version`;
/**
 * A value never seen before (a random UUID), not a counter: a database that goes back in time
 * (point-in-time recovery, a failover to a standby that lost commits, a restore) would repeat a
 * counter's numbers, and a node would take rows it read before the rewind for current.
 * An upsert: a row deleted by hand comes back with the next write to its table.
 */
export const newDataVersion = (tables: string): string =>
  `INSERT INTO data_version (table_name, version) SELECT table_name, gen_random_uuid()::text FROM ${tables} ON CONFLICT (table_name) DO UPDATE SET version = EXCLUDED.version`;
/**
 * Sent with COMMIT in one simple-protocol query (one round trip): the versions of the tables the
 * transaction changed move in the transaction they describe, so a reader sees a new value exactly
 * when it sees the change. `tables` are data tables' names (tablesNamedBy), written into the text.
 */
export function commitMovingVersions(tables: Iterable<string>): string {
  const names = [...new Set(tables)].sort();
  for (const name of names) if (!/^[a-z_]+$/.test(name)) throw new Error(`not a table name: ${name}`);
  const list = names.map((name) => `'${name}'`).join(', ');
  return `${newDataVersion(`unnest(ARRAY[${list}]::text[]) AS changed (table_name)`)} RETURNING table_name, version; COMMIT`;
}

const named = new Map<string, readonly string[]>();
/**
 * The data tables `sql` names (as whole words), or all of them when it names none: what a read
 * depends on, what a write may have changed. Naming a table a statement does not touch costs a
 * read, never a stale row. kmsd's statements change no table they do not name (no cascades, no
 * triggers but kmsd's data_changed ones, no views: test/postgres-round-trips.test.ts checks the
 * catalogue), so the COMMIT moves the versions of the tables its transaction's statements name,
 * whether or not the triggers are enabled.
 */
export function tablesNamedBy(sql: string): readonly string[] {
  let tables = named.get(sql);
  if (!tables) {
    const found = BACKUP_TABLES.filter((table) => new RegExp(`\\b${table}\\b`).test(sql));
    tables = found.length > 0 ? found : BACKUP_TABLES;
    // Texts built for a number of values (a page of ids) are many: the table is bounded.
    if (named.size < 10_000) named.set(sql, tables);
  }
  return tables;
}

/** How many rows a node remembers at most (a page of 100 grants counts 100), as SQLite's reader. */
const MEMO_ROWS = 20_000;
/** And how many bytes, about (a secret's value is up to 32 KiB: 20,000 of them would be 640 MiB). */
const MEMO_BYTES = 64 * 1024 * 1024;
/** An answer with a row larger than this is not remembered (a large secret value): it is read again each time. */
const LARGEST_ROW = 16 * 1024;

/**
 * What a PostgreSQL node remembers of the rows its read units of work read, and the data
 * versions of the tables they were read from: the answer to "a key's row and grants change
 * rarely, yet must count on the very next request on every node" with one round trip per request.
 *
 * Every write transaction of every node gives each table it changed a new version in the same
 * transaction (commitMovingVersions; a change made outside kmsd, through migration 12's trigger).
 * A read unit of work first reads the versions (one statement); rows read from tables whose
 * versions are the ones they were remembered at are still what the database holds. A table whose
 * version moved has every row read from it forgotten (a statement that joins several tables counts
 * for each), and a table with no version (its row deleted by hand) has them forgotten and none
 * remembered until there is one again. So a grant retired on node A, whose 200 went out after its
 * COMMIT, is unknown to node B's very next request: that request's version read starts after the
 * commit and sees the grants table's new value. What the grant writes do not change (the callers'
 * users and accounts) stays remembered.
 *
 * Which tables a statement reads is told from its text: every data table it names. A statement
 * that names none depends on every table. Naming a table it does not read costs a read, never a
 * stale row.
 *
 * Answers arrive on several connections in any order. Each forgetting of a table starts a new
 * generation of it, and rows are remembered only when none of their tables was forgotten between
 * sending their statement and its answer: a row is never remembered under a version it may be
 * older than.
 */
export class PostgresMemo {
  private readonly tables: readonly string[];
  /** The version string last read, as read (the common case: the same string again, nothing to do). */
  private versionsRead: string | null | undefined = undefined;
  /** Each table's version its remembered rows stand at (none: nothing of it is remembered). */
  private readonly versions = new Map<string, string>();
  /** Tables the last version read found no row for (deleted by hand), and this node has not written since. */
  private readonly missing = new Set<string>();
  private readonly generations = new Map<string, number>();
  /** Rows by statement, then by parameters, with what each statement's answers count. */
  private readonly rows = new Map<string, { answers: Map<string, Row[]>; rows: number; bytes: number }>();
  private rowCount = 0;
  private byteCount = 0;
  /** Reads under way, by statement and parameters. */
  private readonly inFlight = new Map<string, InFlight>();

  constructor() {
    this.tables = BACKUP_TABLES;
    for (const table of this.tables) this.generations.set(table, 0);
  }

  private tablesOf(sql: string): readonly string[] {
    return tablesNamedBy(sql);
  }

  /** The generation a statement is sent in (pass it back to `put` to remember its answer). */
  stampOf(sql: string): number {
    let stamp = 0;
    for (const table of this.tablesOf(sql)) stamp += this.generations.get(table)!;
    return stamp;
  }

  /** A version read's answer (null: no rows): forgets the rows of every table whose version is not the one they stand at. */
  observe(versions: string | null): void {
    if (versions !== null && versions === this.versionsRead) return;
    this.versionsRead = versions;
    const read = parseVersions(versions);
    this.missing.clear();
    for (const table of this.tables) {
      const version = read.get(table);
      if (version === undefined) this.missing.add(table);
      this.moveTo(table, version);
    }
  }

  /**
   * Tables whose version row the database lacks (deleted or truncated by hand): this node's next
   * COMMIT gives them one (a new value is always safe: it only makes nodes read again), so that
   * what is read from them is remembered again, also for tables nobody writes.
   */
  get tablesWithoutVersion(): ReadonlySet<string> {
    return this.missing;
  }

  /**
   * This node committed a write: `moved` is what its COMMIT answered, each table it changed with
   * its new version (null: the answer could not be told, forget everything). The other tables'
   * rows stay: the next version read checks them.
   */
  committed(moved: ReadonlyMap<string, string> | null): void {
    if (moved === null) return this.reset();
    this.versionsRead = undefined;
    for (const [table, version] of moved) {
      this.missing.delete(table);
      if (this.generations.has(table)) this.moveTo(table, version);
    }
  }

  /**
   * Forgets every row, and the versions they stood at: what is read next is remembered only under
   * versions read after it. For when the database may have changed unseen (the node lock lost,
   * a lost connection: a failover, a restore).
   */
  reset(): void {
    this.versionsRead = undefined;
    for (const table of this.tables) this.moveTo(table, undefined);
  }

  /** Forgets `table`'s rows unless `version` is the one they stand at, and stands at `version` (undefined: none). */
  private moveTo(table: string, version: string | undefined): void {
    if (version !== undefined && version === this.versions.get(table)) return;
    this.generations.set(table, this.generations.get(table)! + 1);
    if (version === undefined) this.versions.delete(table);
    else this.versions.set(table, version);
    for (const [sql, entry] of this.rows) {
      if (!this.tablesOf(sql).includes(table)) continue;
      this.rows.delete(sql);
      this.rowCount -= entry.rows;
      this.byteCount -= entry.bytes;
    }
  }

  private dropRows(): void {
    this.rows.clear();
    this.rowCount = 0;
    this.byteCount = 0;
  }

  get(sql: string, id: string): Row[] | undefined {
    return this.rows.get(sql)?.answers.get(id);
  }

  /**
   * The answer under way for `sql` with `id`, if it was taken at `stamp` (none of its tables
   * forgotten since): a read that would send the same statement now may wait for it instead. It is
   * what it would have read: sent after every commit this read must see (those its version read
   * saw, or it would not stand at the same stamp), and remembered by `put` as if it had arrived.
   * So after a write elsewhere, the requests that all miss a key's rows at once send one read.
   * A read that holds a connection waits only for a statement already sent: one still waiting for
   * a connection may be waiting for the very connections such reads hold.
   */
  arriving(sql: string, id: string, stamp: number, holdsConnection: boolean): Promise<Row[]> | undefined {
    const flight = this.inFlight.get(`${sql}\u0000${id}`);
    return flight?.stamp === stamp && (flight.sent || !holdsConnection) ? flight.answer : undefined;
  }

  /** `flight` is under way for `sql` with `id` (until its answer settles). */
  underWay(sql: string, id: string, flight: InFlight): void {
    const key = `${sql}\u0000${id}`;
    this.inFlight.set(key, flight);
    const settled = () => {
      if (this.inFlight.get(key) === flight) this.inFlight.delete(key);
    };
    flight.answer.then(settled, settled);
  }

  /**
   * Remembers the answer of a statement sent at `stamp`, unless one of its tables was forgotten
   * since, has no known version (nothing to check it against later), or it is large.
   */
  put(sql: string, id: string, rows: Row[], stamp: number): void {
    if (stamp !== this.stampOf(sql)) return;
    if (this.tablesOf(sql).some((table) => !this.versions.has(table))) return;
    const bytes = sizeOf(id, rows);
    if (bytes === null) return;
    // Full: start again rather than grow (the versions stand: nothing here is stale, only too much).
    if (this.rowCount + rows.length > MEMO_ROWS || this.byteCount + bytes > MEMO_BYTES) this.dropRows();
    let entry = this.rows.get(sql);
    if (!entry) this.rows.set(sql, (entry = { answers: new Map(), rows: 0, bytes: 0 }));
    entry.answers.set(id, rows);
    entry.rows += rows.length + 1;
    entry.bytes += bytes;
    this.rowCount += rows.length + 1;
    this.byteCount += bytes;
  }
}

/** A read under way (PostgresMemo.arriving): taken at `stamp`, its statement `sent` once it had a connection. */
export interface InFlight {
  stamp: number;
  sent: boolean;
  answer: Promise<Row[]>;
}

/** "accounts=v1,grants=v2" → {accounts: v1, grants: v2} (null: no rows at all). */
function parseVersions(versions: string | null): Map<string, string> {
  const read = new Map<string, string>();
  if (versions === null) return read;
  for (const pair of versions.split(',')) {
    const at = pair.indexOf('=');
    if (at > 0) read.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return read;
}

/** What a commitMovingVersions answer says: each table it moved, with its new version; null when it cannot be told. */
export function movedVersions(rows: readonly Row[] | undefined): Map<string, string> | null {
  if (rows === undefined) return null;
  return new Map(rows.map((row) => [String(row.table_name), String(row.version)]));
}

/** About how many bytes an answer takes in memory (strings count two bytes a character); null: it has a row past LARGEST_ROW. */
function sizeOf(id: string, rows: Row[]): number | null {
  let bytes = 2 * id.length + 64;
  for (const row of rows) {
    let rowBytes = 0;
    for (const [column, value] of Object.entries(row)) {
      rowBytes += 2 * column.length + 16;
      if (typeof value === 'string') rowBytes += 2 * value.length;
      else if (value instanceof Uint8Array) rowBytes += value.byteLength;
    }
    if (rowBytes > LARGEST_ROW) return null;
    bytes += rowBytes;
  }
  return bytes;
}
