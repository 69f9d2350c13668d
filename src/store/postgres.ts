import pg from 'pg';
import { MIGRATION_LOCK, MIGRATIONS, POSTGRES } from './migrations.ts';
import { NodeLock } from './node-lock.ts';
import { SqlTx, type Executor } from './sql-tx.ts';
import type { CommitListener, Store, Tx } from './store.ts';

type Row = Record<string, unknown>;

class PgExecutor implements Executor {
  readonly forUpdate = ' FOR UPDATE';
  private readonly client: pg.PoolClient;
  constructor(client: pg.PoolClient) {
    this.client = client;
  }
  async all(sql: string, params: unknown[]): Promise<Row[]> {
    return (await this.client.query({ text: sql, values: params })).rows as Row[];
  }
  async run(sql: string, params: unknown[]): Promise<number> {
    return (await this.client.query({ text: sql, values: params })).rowCount ?? 0;
  }
}

// Conflicts a unit of work is retried for, from the start, in a new transaction:
// serialization failure, deadlock, and a unique key taken by a concurrent writer (the
// retry then sees the winner and answers as the rules say, e.g. KMS.1104).
const RETRYABLE = new Set(['40001', '40P01', '23505']);
const MAX_ATTEMPTS = 5;

/**
 * The PostgreSQL driver, for several kmsd nodes over one database. Each unit of work is one
 * READ COMMITTED transaction; per-key rules hold because every writer of a key first locks
 * its row (SELECT ... FOR UPDATE), and reads see only committed data.
 */
export class PostgresStore implements Store {
  readonly driver = 'postgres' as const;
  private readonly pool: pg.Pool;
  onCommit: CommitListener | null = null;
  private readonly nodeLock: NodeLock | null;
  private constructor(pool: pg.Pool, nodeLock: NodeLock | null) {
    this.pool = pool;
    this.nodeLock = nodeLock;
  }

  /** holdNodeLock: a serving node (node-lock.ts); offline tools and tests of the store leave it off. */
  static async open(url: string, poolSize = 10, options: { holdNodeLock?: boolean } = {}): Promise<PostgresStore> {
    const nodeLock = options.holdNodeLock ? await NodeLock.hold(url) : null;
    // Named for an administrator reading pg_stat_activity; offline tools rely on the node lock instead (node-lock.ts).
    const pool = new pg.Pool({ connectionString: url, max: poolSize, application_name: 'kmsd' });
    // An idle pooled connection that the server ends (restart, failover, admin) reports here;
    // without a listener that would crash the node. The pool drops it, the next query gets a
    // fresh connection, and a query in flight fails with its own error.
    pool.on('error', () => {});
    try {
      await migrate(pool);
    } catch (error) {
      await pool.end();
      await nodeLock?.release();
      throw error;
    }
    return new PostgresStore(pool, nodeLock);
  }

  async read<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.transaction('BEGIN READ ONLY', work);
  }

  async write<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transaction('BEGIN', work);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (attempt >= MAX_ATTEMPTS || code === undefined || !RETRYABLE.has(code)) throw error;
      }
    }
  }

  private async transaction<T>(begin: string, work: (tx: Tx) => Promise<T>): Promise<T> {
    this.nodeLock?.assertHeld();
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query(begin);
      try {
        const result = await work(new SqlTx(new PgExecutor(client)));
        const started = this.onCommit && begin === 'BEGIN' ? process.hrtime.bigint() : null;
        await client.query('COMMIT');
        if (started !== null) this.onCommit?.(Number(process.hrtime.bigint() - started) / 1e9, 1);
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        throw error;
      }
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
    await this.nodeLock?.release();
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
