type Row = Record<string, unknown>;

/** The one-row table whose value every committed write replaces (migration 10). */
export const DATA_VERSION_READ = 'SELECT version FROM data_version WHERE id = 1';
/**
 * A value never seen before (a random UUID), not a counter: a database that goes back in time
 * (point-in-time recovery, a failover to a standby that lost commits, a restore) would repeat a
 * counter's numbers, and a node would take rows it read before the rewind for current.
 * An upsert: a row deleted by hand comes back with the next write.
 */
export const NEW_DATA_VERSION = 'INSERT INTO data_version (id, version) VALUES (1, gen_random_uuid()::text) ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version';
/**
 * Sent with COMMIT in one simple-protocol query (one round trip): the version changes in the
 * transaction it describes, so a reader sees the new value exactly when it sees the change.
 */
export const COMMIT_MOVING_VERSION = `${NEW_DATA_VERSION} RETURNING version; COMMIT`;

/** How many rows a node remembers at most (a page of 100 grants counts 100), as SQLite's reader. */
const MEMO_ROWS = 20_000;
/** And how many bytes, about (a secret's value is up to 32 KiB: 20,000 of them would be 640 MiB). */
const MEMO_BYTES = 64 * 1024 * 1024;
/** An answer with a row larger than this is not remembered (a large secret value): it is read again each time. */
const LARGEST_ROW = 16 * 1024;

/**
 * What a PostgreSQL node remembers of the rows its read units of work read, and the data
 * version they were read at: the answer to "a key's row and grants change rarely, yet must
 * count on the very next request on every node" with one round trip per request.
 *
 * Every write transaction of every node gives data_version a new value in the same transaction
 * (COMMIT_MOVING_VERSION). A read unit of work first reads that value (one statement); if it
 * is the value the rows were remembered at, no write committed anywhere since, and the rows are
 * still what the database holds. Any other value forgets every row, and no value (the row was
 * deleted) forgets every row and remembers nothing until there is one again. So a grant retired
 * on node A, whose 200 went out after its COMMIT, is unknown to node B's very next request: that
 * request's version read starts after the commit and sees the new value.
 *
 * Answers arrive on several connections in any order. Each forgetting starts a new generation,
 * and rows are remembered only when no forgetting happened between sending their statement and
 * its answer: a row is never remembered under a version it may be older than.
 */
export class PostgresMemo {
  private version: string | null = null;
  private generationNumber = 0;
  private readonly rows = new Map<string, Map<string, Row[]>>();
  private rowCount = 0;
  private byteCount = 0;

  /** The generation a statement is sent in (pass it back to remember its answer). */
  get generation(): number {
    return this.generationNumber;
  }

  /** A version read's answer (null: no row): forgets everything unless it is the version the rows stand at. */
  observe(version: string | null): void {
    if (version !== null && version === this.version) return;
    this.forget();
    this.version = version;
  }

  /** This node committed a write (its own version read may be stale by now): start over from `version`. */
  committed(version: string | null): void {
    this.forget();
    this.version = version;
  }

  /**
   * Forgets every row, and the version they stood at: what is read next is remembered only under
   * a version read after it. For when the database may have changed unseen (the node lock lost,
   * a lost connection: a failover, a restore).
   */
  reset(): void {
    this.forget();
    this.version = null;
  }

  private forget(): void {
    this.generationNumber++;
    this.rows.clear();
    this.rowCount = 0;
    this.byteCount = 0;
  }

  get(sql: string, id: string): Row[] | undefined {
    return this.rows.get(sql)?.get(id);
  }

  /**
   * Remembers the answer of a statement sent in `generation`, unless the memo was forgotten since,
   * no version is known (nothing to check it against later), or it is large.
   */
  put(sql: string, id: string, rows: Row[], generation: number): void {
    if (generation !== this.generationNumber || this.version === null) return;
    const bytes = sizeOf(id, rows);
    if (bytes === null) return;
    if (this.rowCount + rows.length > MEMO_ROWS || this.byteCount + bytes > MEMO_BYTES) this.forget();
    let bySql = this.rows.get(sql);
    if (!bySql) this.rows.set(sql, (bySql = new Map()));
    bySql.set(id, rows);
    this.rowCount += rows.length + 1;
    this.byteCount += bytes;
  }
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
