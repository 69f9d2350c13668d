import { DECISIONS } from '../core/decisions.ts';
import pg from 'pg';
import { MIGRATION_LOCK, MIGRATIONS, POSTGRES } from './migrations.ts';
import { CANARY_READ, NodeLock } from './node-lock.ts';
import type { RootKey } from '../core/sealing.ts';
import { CHANGED_NOTHING, SqlTx, type Executor } from './sql-tx.ts';
import type { ChainedAuditEvent } from '../audit/chain.ts';
import { SchemaMismatch, type AuditListener, type CommitListener, type ReadOptions, type Store, type StoreOptions, type Tx } from './store.ts';
import { commitMovingVersions, DATA_VERSION_READ, movedVersions, PostgresMemo, tablesNamedBy, type InFlight } from './postgres-memo.ts';
import { connectFailure, connectionLost } from './postgres-connection.ts';
import { Reconnection, StoreUnavailableError } from './unavailable.ts';
import { LastStatementBroken, UnitRun, currentUnit, unitOf } from './postgres-overlap.ts';
import { LOCK_WAIT_MS, MAX_ATTEMPTS, WriteQueue, lockWaitRefused, stallMs, retryable, runAgain, type GroupRun, type Outcome } from './postgres-group.ts';

type Row = Record<string, unknown>;

export interface PostgresOptions extends StoreOptions {
  /** Connections per pool (per event loop). */
  poolSize?: number;
  /**
   * The deadline a unit of work (read/write) is answered within, one way or the other (the
   * server passes --request-timeout): see Deadlines. Without it (tools: backup, audit, schema
   * migrations at start) statements are not bounded.
   */
  deadlineMs?: number;
  /** A serving node: holds the node lock (node-lock.ts) for as long as it runs; offline tools and store tests leave it off. */
  holdNodeLock?: boolean;
  /** The root key a serving node serves with: what its node lock checks the store against while it takes the lock again. */
  rootKey?: RootKey;
  /** Told what an operator should know of the schema at the start (another kmsd store later on the search_path: warnStoresElsewhere). */
  onNotice?: (message: string) => void;
}

/**
 * The bounds of a unit of work under a deadline D.
 * - PostgreSQL itself cancels a statement at 80% of D (statement_timeout, SET LOCAL in each
 *   transaction: no extra round trip, and it works through PgBouncer, which refuses startup
 *   options). That covers a wait for a lock held by another session; the cancelled session
 *   stays sound and goes back to the pool after a ROLLBACK. A statement that the client merely
 *   gave up on would go on waiting on the server and keep its connection slot: a few rounds of
 *   such requests took every slot of max_connections and locked every node out.
 * - A session left idle inside a transaction (its client discarded) is ended by the server after
 *   D (idle_in_transaction_session_timeout), which releases its locks.
 * - The client gives up on a statement at 90% of D only when the server did not answer at all,
 *   not even its own cancellation (a network that drops packets); the connection is then
 *   discarded. A new connection is waited for at most 5 s, and at most 80% of D.
 * So one unit of work that fails is answered 503 before D, with 10% of it left to answer.
 */
class Deadlines {
  readonly begin: (begin: string) => string;
  readonly clientMs: number | undefined;
  readonly connectMs: number;
  /** Sent once on each new connection before its first read; null: nothing to set. */
  readonly session: string | null = null;
  constructor(deadlineMs: number | undefined) {
    if (deadlineMs === undefined) {
      this.begin = (begin) => begin;
      this.clientMs = undefined;
      this.connectMs = CONNECT_TIMEOUT_MS;
      return;
    }
    const serverMs = Math.max(1, Math.floor(deadlineMs * 0.8));
    // One simple-protocol query, one round trip (the values are whole numbers, never input).
    const settings = `; SET LOCAL statement_timeout = ${serverMs}; SET LOCAL idle_in_transaction_session_timeout = ${Math.max(1, Math.floor(deadlineMs))}`;
    this.begin = (begin) => begin + settings;
    // Reads run outside transactions (postgres-memo.ts), where SET LOCAL does nothing: the
    // session's own timeout bounds them, set once per connection.
    this.session = `SET statement_timeout = ${serverMs}`;
    this.clientMs = Math.max(1, Math.floor(deadlineMs * 0.9));
    this.connectMs = Math.min(CONNECT_TIMEOUT_MS, serverMs);
  }
}

/** One statement of a unit of work, on its connection, within the client's bound (undefined: none). */
class Statements {
  readonly client: pg.PoolClient;
  private readonly timeoutMs: number | undefined;
  constructor(client: pg.PoolClient, timeoutMs: number | undefined) {
    this.client = client;
    this.timeoutMs = timeoutMs;
  }
  /** A lost connection or a database that cannot serve becomes a StoreUnavailableError (see postgres-connection.ts). */
  async query(text: string, values: unknown[], stage: 'work' | 'commit'): Promise<pg.QueryResult> {
    const started = Date.now();
    try {
      return await this.client.query({
        text, values, ...(values.length > 0 && { name: preparedName(text) }), ...(this.timeoutMs !== undefined && { query_timeout: this.timeoutMs }),
      } as pg.QueryConfig);
    } catch (error) {
      const timedOut = this.timeoutMs !== undefined && Date.now() - started >= this.timeoutMs;
      throw connectionLost(error, stage, timedOut) ?? error;
    }
  }
}

