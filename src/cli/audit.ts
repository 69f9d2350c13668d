import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, parseConfig, type Config } from '../config.ts';
import type { AuditEvent, AuditFilter } from '../core/model.ts';
import { auditLine } from '../audit/line.ts';
import { auditTable } from './audit-table.ts';
import { openStore } from '../store/open.ts';
import type { Store, StoreOptions } from '../store/store.ts';

const PAGE = 1000;

/** Splits the audit filters from the store flags (--data-dir, --store), which serve reads as well. */
export function parseAuditArgs(argv: string[], env: Record<string, string | undefined>) {
  const filterFlags = { key: { type: 'string' }, principal: { type: 'string' }, since: { type: 'string' }, output: { type: 'string', short: 'o' } } as const;
  const storeArgs: string[] = [];
  const filterArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const joined = /^-o./.test(argv[i]); // -ojson, as `keys list -ojson` takes it
    const name = argv[i] === '-o' || joined ? 'output' : argv[i].replace(/^--/, '').split('=')[0];
    const target = name in filterFlags ? filterArgs : storeArgs;
    target.push(argv[i]);
    if (!argv[i].includes('=') && !joined && i + 1 < argv.length) target.push(argv[++i]);
  }
  let values: { key?: string; principal?: string; since?: string; output?: string };
  try {
    values = parseArgs({ args: filterArgs, options: filterFlags, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const filter: AuditFilter = {};
  if (values.key !== undefined) filter.keyId = values.key;
  if (values.principal !== undefined) filter.principal = values.principal;
  if (values.since !== undefined) {
    const since = Date.parse(values.since);
    if (Number.isNaN(since)) throw new ConfigError(`--since must be a date or time in ISO 8601, got "${values.since}"`);
    filter.since = since;
  }
  const output = values.output ?? 'table';
  if (output !== 'table' && output !== 'json') throw new ConfigError(`--output must be table or json, got "${output}"`);
  return { config: parseConfig(storeArgs, env), filter, output };
}

/** The store the configuration names, refusing a data directory that holds none (rather than creating one). */
export async function openExistingStore(config: Config, options: StoreOptions = {}): Promise<Store> {
  const file = join(config.dataDir, 'kmsd.db');
  if (config.store === 'sqlite' && !existsSync(file)) throw new ConfigError(`no kmsd store at ${file} (give --data-dir or --store)`);
  return openStore(config, options);
}

/**
 * `kmsd audit`: prints the matching events, oldest first: a table naming callers and keys
 * (`user@account`, the key's alias) by default, or one JSON object a line with `--output json`.
 */
export async function printAudit(argv: string[], env: Record<string, string | undefined>, out: NodeJS.WritableStream): Promise<void> {
  const { config, filter, output } = parseAuditArgs(argv, env);
  const store = await openExistingStore(config);
  try {
    for (let after = 0; ; ) {
      const events: AuditEvent[] = await store.read((tx) => tx.listAudit(filter, after, PAGE));
      if (events.length > 0) {
        // A page at a time: the table's columns fit each page, its header comes once.
        const text = output === 'json' ? events.map(auditLine).join('\n') : await auditTable(store, events, after === 0);
        out.write(`${text}\n`);
      }
      if (events.length < PAGE) break;
      after = events[events.length - 1].seq as number;
    }
  } finally {
    await store.close();
  }
}
