import pg from 'pg';
import { MIGRATIONS, POSTGRES } from './migrations.ts';
import { SqlTx, type Executor } from './sql-tx.ts';
import { SchemaMismatch, type AuditListener, type CommitListener, type Store, type StoreOptions, type Tx } from './store.ts';

type Row = Record<string, unknown>;

class PgExecutor implements Executor {
  readonly forUpdate = ' FOR UPDATE';
  readonly writableCte = true;
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
/** Any constant shared by every kmsd node: the advisory lock that serialises migrations. */
const MIGRATION_LOCK = 0x6b6d7364;

/**
 * The PostgreSQL driver, for several kmsd nodes over one database. Each unit of work is one
 * READ COMMITTED transaction; per-key rules hold because every writer of a key first locks
 * its row (SELECT ... FOR UPDATE), and reads see only committed data.
 */
export class PostgresStore implements Store {
  readonly driver = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly onAudit: AuditListener | null;
  onCommit: CommitListener | null = null;
  private constructor(pool: pg.Pool, onAudit: AuditListener | null) {
    this.pool = pool;
    this.onAudit = onAudit;
  }

  static async open(url: string, options: StoreOptions = {}, poolSize = 10): Promise<PostgresStore> {
    const pool = new pg.Pool({ connectionString: url, max: poolSize });
    // An idle pooled connection that the server ends (restart, failover, admin) reports here;
    // without a listener that would crash the node. The pool drops it, the next query gets a
    // fresh connection, and a query in flight fails with its own error.
    pool.on('error', () => {});
    try {
      if (options.migrate === false) await checkSchema(pool);
      else await migrate(pool);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresStore(pool, options.onAudit ?? null);
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
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query(begin);
      try {
        const result = await work(new SqlTx(new PgExecutor(client), begin === 'BEGIN' ? this.onAudit : null));
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
  }
}

/** Refuses a schema other than this kmsd's (a store opened without migrating, perhaps by a read-only role). */
async function checkSchema(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query(`SELECT to_regclass('schema_migrations') IS NOT NULL AS present`);
  const version = rows[0].present ? Number((await pool.query('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations')).rows[0].v) : 0;
  if (version !== MIGRATIONS.length) throw new SchemaMismatch(version, MIGRATIONS.length);
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