/**
 * A group's statements sent without waiting for their answers (the pool runs node-postgres in
 * pipeline mode): answered() waits for them (their answers came before those of anything sent
 * after them) and throws the first failure, as awaiting each would have.
 */
class SentAhead {
  private readonly statements: Statements;
  private pending: Array<{ sent: Promise<unknown>; before: number }> = [];
  constructor(statements: Statements) {
    this.statements = statements;
  }
  /** Sends `text` ahead of unit `before`'s statements (Infinity: ahead of the group's own). */
  send(text: string, before: number): void {
    const sent = this.statements.query(text, [], 'work');
    // Heard at once (never an unhandled rejection); answered() throws it.
    sent.catch(() => {});
    this.pending.push({ sent, before });
  }
  /** The unit the statement that failed was sent ahead of (answered threw its error). */
  failedBefore = 0;
  /** Waits for what was sent ahead of units up to `through`, and throws the first failure. */
  async answered(through = Infinity): Promise<void> {
    while (this.pending.length > 0 && this.pending[0].before <= through) {
      const { sent, before } = this.pending.shift() as { sent: Promise<unknown>; before: number };
      this.failedBefore = before;
      await sent;
    }
  }
}

/**
 * Statements with parameters are prepared once per connection under a name (pg parses and plans
 * a named statement on its first use on a connection, then only binds it): the name is the
 * statement's number in this process, so one text always has one name.
 */
const preparedNames = new Map<string, string>();
function preparedName(text: string): string | undefined {
  let name = preparedNames.get(text);
  // Texts built for a number of values (a page of key ids) stop being named past a bound: each
  // name is a plan kept by the server per connection.
  if (name === undefined && preparedNames.size < MAX_PREPARED) preparedNames.set(text, (name = `kmsd_${preparedNames.size + 1}`));
  return name;
}
const MAX_PREPARED = 1000;

class PgExecutor implements Executor {
  readonly forUpdate = ' FOR UPDATE';
  readonly writableCte = true;
  readonly advisoryLocks = true;
  private readonly statements: Statements;
  /** The tables the transaction's statements may have changed: their versions move with its COMMIT. */
  readonly changedTables = new Set<string>();
  constructor(statements: Statements) {
    this.statements = statements;
  }
  /**
   * Counts, for the unit that sends it (UnitRun.changes), every statement that may have changed
   * the transaction: every one that is not a SELECT (a plain INSERT, UPDATE or DELETE that matched
   * no row, and a WITH whose answer tells it changed nothing, excepted: mayHaveChanged), and every
   * one that failed (PostgreSQL then refuses the rest of the transaction). A group undoes a failed
   * unit by it (commitGroup).
   */
  private async query(sql: string, params: unknown[]): Promise<pg.QueryResult> {
    const unit = unitOf(this);
    unit?.beforeSend();
    if (!READS.test(sql)) for (const table of tablesNamedBy(sql)) this.changedTables.add(table);
    const answer = this.statements.query(sql, params, 'work');
    unit?.afterSend();
    try {
      const result = await answer;
      if (unit && mayHaveChanged(sql, result)) unit.changes++;
      return result;
    } catch (error) {
      if (unit) unit.changes++;
      throw error;
    }
  }
  async all(sql: string, params: unknown[]): Promise<Row[]> {
    return (await this.query(sql, params)).rows as Row[];
  }
  async run(sql: string, params: unknown[]): Promise<number> {
    return (await this.query(sql, params)).rowCount ?? 0;
  }
}

// A SELECT (FOR UPDATE or not) reads and locks; a WITH may hide a write, unless its answer tells
// (CHANGED_NOTHING); a plain INSERT, UPDATE or DELETE that matched no row changed nothing.
const READS = /^\s*SELECT\b/i;
const PLAIN_WRITE = /^\s*(INSERT|UPDATE|DELETE)\b/i;
function mayHaveChanged(sql: string, result: pg.QueryResult): boolean {
  if (READS.test(sql)) return false;
  if (PLAIN_WRITE.test(sql)) return result.rowCount !== 0;
  return !(CHANGED_NOTHING.get(sql)?.(result.rows as Row[]) ?? false);
}

/**
 * The executor of a read unit of work: each statement on its own (outside a transaction, as
 * READ COMMITTED gives each statement its own snapshot anyway), answered from the node's memo
 * when it holds the rows, and only then from a connection, taken at the first statement that
 * needs one.
 */
