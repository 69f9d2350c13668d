type Row = Record<string, unknown>;

/** The one-row table whose number every committed write moves (migration 10). */
export const DATA_VERSION_READ = 'SELECT version FROM data_version WHERE id = 1';
/**
 * Sent with COMMIT in one simple-protocol query (one round trip): the version moves in the
 * transaction it describes, so a reader sees the new number exactly when it sees the change.
 */
export const COMMIT_MOVING_VERSION = 'UPDATE data_version SET version = version + 1 WHERE id = 1 RETURNING version; COMMIT';

/** How many rows a node remembers at most (a page of 100 grants counts 100), as SQLite's reader. */
const MEMO_ROWS = 20_000;

/**
 * What a PostgreSQL node remembers of the rows its read units of work read, and the data
 * version they were read at: the answer to "a key's row and grants change rarely, yet must
 * count on the very next request on every node" with one round trip per request.
 *
 * Every write transaction of every node moves data_version's number in the same transaction
 * (COMMIT_MOVING_VERSION). A read unit of work first reads that number (one statement); if it
 * is the number the rows were remembered at, no write committed anywhere since, and the rows are
 * still what the database holds. Any other number (higher: someone wrote; lower: a restored
 * database) forgets every row. So a grant retired on node A, whose 200 went out after its
 * COMMIT, is unknown to node B's very next request: that request's version read starts after
 * the commit and sees the moved number.
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

  /** The generation a statement is sent in (pass it back to remember its answer). */
  get generation(): number {
    return this.generationNumber;
  }

  /** A version read's answer: forgets everything unless it is the version the rows stand at. */
  observe(version: string): void {
    if (version === this.version) return;
    this.forget();
    this.version = version;
  }

  /** This node committed a write (its own version read may be stale by now): start over from `version`. */
  committed(version: string | null): void {
    this.forget();
    this.version = version;
  }

  forget(): void {
    this.generationNumber++;
    this.rows.clear();
    this.rowCount = 0;
  }

  get(sql: string, id: string): Row[] | undefined {
    return this.rows.get(sql)?.get(id);
  }

  /** Remembers the answer of a statement sent in `generation`, unless the memo was forgotten since. */
  put(sql: string, id: string, rows: Row[], generation: number): void {
    if (generation !== this.generationNumber) return;
    if (this.rowCount + rows.length > MEMO_ROWS) this.forget();
    let bySql = this.rows.get(sql);
    if (!bySql) this.rows.set(sql, (bySql = new Map()));
    bySql.set(id, rows);
    this.rowCount += rows.length + 1;
  }
}
