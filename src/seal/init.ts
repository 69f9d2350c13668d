import { lockDataDirForOfflineCommand } from '../cli/offline-lock.ts';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, parseConfig, type Config } from '../config.ts';
import { DECISIONS } from '../core/decisions.ts';
import { CANARY_CONTEXT, RootKey } from '../core/sealing.ts';
import { canaryOf, StartError } from '../root-key.ts';
import { describePostgres } from '../start-checks.ts';
import { openStore } from '../store/open.ts';
import { shareText, splitKey } from './shares.ts';
import { makeSealSpec, SEAL_SETTING } from './spec.ts';

export const SEAL_INIT_USAGE = `usage: kmsd seal init [--data-dir DIR | --store postgres://...] --shares N --threshold T
Creates a new store sealed under a new root key split into N shares, any T of which unseal it
(2 <= T <= N <= 255). Prints the shares once (share 1: ..., one a line) and keeps no copy of the
root key: kmsd serve on this store starts sealed until T shares are given (kmsd unseal).`;

/** A seal init must not run beside a kmsd (or another offline command) using the same data directory. */
function holdOfflineLock(config: Config): () => void {
  return config.store === 'sqlite' ? lockDataDirForOfflineCommand(config.dataDir, 'seal init') : () => undefined;
}

function wholeNumber(name: string, value: string | undefined): number {
  if (value === undefined) throw new ConfigError(`--${name} is required`);
  if (!/^\d{1,3}$/.test(value)) throw new ConfigError(`--${name} must be a whole number, got "${value}"`);
  return Number(value);
}

/** `kmsd seal init`: see SEAL_INIT_USAGE. */
export async function sealInit(argv: string[], env: Record<string, string | undefined>, out: { write(text: string): unknown }): Promise<void> {
  let values: { shares?: string; threshold?: string; 'data-dir'?: string; store?: string };
  try {
    values = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: { shares: { type: 'string' }, threshold: { type: 'string' }, 'data-dir': { type: 'string' }, store: { type: 'string' } },
    }).values;
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const shares = wholeNumber('shares', values.shares);
  const threshold = wholeNumber('threshold', values.threshold);
  const { min, max } = DECISIONS.sealShares;
  if (shares < min || shares > max) throw new ConfigError(`--shares must be from ${min} to ${max}, got ${shares}`);
  if (threshold < min || threshold > shares) throw new ConfigError(`--threshold must be from ${min} to --shares (${shares}), got ${threshold}`);
  const storeArgs = [...(values['data-dir'] !== undefined ? ['--data-dir', values['data-dir']] : []), ...(values.store !== undefined ? ['--store', values.store] : [])];
  const config = parseConfig(storeArgs, env);
  if (config.rootKey !== null || config.rootKeyFile !== null) {
    throw new ConfigError('kmsd seal init makes the root key itself: unset KMSD_ROOT_KEY and KMSD_ROOT_KEY_FILE');
  }
  const where = config.store === 'sqlite' ? `the SQLite store ${join(config.dataDir, 'kmsd.db')}` : `the PostgreSQL store at ${describePostgres(config.store)}`;
  if (config.store === 'sqlite') {
    for (const name of ['kmsd.db', 'root.key']) {
      if (existsSync(join(config.dataDir, name))) throw new StartError(`${join(config.dataDir, name)} exists: kmsd seal init makes a new store (choose an empty --data-dir)`);
    }
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  }
  const release = holdOfflineLock(config);
  const key = randomBytes(32);
  try {
    const store = await openStore(config).catch((error: Error) => {
      throw new StartError(`cannot open ${where}: ${error.message}`);
    });
    try {
      const parts = await splitKey(key, shares, threshold);
      const canary = canaryOf(new RootKey(key));
      const spec = JSON.stringify(makeSealSpec(parts, threshold));
      // Both in one transaction, and only on a store that has neither (a new one).
      await store.write(async (tx) => {
        if ((await tx.initSetting(CANARY_CONTEXT, canary)) !== canary || (await tx.initSetting(SEAL_SETTING, spec)) !== spec) {
          throw new StartError(`${where} is not new (it has a root key already): kmsd seal init makes a new store; nothing was changed`);
        }
      });
      out.write(`${where} is sealed: ${shares} shares, any ${threshold} of which unseal it. They are printed this once and kept nowhere:\n`);
      out.write(parts.map((p, i) => `share ${i + 1}: ${shareText(p)}\n`).join(''));
      out.write(`Give each share to its keeper. kmsd serve on this store starts sealed; unseal every node with kmsd unseal --url URL (${threshold} shares each).\n`);
      for (const p of parts) p.fill(0);
    } finally {
      await store.close();
    }
  } finally {
    key.fill(0);
    release();
  }
}