class MemoExecutor implements Executor {
  readonly forUpdate = ' FOR UPDATE';
  readonly writableCte = true;
  readonly advisoryLocks = true;
  private readonly memo: PostgresMemo;
  private readonly connection: () => Promise<Statements>;
  private readonly holdsConnection: () => boolean;
  private readonly joinWaitMs: number;
  /** `joinWaitMs`: how long a read waits for another request's answer before it sends its own. */
  constructor(memo: PostgresMemo, connection: () => Promise<Statements>, holdsConnection: () => boolean, joinWaitMs: number) {
    this.memo = memo;
    this.connection = connection;
    this.holdsConnection = holdsConnection;
    this.joinWaitMs = joinWaitMs;
  }
  async all(sql: string, params: unknown[]): Promise<Row[]> {
    const id = JSON.stringify(params);
    const hit = this.memo.get(sql, id);
    if (hit) return hit;
    const stamp = this.memo.stampOf(sql);
    // Not answered in time (a slow or dead connection, perhaps): this read sends its own, unless
    // another read that waited as long already did (its statement, sent later, is as good).
    // Twice at most: a request waits 2 × joinWaitMs before it reads on its own.
    let waited: Promise<Row[]> | undefined;
    for (let joins = 0; joins < 2; joins++) {
      const arriving = this.memo.arriving(sql, id, stamp, this.holdsConnection());
      if (!arriving || arriving === waited) break;
      const shared = await within(arriving, this.joinWaitMs);
      if (shared !== null) return shared;
      waited = arriving;
    }
    const flight: InFlight = { stamp, sent: false, answer: Promise.resolve([]) };
    flight.answer = (async () => {
      const statements = await this.connection();
      flight.sent = true;
      const rows = (await statements.query(sql, params, 'work')).rows as Row[];
      this.memo.put(sql, id, rows, stamp);
      return rows;
    })();
    this.memo.underWay(sql, id, flight);
    return flight.answer;
  }
  async run(): Promise<number> {
    throw new Error('a read unit of work wrote to the store');
  }
}

/**
 * `answer`'s rows, or null when it fails or is not there within `ms`: a read that waited for
 * another request's statement then sends its own (the failure, if the database is away, is then
 * its own, under its own deadline).
 */
