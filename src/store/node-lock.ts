import { StoreUnavailableError } from './unavailable.ts';
import pg from 'pg';
import { CANARY_CONTEXT, type RootKey } from '../core/sealing.ts';

/**
 * The lock that tells offline tools a kmsd node serves a PostgreSQL database. Every serving
 * node holds it SHARED, at session level, on one connection of its own that no pool ever
 * closes; rotate-root-key and restore take it EXCLUSIVE (takeNodeLockExclusive) and refuse
 * when they cannot. A lock, unlike counting connections by name, sees idle nodes (their pools
 * closed every connection) and nodes whose URL names them otherwise (?application_name=).
 *
 * Advisory locks are per database, so nodes of other databases on the same server do not count.
 */
export const NODE_LOCK = 0x6b6d736e; // "kmsn"

/** How often the node's lock connection is used (a keepalive, and how soon a lost one is noticed). */
const HEARTBEAT_MS = 5_000;
/** A heartbeat the database does not answer within this ends the lock's connection (a silent network). */
const HEARTBEAT_TIMEOUT_MS = 2_000;
const RECONNECT_MS = 1_000;
const RECONNECT_QUERY_MS = 10_000;

/** The node cannot vouch for the store without its lock: answered as any store outage (503 KMS.0104). */
export class NodeLockLost extends StoreUnavailableError {
  constructor(reason: string) {
    super(reason, 'connect');
  }
}

/** The refusal of an offline tool that would change a PostgreSQL store while kmsd nodes serve it. */
export const NODES_SERVING = (then: string): string => `kmsd nodes are serving this database (they hold its node lock): stop every node first, then ${then}`;

const CHANGED = 'the store was changed by an offline tool (rotate-root-key, restore) while this node had lost its lock on the database: restart the node';

/** The statement that reads the root key check value (the fence, and taking the lock again). */
export const CANARY_READ = { text: 'SELECT value FROM settings WHERE name = $1', values: [CANARY_CONTEXT] };

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url, connectionTimeoutMillis: 10_000, keepAlive: true, keepAliveInitialDelayMillis: 10_000, application_name: 'kmsd-node-lock',
  });
  // A connection the server ends is noticed through 'end'; without a listener 'error' would crash the node.
  client.on('error', () => {});
  try {
    await client.connect();
    // The lock lives as long as this session: an idle_session_timeout set on the database or the
    // role (which would end it between heartbeats, over and over) does not apply to it. (Before
    // PostgreSQL 14 there is no such setting, and nothing to undo.)
    await client.query('SET idle_session_timeout = 0').catch(() => undefined);
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  return client;
}

/**
 * A serving node's shared hold on NODE_LOCK. While the node holds it, no offline tool can change
 * the store. When its connection is lost (a database restart, an administrator, a network) the
 * node serves on (an outage must not stop the cluster) but FENCES its units of work (postgres.ts):
 * a read checks the root key check value first; a write that ran while the lock was lost, or
 * was lost during it, reads the value last, just before its COMMIT, once every row it wrote is
 * locked by it. A rotate-root-key or restore that locked the tables first has committed by then
 * (the write waited for it), and the value tells; one that comes later waits for the COMMIT and
 * then changes the write's rows like any other. A value that does not open under this node's
 * root key ends the node's use of the store for good (503 KMS.0104; a restart checks the root
 * key). Taking the lock again checks the value the same way.
 *
 * What remains: a lock connection that dies in silence (no FIN from a network) is noticed by the
 * heartbeat, within HEARTBEAT_MS + HEARTBEAT_TIMEOUT_MS; a tool that wins the lock in that window
 * while the node writes is the case the docs tell operators to avoid by stopping every node.
 */
export class NodeLock {
  private client: pg.Client | null;
  private changed = false;
  /** How many times the lock was lost: a write that began before a loss checks before it commits. */
  losses = 0;
  private closed = false;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly url: string;
  private readonly rootKey: RootKey | undefined;

