import { join } from 'node:path';
import type { Config } from '../config.ts';
import { SqliteStore } from './sqlite.ts';
import type { Store, StoreOptions } from './store.ts';

/** Opens the store the configuration names and brings its schema up to date. */
export async function openStore(config: Config, options: StoreOptions = {}): Promise<Store> {
  if (config.store === 'sqlite') return new SqliteStore(join(config.dataDir, 'kmsd.db'), options);
  const { PostgresStore } = await import('./postgres.ts');
  return PostgresStore.open(config.store, options);
}