async function within(answer: Promise<Row[]>, ms: number): Promise<Row[] | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(resolve, ms, null)));
  try {
    return await Promise.race([answer.catch(() => null), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * How long a request may wait for a connection: a new one on loopback takes milliseconds, so
 * this bounds a database that does not answer at all (a network that drops packets); the
 * request is then answered 503 within its deadline.
 */
const CONNECT_TIMEOUT_MS = 5000;
/** pg-pool's error for a request that waited in its queue past connectionTimeoutMillis. */
const QUEUE_TIMEOUT = 'timeout exceeded when trying to connect';

/**
 * The PostgreSQL driver, for several kmsd nodes over one database. Each group of writes
 * (postgres-group.ts) is one READ COMMITTED transaction; per-key rules hold because every writer of a key first locks
 * its row (SELECT ... FOR UPDATE), and reads see only committed data.
 */
export class PostgresStore implements Store {
  readonly driver = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly reconnection = new Reconnection();
  private readonly memo = new PostgresMemo();
  /** This node committed a write since its last version read. */
  private committedSinceRead = false;
  /** The node lock's losses at this node's last version read (node-lock.ts). */
  private lossesAtVersionRead = 0;
  onCommit: CommitListener | null = null;
  private readonly deadlines: Deadlines;
  private readonly onAudit: AuditListener | null;
  private readonly nodeLock: NodeLock | null;
  private readonly poolSize: number;
  /** A readiness probe's connection attempt is under way (checkout). */
  private readinessConnecting = false;
  private readonly writes: WriteQueue;
  /** How long a group starts new units for: it answers them well within their deadline. */
  private readonly groupBudgetMs: number;
  /** How long a read waits for the answer of the same statement another request sent (MemoExecutor). */
  private readonly joinWaitMs: number;
  private constructor(pool: pg.Pool, poolSize: number, deadlines: Deadlines, onAudit: AuditListener | null, nodeLock: NodeLock | null) {
    this.pool = pool;
    this.poolSize = poolSize;
    this.deadlines = deadlines;
    this.onAudit = onAudit;
    this.nodeLock = nodeLock;
    this.writes = new WriteQueue((run) => this.commitGroup(run), {
      maxInFlight: poolSize, stallMs: stallMs(deadlines.clientMs), maxWaitMs: deadlines.connectMs,
      waitedTooLong: () => new StoreUnavailableError('every PostgreSQL connection of this node stayed busy', 'connect'),
    });
    this.groupBudgetMs = deadlines.clientMs === undefined ? 1000 : Math.max(1, Math.floor(deadlines.clientMs / 4));
    // As long as a group's unit may take before it is taken for stalled (at most 200 ms).
    this.joinWaitMs = stallMs(deadlines.clientMs);
  }

  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresStore> {
    const poolSize = options.poolSize ?? 10;
    const deadlines = new Deadlines(options.deadlineMs);
    // A serving node holds the node lock (node-lock.ts) that offline tools check for; they and the store's tests do not.
    const nodeLock = options.holdNodeLock ? await NodeLock.hold(url, options.rootKey) : null;
    const pool = new pg.Pool({
      connectionString: url, max: poolSize, connectionTimeoutMillis: deadlines.connectMs,
      // Named for an administrator reading pg_stat_activity; offline tools rely on the node lock instead.
      application_name: 'kmsd',
      // A connection whose server vanished without a word is found out by TCP keepalive when
      // idle, and by the client's bound (Deadlines) when a query waits on it.
      keepAlive: true, keepAliveInitialDelayMillis: 10_000,
      // A query is sent at once, not after the answer of the one before (the server answers them
      // in order): a group sends its BEGIN, lock bounds and their lifting together with the
      // statement after them, and a unit's statements behind the last statement of the unit
      // before it (commitGroup). Reads await each answer before they send the next statement.
      pipeline: true,
    });
    // A connection that the server ends (restart, failover, pg_terminate_backend) or that breaks
    // reports an 'error' event: on an idle client through the pool, on a client a request holds
    // through the client itself. Either makes the node forget what it remembers (the database
    // may come back from a failover or a restore), and neither may go unheard (an unheard 'error' ends the process):
    // the pool drops a broken idle client; a request's query fails with its own error, and the
    // request discards the client (transaction below).
    pool.on('error', () => store?.memo.reset());
    pool.on('connect', (client) => client.on('error', () => store?.memo.reset()));
    // A new connection made (by any request) ends an outage; an idle one handed out proves nothing.
    let store: PostgresStore | undefined;
    pool.on('connect', () => store?.reconnection.succeeded());
    try {
      if (options.migrate === false) await checkSchema(pool);
      else await migrate(pool, options.onNotice);
    } catch (error) {
      await pool.end();
      await nodeLock?.release();
      throw error;
    }
    store = new PostgresStore(pool, poolSize, deadlines, options.onAudit ?? null, nodeLock);
    return store;
  }

  /**
   * A read: the data version (one statement, the request's one round trip), then rows from the
   * memo (postgres-memo.ts), statements only for rows it lacks. Later reads of the same request
   * skip the version read unless this node committed since, as SQLite's reader does.
   */
  async read<T>(work: (tx: Tx) => Promise<T>, options?: ReadOptions): Promise<T> {
    return this.attempts((attempt) => this.readUnit(work, attempt > 1 || !options?.sameRequest || this.committedSinceRead, options?.probe === true));
  }

  /** Writes wait for a group (postgres-group.ts), which commits them together. */
  async write<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.writes.submit(work);
  }

  /**
   * Runs a read, again from the start on a new connection after its connection died (the
   * database was restarted, or the session was ended by an administrator). Writes are run again
   * by their group (commitGroup): after a conflict, or a connection lost before COMMIT was sent;
   * never after a lost COMMIT, whose outcome is unknown: that is answered as the store being
   * unavailable.
   */
  private async attempts<T>(unit: (attempt: number) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await unit(attempt);
      } catch (error) {
        // A lost connection may be a failover or a restore: the database that answers next may
        // have gone back in time. Nothing read before is served unchecked.
        if (error instanceof StoreUnavailableError) this.memo.reset();
        const again = error instanceof StoreUnavailableError && error.rerun;
        if (attempt >= MAX_ATTEMPTS || !again) throw error;
      }
    }
  }

  /**
   * A pooled connection, or StoreUnavailableError at once while the database is known to be
   * away and this node has no idle connection left to try it with.
   */
  private async checkout(readiness = false): Promise<pg.PoolClient> {
    // An idle pooled connection is tried even while new ones fail (no free slot, a flapping
    // network): a sound one serves, a dead one fails by itself and is discarded.
    // A full pool opens no connection (the request waits for one to be released): nothing to
    // admit or probe there.
    const opens = !(this.pool.idleCount > 0 || this.pool.totalCount >= this.poolSize);
    // A readiness probe tries the database whatever the backoff says (ReadOptions.probe), one at
    // a time (an unauthenticated endpoint must not become a flood of connection attempts).
    const urgent = readiness && opens && !this.readinessConnecting;
    const probe = opens && !urgent ? this.reconnection.admit() : false;
    if (urgent) this.readinessConnecting = true;
    const started = Date.now();
    try {
      const client = await this.pool.connect();
      this.reconnection.probeEnded(probe);
      return client;
    } catch (error) {
      // pg-pool fails a request that waited in its queue for a busy connection with a bare
      // Error of its own message; anything else is a connection it tried to open (a socket's
      // code, a SQLSTATE, the failure as cause at its timeout, or a bare 'Connection terminated
      // unexpectedly' from a server or proxy that closed it at once). A wait in the queue says
      // the node is overloaded (or its connections wait on the database), nothing of new ones.
      const queued = (error as Error).message === QUEUE_TIMEOUT && (error as Error).cause === undefined && (error as { code?: unknown }).code === undefined;
      if (queued) {
        if (probe) this.reconnection.failed(probe, 'no free PostgreSQL connection');
        throw new StoreUnavailableError('every PostgreSQL connection of this node stayed busy', 'connect', { cause: error });
      }
      const failure = connectFailure(error, Date.now() - started >= this.deadlines.connectMs - 50);
      this.reconnection.failed(probe, failure.reason);
      throw failure;
    } finally {
      if (urgent) this.readinessConnecting = false;
    }
  }

  private async readUnit<T>(work: (tx: Tx) => Promise<T>, checkVersion: boolean, readiness: boolean): Promise<T> {
    this.nodeLock?.assertHeld();
    let client: pg.PoolClient | null = null;
    let statements: Statements | null = null;
    const connection = async (): Promise<Statements> => {
      if (statements) return statements;
      client = await this.checkout(readiness);
      statements = new Statements(client, this.deadlines.clientMs);
      if (this.deadlines.session !== null && !sessionSet.has(client)) {
        await statements.query(this.deadlines.session, [], 'work');
        sessionSet.add(client);
      }
      return statements;
    };
    // A client whose connection failed is discarded, never handed to another request.
    let broken = false;
    try {
      // Without its node lock, the node checks that no offline tool changed the store
      // (node-lock.ts) before the read's first statement (one more round trip, while fencing
      // only), and then asks for the data version even within a request: nothing remembered is
      // served unchecked (a rotation or a restore changes rows, and moves the version through
      // migration 10's triggers).
      const lock = this.nodeLock;
      if (lock?.fencing) {
        await this.fence(await connection(), lock);
        checkVersion = true;
      }
      // The lock was lost (and perhaps taken again) since the last version read: a tool may have
      // changed rows in the gap, even within this request.
      if (lock !== null && lock.losses !== this.lossesAtVersionRead) checkVersion = true;
      if (checkVersion) {
        this.committedSinceRead = false;
        const losses = lock?.losses ?? 0;
        // The lock was lost since the last version read: anything may have changed unseen.
        if (lock !== null && losses !== this.lossesAtVersionRead) this.memo.reset();
        const { rows } = await (await connection()).query(DATA_VERSION_READ, [], 'work');
        // No rows (deleted by hand): nothing is remembered until writes put them back.
        const versions = rows[0]?.versions;
        this.memo.observe(typeof versions === 'string' ? versions : null);
        this.lossesAtVersionRead = losses;
      }
      return await work(new SqlTx(new MemoExecutor(this.memo, connection, () => client !== null, this.joinWaitMs)));
    } catch (error) {
      if (error instanceof StoreUnavailableError && !error.sessionSound) broken = true;
      throw error;
    } finally {
      (client as pg.PoolClient | null)?.release(broken);
    }
  }

  /**
   * One group of writes (postgres-group.ts) in one transaction with one durable COMMIT. The node
   * lock fence, the data version's move and the COMMIT happen once for the group. A lost
   * connection or a failed COMMIT answers every unit that ran, as it answered a lone write:
   * nothing of the group was committed (or, after COMMIT was sent, nobody can tell), and no unit
   * is half-written.
   *
   * Units run one after the other with nothing between them: a unit that fails before it wrote
   * anything (a refusal judged on what it read, the common failure) answers its caller and the
   * transaction goes on. A unit that fails after it wrote, or whose statement failed (PostgreSQL
   * then refuses the rest of the transaction), cannot be undone alone: the group is rolled back
   * whole and every unit of it runs again, in a group that runs each unit under the SAVEPOINT
   * `unit` (a unit that fails is rolled back to it and answers its own caller, the others
   * commit). So no answer is given on what a rolled-back unit wrote, a group is undone at most
   * once for a unit, and a unit's savepoint (a round trip) is paid only after such a failure.
   *
   * Without savepoints, a unit that said its next statement is its last (Tx.lastStatementNext)
   * has the next unit started as soon as that statement is sent: the next unit's statements go
   * behind it, before its answer (postgres-overlap.ts). Their outcomes are still taken in unit
   * order, by the rules above: a unit whose statements changed nothing answers alone (the units
   * behind it ran on what the units before it left), any other failure undoes the group.
   */
  private async commitGroup(run: GroupRun): Promise<Outcome[]> {
    const group = run.units;
    const outcomes: Outcome[] = group.map(() => ({ again: true }));
    const lock = this.nodeLock;
    let client: pg.PoolClient;
    try {
      lock?.assertHeld();
      client = await this.checkout();
    } catch (error) {
      return group.map(() => ({ ok: false, error }));
    }
    const statements = new Statements(client, this.deadlines.clientMs);
    // One unit needs no savepoint: its failure rolls the transaction back.
    const several = group.length > 1;
    // Savepoints, when a unit of the group ran in a group that was undone (see above).
    const savepoints = several && group.some((unit) => unit.undone === true);
    // Units that began to run (the group's outcome is theirs when the group fails), units that ran to their end.
    let ran = 0;
    let done = 0;
    let boundedWaits = false;
    let broken = false;
    // Statements sent ahead (pg's pipeline mode: the pool's option): the BEGIN with the first
    // unit's statements, a lock bound with the next unit's, its lifting with the audit statement.
    // The server runs them in order, so they cost no round trip of their own; their answers come
    // before those of the statements sent after them, and are checked before the group goes on.
    // A failure there fails the group whole, as when each was waited for (and PostgreSQL refuses
    // every later statement of the transaction, so nothing runs past one that failed).
    const ahead = new SentAhead(statements);
    try {
      // kmsd.moves_version: this transaction moves the data versions of the tables it changes
      // itself, with its COMMIT (migration 12's trigger stays out).
      ahead.send(`${this.deadlines.begin('BEGIN')}; SET LOCAL kmsd.moves_version = on${savepoints ? '; SAVEPOINT unit' : ''}`, 0);
      const lossesAtBegin = lock?.losses ?? 0;
      const fencedAtBegin = lock?.fencing === true;
      // The records of the units that ran to their end, for onAudit (the --audit-log file): told
      // only just before the COMMIT, in unit order, so a unit rolled back to its savepoint and a
      // group lost before its COMMIT leave no line; only a failed COMMIT leaves lines never
      // committed, one run of them chained onto each other (the docs/audit.md check reports it).
      // The units stage their records; they are written together after the last unit (one
      // statement for the group, not one a unit: SqlTx.appendStagedAudit).
      const records: ChainedAuditEvent[] = [];
      const executor = new PgExecutor(statements);
      const tx = new SqlTx(executor, this.onAudit === null ? null : (record) => records.push(record), {
        stageAudit: true, keepLockedKeys: true,
        unitOf: () => unitOf(executor)?.index ?? 0,
        onLastStatementNext: () => unitOf(executor)?.declareLast(),
      });
      const started = Date.now();
      let previousDone = false;
      // Units started and not answered yet, in order: more than one while their statements
      // overlap (postgres-overlap.ts), which only a group without savepoints lets them do.
      const pending: Array<{ unit: UnitRun; settled: Promise<{ value: unknown } | { error: unknown }> }> = [];
      const start = (i: number) => {
        const unit = new UnitRun(i, executor);
        for (const earlier of pending) earlier.unit.overtaken = true;
        const settled = currentUnit.run(unit, () => run.run(i, tx)).then((value) => ({ value }), (error: unknown) => ({ error }));
        pending.push({ unit, settled });
        return { unit, settled };
      };
      /**
       * Takes the outcome of every unit started, in unit order: 'on' when the group goes on,
       * 'stop' when it commits what it ran, or the outcomes the group answers with now.
       */
      const answerStarted = async (): Promise<'on' | 'stop' | Outcome[]> => {
        while (pending.length > 0) {
          const { unit, settled } = pending[0];
          const i = unit.index;
          const answer = await settled;
          // What was sent ahead of the unit answered before its statements did (a unit that sent
          // none waits for it here). A failure there is the group's, and the units from the one
          // it went with did not run: PostgreSQL refused their statements.
          try {
            await ahead.answered(i);
          } catch (error) {
            ran = ahead.failedBefore;
            throw error;
          }
          pending.shift();
          if (!('error' in answer)) {
            outcomes[i] = { ok: true, value: answer.value };
            done++;
            previousDone = true;
            continue;
          }
          const error = answer.error;
          // Its records go with it.
          tx.dropStagedAudit(i);
          // The connection is gone: the group fails whole (below), once no unit of it runs.
          if (error instanceof StoreUnavailableError && !error.sessionSound) {
            await Promise.allSettled(pending.map((p) => p.settled));
            throw error;
          }
          // A cancelled statement, as any outage: nothing remembered is served unchecked.
          if (error instanceof StoreUnavailableError && !(boundedWaits && lockWaitRefused(error))) this.memo.reset();
          if (!several) {
            // An answer of the database (a refusal, a cancelled statement): the session is sound.
            await statements.query('ROLLBACK', [], 'work').catch(() => (broken = true));
            return [retryable(error) ? runAgain(group[i], error) : { ok: false, error }];
          }
          if (!savepoints) {
            if (unit.changes === 0) {
              // It wrote nothing and no statement of it failed: the transaction is as the units
              // before it left it, and the units behind it ran on that. A unit that broke its
              // word (a statement after its last, never sent) runs again, each unit of its next
              // group alone; any other answers alone.
              if (error instanceof LastStatementBroken) group[i].undone = true;
              outcomes[i] = error instanceof LastStatementBroken ? { again: true } : { ok: false, error };
              continue;
            }
            // Only the whole group can be undone: every unit runs again, under savepoints. This
            // unit too, unless the database refused it for a reason it is answered (or retried) for
            // as before; a refusal of kmsd's own is judged again on what will be committed.
            await Promise.allSettled(pending.map((p) => p.settled));
            pending.length = 0;
            await statements.query('ROLLBACK', [], 'work').catch(() => (broken = true));
            for (const unit of group) unit.undone = true;
            // Refused by the lock bound: first in the next group, where it may wait (as under savepoints).
            const own: Outcome = boundedWaits && lockWaitRefused(error) ? { again: true, first: true }
              : retryable(error) ? runAgain(group[i], error)
                : error instanceof StoreUnavailableError ? { ok: false, error } : { again: true };
            return group.map((_, j) => (j === i ? own : { again: true }));
          }
          await statements.query('ROLLBACK TO SAVEPOINT unit', [], 'work');
          tx.forgetLockedKeys();
          if (boundedWaits && lockWaitRefused(error)) {
            outcomes[i] = { again: true, first: true };
            return 'stop';
          }
          outcomes[i] = retryable(error) ? runAgain(group[i], error) : { ok: false, error };
          // A statement cancelled at its timeout: the database is slow; the rest wait for the next group.
          if (error instanceof StoreUnavailableError) return 'stop';
        }
        return 'on';
      };
      try {
        for (let i = 0; i < run.end; i++) {
          if (i > 0) {
            // Past its time, the group commits what it ran: the rest wait for the next one.
            if (Date.now() - started >= this.groupBudgetMs) break;
            // A unit ran to its end, or (without savepoints) a unit ran at all, even one refused
            // before it wrote, whose row locks stay: the group holds locks, and from now on its
            // units may not wait for one (postgres-group.ts). SET LOCAL outside the savepoint,
            // which would undo it.
            const bound = (done > 0 || !savepoints) && !boundedWaits ? `; SET LOCAL lock_timeout = ${LOCK_WAIT_MS}` : '';
            // After a failure, ROLLBACK TO left the savepoint standing for the next unit. Sent
            // ahead of the unit's statements; one that fails fails the group whole.
            const between = savepoints && previousDone ? `RELEASE SAVEPOINT unit${bound}; SAVEPOINT unit` : bound.slice(2);
            if (between !== '') ahead.send(between, i);
            if (bound !== '') boundedWaits = true;
          }
          ran = i + 1;
          previousDone = false;
          const begun = start(i);
          // Without savepoints, the next unit starts as soon as this one has sent its last
          // statement (Tx.lastStatementNext), its statements behind that one; else when it answered.
          // Not behind the first unit: its statements may wait for a row held elsewhere (the lock
          // bound comes after it), and a stall hands back only units that have not begun.
          const overlap = !savepoints && boundedWaits && i + 1 < run.end;
          if (overlap && (await Promise.race([begun.unit.lastStatementSent, begun.settled.then(() => false)]))) continue;
          const next = await answerStarted();
          if (next === 'stop') break;
          if (next !== 'on') return next;
        }
        // Units still running when the group ran out of time.
        const last = await answerStarted();
        if (last !== 'on' && last !== 'stop') return last;
      } finally {
        // No unit of the group may run on once it ends: its connection goes back to the pool.
        await Promise.allSettled(pending.map((p) => p.settled));
      }
      if (done === 0) {
        await statements.query('ROLLBACK', [], 'work').catch(() => (broken = true));
        return outcomes;
      }
      // The group's audit records, and then the check value: before the version moves (the UPDATE
      // of data_version and the COMMIT go together, after the check). Both wait as a lone write's
      // statements would, not under the group's lock bound (a refusal there would fail the whole
      // group; the wait for the chain's head is a wait for a group that is committing): the bound
      // is lifted first.
      let waitsBounded = boundedWaits;
      const unbounded = () => {
        if (waitsBounded) ahead.send('SET LOCAL lock_timeout = 0', Infinity);
        waitsBounded = false;
      };
      if (tx.stagedAudit > 0) {
        unbounded();
        // Both awaited: the lifting's failure (answered first) is the one thrown.
        await Promise.all([ahead.answered(), tx.appendStagedAudit()]);
      }
      if (lock !== null && (fencedAtBegin || lock.fencing || lock.losses !== lossesAtBegin)) {
        unbounded();
        await ahead.answered();
        await this.fence(statements, lock);
      }
      // One that cannot be written (a full disk) fails the group whole, as it failed a lone write:
      // a later unit's record chains onto an earlier one's, none can be committed without it.
      for (const record of records) this.onAudit?.(record);
      const commitStarted = this.onCommit ? process.hrtime.bigint() : null;
      // Whatever the outcome, what this node remembers may be stale: a later read of the same
      // request must look again (and must see this write).
      this.committedSinceRead = true;
      // The version rows are taken last, with no bound on the wait: their holder is committing.
      // Rows read while the COMMIT is under way are remembered at most until its answer, which
      // forgets the tables it changed (postgres-memo.ts: by generation); a lost answer forgets all.
      const answers = await statements.query(`${waitsBounded ? 'SET LOCAL lock_timeout = 0; ' : ''}${commitMovingVersions([...executor.changedTables, ...this.memo.tablesWithoutVersion])}`, [], 'commit');
      this.memo.committed(movedVersions(versionRows(answers)));
      if (commitStarted !== null) this.onCommit?.(Number(process.hrtime.bigint() - commitStarted) / 1e9, done);
      return outcomes;
    } catch (error) {
      // The group failed whole: nothing of it was committed (or, once COMMIT was sent, nobody can tell).
      if (error instanceof StoreUnavailableError) {
        // A lost connection may be a failover or a restore: nothing read before is served unchecked.
        this.memo.reset();
        broken = true;
      } else {
        // A refusal (the node lock fence, the version's upsert): the transaction is still open.
        await statements.query('ROLLBACK', [], 'work').catch(() => (broken = true));
      }
      // Units that ran get the group's outcome: run again (a connection lost before COMMIT, a
      // conflict) or the error. Units that did not run wait for the next group, unless the
      // database is away. A group that failed before any unit ran (its BEGIN, on a pooled
      // connection that had died) counts a run for each of its units: every run of a group
      // counts for someone, so a write runs MAX_ATTEMPTS times at most, whatever fails.
      const again = error instanceof StoreUnavailableError ? error.rerun : retryable(error);
      return group.map((unit, i) =>
        i < ran || ran === 0 ? (again ? runAgain(unit, error) : { ok: false, error })
          : error instanceof StoreUnavailableError && !again ? { ok: false, error } : { again: true });
    } finally {
      client.release(broken);
    }
  }

  /** Reads the root key check value (in a write's transaction, or before a read's first statement); NodeLockLost if an offline tool changed it. */
  private async fence(statements: Statements, lock: NodeLock): Promise<void> {
    const { rows } = await statements.query(CANARY_READ.text, CANARY_READ.values, 'work');
    lock.checkFence(rows.length === 0 ? null : String(rows[0].value));
  }

  async close(): Promise<void> {
    await this.writes.idle();
    await this.pool.end();
    await this.nodeLock?.release();
  }
}

