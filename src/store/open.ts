import { join } from 'node:path';
import type { Config } from '../config.ts';
import type { RootKey } from '../core/sealing.ts';
import { SqliteStore } from './sqlite.ts';
import type { Store, StoreOptions } from './store.ts';

export interface OpenOptions extends StoreOptions {
  /**
   * PostgreSQL: the deadline a unit of work is answered within, a 503 if the database does not
   * finish it (PostgresOptions.deadlineMs). The server passes its request deadline; tools
   * (backup, audit) leave it unbounded.
   */
  deadlineMs?: number;
  /** A serving node (kmsd serve), as opposed to an offline tool: the root key it serves with. */
  serving?: RootKey;
  /** Told what an operator should know of the store at the start (PostgresOptions.onNotice). */
  onNotice?: (message: string) => void;
}

/**
 * Opens the store the configuration names and brings its schema up to date. A serving node
 * passes serving: it then holds PostgreSQL's node lock (node-lock.ts) for as long as it runs.
 */
export async function openStore(config: Config, options: OpenOptions = {}): Promise<Store> {
  if (config.store === 'sqlite') return new SqliteStore(join(config.dataDir, 'kmsd.db'), { writeLock: options.writeLock, onAudit: options.onAudit, migrate: options.migrate });
  const { PostgresStore } = await import('./postgres.ts');
  return PostgresStore.open(config.store, { deadlineMs: options.deadlineMs, onAudit: options.onAudit, migrate: options.migrate, holdNodeLock: options.serving !== undefined, rootKey: options.serving, onNotice: options.onNotice });
}
