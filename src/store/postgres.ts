import pg from 'pg';
import { MIGRATION_LOCK, MIGRATIONS, POSTGRES } from './migrations.ts';
import { SqlTx, type Executor } from './sql-tx.ts';
import type { AuditListener, CommitListener, Store, StoreOptions, Tx } from './store.ts';
import { connectFailure, connectionLost } from './postgres-connection.ts';
import { Reconnection, StoreUnavailableError } from './unavailable.ts';

type Row = Record<string, unknown>;

export interface PostgresOptions extends StoreOptions {
  /** Connections per pool (per event loop). */
  poolSize?: number;
  /**
   * A statement of a unit of work (read/write) that has not answered within this is failed and
   * its connection discarded. Schema migrations at start are not bounded by it.
   */
  queryTimeoutMs?: number;
}

/** One statement of a unit of work, on its connection, within its timeout (undefined: none). */
class Statements {
  readonly client: pg.PoolClient;
  private readonly timeoutMs: number | undefined;
  constructor(client: pg.PoolClient, timeoutMs: number | undefined) {
    this.client = client;
    this.timeoutMs = timeoutMs;
  }
  /** A lost connection becomes a StoreUnavailableError (see postgres-connection.ts). */
  async query(text: string, values: unknown[], stage: 'work' | 'commit'): Promise<pg.QueryResult> {
    const started = Date.now();
    try {
      return await this.client.query({ text, values, ...(this.timeoutMs !== undefined && { query_timeout: this.timeoutMs }) } as pg.QueryConfig);
    } catch (error) {
      const timedOut = this.timeoutMs !== undefined && Date.now() - started >= this.timeoutMs;
      throw connectionLost(error, stage, timedOut) ?? error;
    }
  }
}

class PgExecutor implements Executor {
  readonly forUpdate = ' FOR UPDATE';
  private readonly statements: Statements;
  constructor(statements: Statements) {
    this.statements = statements;
  }
  async all(sql: string, params: unknown[]): Promise<Row[]> {
    return (await this.statements.query(sql, params, 'work')).rows as Row[];
  }
  async run(sql: string, params: unknown[]): Promise<number> {
    return (await this.statements.query(sql, params, 'work')).rowCount ?? 0;
  }
}

// Conflicts a unit of work is retried for, from the start, in a new transaction:
// serialization failure, deadlock, and a unique key taken by a concurrent writer (the
// retry then sees the winner and answers as the rules say, e.g. KMS.1104).
const RETRYABLE = new Set(['40001', '40P01', '23505']);
const MAX_ATTEMPTS = 5;
/**
 * How long a request may wait for a connection: a new one on loopback takes milliseconds, so
 * this bounds a database that does not answer at all (a network that drops packets); the
 * request is then answered 503 within its deadline.
 */
const CONNECT_TIMEOUT_MS = 5000;

/**
 * The PostgreSQL driver, for several kmsd nodes over one database. Each unit of work is one
 * READ COMMITTED transaction; per-key rules hold because every writer of a key first locks
 * its row (SELECT ... FOR UPDATE), and reads see only committed data.
 */
export class PostgresStore implements Store {
  readonly driver = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly poolSize: number;
  private readonly reconnection = new Reconnection();
  onCommit: CommitListener | null = null;
  private readonly queryTimeoutMs: number | undefined;
  private readonly onAudit: AuditListener | null;
  private constructor(pool: pg.Pool, poolSize: number, queryTimeoutMs: number | undefined, onAudit: AuditListener | null) {
    this.pool = pool;
    this.poolSize = poolSize;
    this.queryTimeoutMs = queryTimeoutMs;
    this.onAudit = onAudit;
  }

  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresStore> {
    const poolSize = options.poolSize ?? 10;
    const pool = new pg.Pool({
      connectionString: url, max: poolSize, connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      // Named, so that offline tools (rotate-root-key) can tell that a node is still running.
      application_name: 'kmsd',
      // A connection whose server vanished without a word is found out by TCP keepalive when
      // idle, and by the statement timeout (queryTimeoutMs) when a query waits on it.
      keepAlive: true, keepAliveInitialDelayMillis: 10_000,
    });
    // A connection that the server ends (restart, failover, pg_terminate_backend) or that breaks
    // reports an 'error' event: on an idle client through the pool, on a client a request holds
    // through the client itself. Neither may go unheard (an unheard 'error' ends the process):
    // the pool drops a broken idle client; a request's query fails with its own error, and the
    // request discards the client (transaction below).
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    try {
      await migrate(pool);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresStore(pool, poolSize, options.queryTimeoutMs, options.onAudit ?? null);
  }

  async read<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.attempts('BEGIN READ ONLY', work);
  }

  async write<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.attempts('BEGIN', work);
  }

  /**
   * Runs the unit of work, again from the start in a new transaction after a conflict, or after
   * its connection died before COMMIT was sent (nothing of it was committed: the database was
   * restarted, or the session was ended by an administrator). Never after a lost COMMIT, whose
   * outcome is unknown: that is answered as the store being unavailable.
   */
  private async attempts<T>(begin: string, work: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transaction(begin, work);
      } catch (error) {
        const again = error instanceof StoreUnavailableError
          ? error.rerun
          : begin === 'BEGIN' && RETRYABLE.has((error as { code?: string }).code ?? '');
        if (attempt >= MAX_ATTEMPTS || !again) throw error;
      }
    }
  }

  /** A pooled connection, or StoreUnavailableError at once while the database is known to be away. */
  private async checkout(): Promise<pg.PoolClient> {
    const probe = this.reconnection.admit();
    // Every connection of this node busy: a wait that times out says the node is overloaded,
    // not that the database is gone.
    const queued = this.pool.idleCount === 0 && this.pool.totalCount >= this.poolSize;
    const started = Date.now();
    try {
      const client = await this.pool.connect();
      this.reconnection.succeeded();
      return client;
    } catch (error) {
      const timedOut = Date.now() - started >= CONNECT_TIMEOUT_MS - 50;
      if (queued && timedOut) {
        if (probe) this.reconnection.failed(probe, 'no free PostgreSQL connection');
        throw new StoreUnavailableError('every PostgreSQL connection of this node stayed busy', 'connect', { cause: error });
      }
      const failure = connectFailure(error, timedOut);
      this.reconnection.failed(probe, failure.reason);
      throw failure;
    }
  }

  private async transaction<T>(begin: string, work: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await this.checkout();
    // A client whose connection failed is discarded, never handed to another request.
    let broken = false;
    try {
      const statements = new Statements(client, this.queryTimeoutMs);
      await statements.query(begin, [], 'work');
      let result: T;
      try {
        result = await work(new SqlTx(new PgExecutor(statements), begin === 'BEGIN' ? this.onAudit : null));
      } catch (error) {
        if (error instanceof StoreUnavailableError) throw error;
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw error;
      }
      const started = this.onCommit && begin === 'BEGIN' ? process.hrtime.bigint() : null;
      await statements.query('COMMIT', [], 'commit');
      if (started !== null) this.onCommit?.(Number(process.hrtime.bigint() - started) / 1e9, 1);
      return result;
    } catch (error) {
      if (error instanceof StoreUnavailableError) broken = true;
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
      const { rows } = await client.query('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations');
      for (let version = Number(rows[0].v) + 1; version <= MIGRATIONS.length; version++) {
        await client.query('BEGIN');
        try {
          for (const sql of MIGRATIONS[version - 1](POSTGRES)) await client.query(sql);
          await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, Date.now()]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}