/** Connections whose session settings (Deadlines.session) are set. */
const sessionSet = new WeakSet<pg.PoolClient>();

/** The rows of a commitMovingVersions' upsert (each table it moved), or undefined when they cannot be told. */
function versionRows(answers: pg.QueryResult | pg.QueryResult[]): Row[] | undefined {
  return Array.isArray(answers) ? answers.find((answer) => answer.command === 'INSERT')?.rows : undefined;
}

/** Refuses a schema other than this kmsd's (a store opened without migrating, perhaps by a read-only role). */
async function checkSchema(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query(`SELECT to_regclass('schema_migrations') IS NOT NULL AS present`);
  const version = rows[0].present ? Number((await pool.query('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations')).rows[0].v) : 0;
  if (version !== MIGRATIONS.length) throw new SchemaMismatch(version, MIGRATIONS.length);
}

/**
 * Whether the schema `n` (a pg_namespace row) holds a kmsd store: kmsd's own tables, not just a
 * schema_migrations (other tools' name too). `keys` among them: warnStoresElsewhere counts it.
 */
const HOLDS_KMSD_STORE = `(SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind = 'r'
        AND c.relname IN ('schema_migrations', 'key_materials', 'audit_chain', 'keys')) = 4`;

/**
 * Refuses to migrate when a kmsd store lies in a schema of the search_path other than the one new
 * tables go to (the first that exists: a schema named after the role, created after the tables
 * were made in public, comes first under the default "$user", public). Migrating would start an
 * empty store there, and the keys in the other schema would no longer be seen. A kmsd store is a
 * schema with kmsd's own tables (schema_migrations alone is also other tools' name).
 */
