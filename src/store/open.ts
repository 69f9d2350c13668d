import { join } from 'node:path';
import type { Config } from '../config.ts';
import type { SharedLock } from './shared-lock.ts';
import { SqliteStore } from './sqlite.ts';
import type { Store } from './store.ts';

/**
 * Opens the store the configuration names and brings its schema up to date. A serving node
 * passes serving: it then holds PostgreSQL's node lock (node-lock.ts) for as long as it runs.
 */
export async function openStore(config: Config, options: { writeLock?: SharedLock; serving?: boolean } = {}): Promise<Store> {
  if (config.store === 'sqlite') return new SqliteStore(join(config.dataDir, 'kmsd.db'), options);
  const { PostgresStore } = await import('./postgres.ts');
  return PostgresStore.open(config.store, undefined, { holdNodeLock: options.serving === true });
}
