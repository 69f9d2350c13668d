import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.ts';
import { CANARY_CONTEXT, RootKey } from './core/sealing.ts';
import type { Store } from './store/store.ts';

export class StartError extends Error {}

function decode(text: string, from: string): RootKey {
  const bytes = Buffer.from(text.trim(), 'base64');
  if (bytes.length !== 32 || bytes.toString('base64') !== text.trim()) {
    throw new StartError(`${from} must hold 32 bytes in base64 (44 characters)`);
  }
  return new RootKey(bytes);
}

/**
 * The root key comes from KMSD_ROOT_KEY, from --root-key-file, or from <data-dir>/root.key.
 * When none exists yet (a development start), one is generated into <data-dir>/root.key
 * with mode 0600 and the start says so.
 */
export function loadRootKey(config: Config, say: (message: string) => void): RootKey {
  if (config.rootKey !== null) return decode(config.rootKey, 'KMSD_ROOT_KEY');
  const path = config.rootKeyFile ?? join(config.dataDir, 'root.key');
  if (existsSync(path)) return decode(readFileSync(path, 'utf8'), path);
  if (config.rootKeyFile !== null) throw new StartError(`root key file ${path} does not exist`);
  const text = randomBytes(32).toString('base64');
  writeFileSync(path, `${text}\n`, { mode: 0o600, flag: 'wx' });
  say(`generated a new root key in ${path} (mode 0600): keep it safe, without it nothing in this store can be read`);
  return decode(text, path);
}

const CANARY = 'kmsd-root-key-check';

/** The check value a store keeps of its root key (checkRootKey; kmsd seal init writes it too). */
export const canaryOf = (rootKey: RootKey): string => rootKey.seal(Buffer.from(CANARY), CANARY_CONTEXT).toString('base64');

/**
 * A store remembers a value sealed under the root key it was created with. Starting with
 * another root key fails here, before anything else is written. Nodes starting together on
 * a new store race to record theirs; every node then checks the one that was recorded.
 */
export async function checkRootKey(store: Store, rootKey: RootKey): Promise<void> {
  let sealed = await store.read((tx) => tx.getSetting(CANARY_CONTEXT));
  if (sealed === null) {
    const mine = canaryOf(rootKey);
    sealed = await store.write((tx) => tx.initSetting(CANARY_CONTEXT, mine));
  }
  try {
    rootKey.open(Buffer.from(sealed, 'base64'), CANARY_CONTEXT);
  } catch {
    throw new StartError('the root key does not match the one this store was created with; refusing to start (nothing was changed)');
  }
}