async function refuseStoreElsewhere(client: pg.PoolClient): Promise<void> {
  // format() refuses a null identifier: the commands are made only when both schemas are known.
  const { rows } = await client.query(`SELECT current_schema() AS current, current_setting('search_path') AS path, found,
      CASE WHEN found IS NOT NULL AND current_schema() IS NOT NULL THEN format('ALTER ROLE %I IN DATABASE %I SET search_path = %I', current_user, current_database(), found) END AS use_found,
      CASE WHEN found IS NOT NULL AND current_schema() IS NOT NULL THEN format('ALTER ROLE %I IN DATABASE %I SET search_path = %I', current_user, current_database(), current_schema()) END AS use_current
    FROM (SELECT (SELECT n.nspname FROM pg_namespace n WHERE n.nspname = ANY (current_schemas(false))
      AND ${HOLDS_KMSD_STORE}
      ORDER BY array_position(current_schemas(false), n.nspname) LIMIT 1) AS found) AS store`);
  const { current, path, found, use_found: useFound, use_current: useCurrent } = rows[0] as Record<string, string | null>;
  if (found === null || found === current) return;
  throw new Error(`a kmsd store is in schema ${found}, but new tables would go to schema ${current} (the search_path ${path} names it first): ` +
    `kmsd would start a new, empty store there. To serve the store in ${found}: ${useFound} (or drop schema ${current} if it is empty). ` +
    `To start a separate store in ${current}: ${useCurrent}`);
}

