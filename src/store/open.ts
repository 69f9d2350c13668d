import { join } from 'node:path';
import type { Config } from '../config.ts';
import type { SharedLock } from './shared-lock.ts';
import { SqliteStore } from './sqlite.ts';
import type { Store } from './store.ts';

/** Opens the store the configuration names and brings its schema up to date. */
export async function openStore(config: Config, options: { writeLock?: SharedLock } = {}): Promise<Store> {
  if (config.store === 'sqlite') return new SqliteStore(join(config.dataDir, 'kmsd.db'), options);
  const { PostgresStore } = await import('./postgres.ts');
  // A query that outlives the request's deadline is failed, and its connection discarded.
  return PostgresStore.open(config.store, { queryTimeoutMs: config.requestTimeout });
}