  private constructor(url: string, client: pg.Client, rootKey: RootKey | undefined) {
    this.url = url;
    this.client = client;
    this.rootKey = rootKey;
    this.watch(client);
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS).unref();
  }

  /**
   * Holds the lock shared; waits while an offline tool holds it exclusive (a starting node then
   * sees its result). `rootKey`: the key this node serves with (a sealed node's once unsealed).
   */
  static async hold(url: string, rootKey?: RootKey): Promise<NodeLock> {
    const client = await connect(url);
    try {
      await client.query('SELECT pg_advisory_lock_shared($1)', [NODE_LOCK]);
      return new NodeLock(url, client, rootKey);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
  }

  /** Throws once an offline tool changed the store while this node was without its lock. */
  assertHeld(): void {
    if (this.changed) throw new NodeLockLost(CHANGED);
  }

  /** Whether a unit of work must check the root key check value first: the lock is being taken again. */
  get fencing(): boolean {
    return this.client === null && !this.closed;
  }

  /** A fenced unit of work's reading of the check value: throws (for good) when it is not this node's root key's. */
  checkFence(value: string | null): void {
    if (this.opens(value)) return;
    this.changed = true;
    throw new NodeLockLost(CHANGED);
  }

  /** Whether the check value is one this node's root key opens (a node not yet unsealed serves no key: it cannot tell). */
  private opens(value: string | null): boolean {
    const key = this.rootKey;
    // No check value: a store no node has started on yet (a rotation or a restore always leaves one).
    if (key === undefined || !key.installed || value === null) return true;
    try {
      key.open(Buffer.from(value, 'base64'), CANARY_CONTEXT);
      return true;
    } catch {
      return false;
    }
  }

  private watch(client: pg.Client): void {
    client.once('end', () => {
      if (this.client !== client || this.closed) return;
      this.client = null;
      this.losses++;
      void this.reconnect();
    });
  }

  private async beat(): Promise<void> {
    const client = this.client;
    if (client === null || this.closed) return;
    // No answer in time, or a failed query on a live socket: end it, and 'end' reconnects. The
    // timer looks once more after a turn of the loop's poll phase: after a stall of the event
    // loop the answer may be waiting on the socket, not missing (pg's query_timeout ended such
    // healthy sessions).
    let settled = false;
    const end = () => void client.end().catch(() => {});
    const timer = setTimeout(() => setImmediate(() => settled || end()), HEARTBEAT_TIMEOUT_MS);
    await client.query('SELECT 1').then(() => undefined, end);
    settled = true;
    clearTimeout(timer);
  }

  private async reconnect(): Promise<void> {
    while (!this.closed && !this.changed) {
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS).unref());
      if (this.closed) return;
      let client: pg.Client | null = null;
      try {
        client = await connect(this.url);
        // Bounded: a network that goes silent now must not keep the node fencing for minutes.
        const { rows } = await client.query({ text: 'SELECT pg_try_advisory_lock_shared($1) AS held', values: [NODE_LOCK], query_timeout: RECONNECT_QUERY_MS } as pg.QueryConfig);
        if (!rows[0].held) throw new Error('an offline tool holds it');
        const canary = await client.query({ text: CANARY_READ.text, values: CANARY_READ.values, query_timeout: RECONNECT_QUERY_MS } as pg.QueryConfig);
        // Released meanwhile (the node stops): this connection, and the lock with it, must go.
        if (this.closed) throw new Error('released');
        if (!this.opens(canary.rows.length === 0 ? null : String(canary.rows[0].value))) {
          this.changed = true;
          await client.end().catch(() => {});
          return;
        }
        this.client = client;
        this.watch(client);
        return;
      } catch {
        await client?.end().catch(() => {});
      }
    }
  }

  async release(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    await this.client?.end().catch(() => {});
  }
}

/**
 * An offline tool's exclusive hold on NODE_LOCK, on its own connection (session level: it lasts
 * until that connection closes, whatever transactions run on it). False while a node serves.
 */
export async function takeNodeLockExclusive(client: { query(sql: string, values: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }> }): Promise<boolean> {
  const { rows } = await client.query('SELECT pg_try_advisory_lock($1) AS held', [NODE_LOCK]);
  return rows[0].held === true;
}
