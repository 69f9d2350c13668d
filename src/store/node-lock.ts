import { StoreUnavailableError } from './unavailable.ts';
import pg from 'pg';
import { CANARY_CONTEXT } from '../core/sealing.ts';

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
const RECONNECT_MS = 1_000;

/** The node cannot vouch for the store without its lock: answered as any store outage (503 KMS.0104). */
export class NodeLockLost extends StoreUnavailableError {
  constructor(reason: string) {
    super(reason, 'connect');
  }
}

/** The refusal of an offline tool that would change a PostgreSQL store while kmsd nodes serve it. */
export const NODES_SERVING = (then: string): string => `kmsd nodes are serving this database (they hold its node lock): stop every node first, then ${then}`;

const settingsCanary = async (client: pg.Client): Promise<string | null> => {
  const { rows } = await client.query("SELECT to_regclass('settings') IS NOT NULL AS present");
  if (!rows[0].present) return null;
  const canary = await client.query('SELECT value FROM settings WHERE name = $1', [CANARY_CONTEXT]);
  return canary.rows.length === 0 ? null : String(canary.rows[0].value);
};

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, keepAlive: true, application_name: 'kmsd-node-lock' });
  // A connection the server ends is noticed through 'end'; without a listener 'error' would crash the node.
  client.on('error', () => {});
  await client.connect();
  return client;
}

/**
 * A serving node's shared hold on NODE_LOCK. When its connection is lost (a database restart,
 * an administrator, idle_session_timeout) the node stops using the store (assertHeld throws)
 * until it holds the lock again. An offline tool may have run in between: the root key check
 * value (read at every heartbeat, while held, so unchanged by anyone else since) tells; if it
 * changed, the node never uses the store again and says to restart it, which checks the root key.
 */
export class NodeLock {
  private client: pg.Client | null;
  private lost: string | null = null;
  private changed = false;
  private closed = false;
  private canary: string | null = null;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly url: string;

  private constructor(url: string, client: pg.Client) {
    this.url = url;
    this.client = client;
    this.watch(client);
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS).unref();
  }

  /** Holds the lock shared; waits while an offline tool holds it exclusive (a starting node then sees its result). */
  static async hold(url: string): Promise<NodeLock> {
    const client = await connect(url);
    try {
      await client.query('SELECT pg_advisory_lock_shared($1)', [NODE_LOCK]);
      const lock = new NodeLock(url, client);
      lock.canary = await settingsCanary(client);
      return lock;
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
  }

  /**
   * Throws once an offline tool changed the store while this node was without its lock. While the
   * lock is merely being taken again (its connection ended: a database restart, a terminated
   * session) the node serves on, as the outage handling expects; the check value read when the lock
   * is held again tells whether a rotation or restore ran meanwhile.
   */
  assertHeld(): void {
    if (this.changed) throw new NodeLockLost('the store was changed by an offline tool (rotate-root-key, restore) while this node had lost its lock on the database: restart the node');
  }

  private watch(client: pg.Client): void {
    client.once('end', () => {
      if (this.client !== client || this.closed) return;
      this.client = null;
      this.lost = 'its connection ended';
      void this.reconnect();
    });
  }

  private async beat(): Promise<void> {
    const client = this.client;
    if (client === null || this.closed) return;
    try {
      this.canary = await settingsCanary(client);
    } catch {
      // A failed query on a live socket: end it, and 'end' reconnects.
      await client.end().catch(() => {});
    }
  }

  private async reconnect(): Promise<void> {
    while (!this.closed && !this.changed) {
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS).unref());
      if (this.closed) return;
      let client: pg.Client | null = null;
      try {
        client = await connect(this.url);
        if (this.closed) {
          await client.end().catch(() => {});
          return;
        }
        const { rows } = await client.query('SELECT pg_try_advisory_lock_shared($1) AS held', [NODE_LOCK]);
        if (!rows[0].held) throw new Error('an offline tool holds it');
        const canary = await settingsCanary(client);
        if (this.canary !== null && canary !== this.canary) {
          this.changed = true;
          await client.end().catch(() => {});
          return;
        }
        this.canary = canary;
        this.client = client;
        this.watch(client);
        this.lost = null;
        return;
      } catch (error) {
        this.lost = (error as Error).message;
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