/**
 * Another kmsd store later on the search_path than the one served, told once at the start: an
 * older kmsd (before refuseStoreElsewhere) started an empty store in a schema named after its
 * role, made after the keys' store in public, and served that one since; the keys in the later
 * schema are out of this node's sight. The message counts each store's keys and says how to serve
 * the other one. Not refused: an operator may keep two stores and a path naming both.
 */
async function warnStoresElsewhere(client: pg.PoolClient, notice: (message: string) => void): Promise<void> {
  // Only stores this role can read (another role's own store, unreadable to this one, is not
  // one it lost sight of). A search_path given in the connection URL (source 'client') outranks
  // the role's: the advice then names the URL.
  const { rows } = await client.query(`SELECT quote_ident(n.nspname) AS schema, quote_ident(current_schema()) AS current,
      current_setting('search_path') AS path, (SELECT source FROM pg_settings WHERE name = 'search_path') AS source,
      format('ALTER ROLE %I IN DATABASE %I SET search_path = %I', current_user, current_database(), n.nspname) AS use_it
    FROM pg_namespace n WHERE n.nspname = ANY (current_schemas(false)) AND n.nspname <> current_schema()
      AND ${HOLDS_KMSD_STORE}
      AND has_table_privilege(format('%I.keys', n.nspname), 'SELECT')
    ORDER BY array_position(current_schemas(false), n.nspname)`);
  if (rows.length === 0) return;
  // Each count in a transaction of its own, bounded: a lock on the other store's keys (VACUUM
  // FULL, an ALTER TABLE under way) must not hold the start, and a refused count is told as such.
  const keysIn = async (quoted: string): Promise<string> => {
    try {
      await client.query('BEGIN READ ONLY');
      await client.query("SET LOCAL lock_timeout = '1s'");
      await client.query("SET LOCAL statement_timeout = '2s'");
      return `${Number((await client.query(`SELECT count(*) AS n FROM ${quoted}.keys`)).rows[0].n)} keys`;
    } catch (error) {
      return `keys not counted: ${(error as Error).message}`;
    } finally {
      await client.query('ROLLBACK');
    }
  };
  const current = rows[0].current as string;
  const served = await keysIn(current);
  for (const other of rows) {
    const serveIt = other.source === 'client'
      ? `give the connection URL options=-c search_path=${other.schema} instead of ${other.path}`
      : other.use_it;
    notice(`this node serves the kmsd store in schema ${current} (${served}); schema ${other.schema}, later on the search_path ${other.path}, ` +
      `holds another kmsd store (${await keysIn(other.schema)}), out of this node's sight. An older kmsd may have started the store in ${current} ` +
      `when that schema was created after ${other.schema}'s. To serve the store in ${other.schema}, with every node stopped: ${serveIt}; then start them ` +
      `(and drop schema ${current} if nothing in it is needed)`);
  }
}

async function migrate(pool: pg.Pool, notice?: (message: string) => void): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await refuseStoreElsewhere(client);
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
    // After the migration lock: the other nodes' starts do not wait for it.
    if (notice && DECISIONS.storeElsewhereOnSearchPath.storeServedAndLater === 'warn') await warnStoresElsewhere(client, notice);
  } finally {
    client.release();
  }
}
