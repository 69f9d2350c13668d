import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, parseConfig } from '../config.ts';
import { loadRootKey, StartError } from '../root-key.ts';
import { RotationError, rotateRootKey } from '../root-key-rotation/rotate.ts';
import { oneLine, openRawStore, storeFlags } from './backup.ts';
import { lockDataDirForOfflineCommand } from './offline-lock.ts';

type Env = Record<string, string | undefined>;

/** A root key as serve reads it (KMSD_ROOT_KEY, --root-key-file, <data-dir>/root.key), never generated here. */
function existingKey(args: string[], env: Env, what: string) {
  const config = parseConfig(args, env);
  const path = config.rootKeyFile ?? join(config.dataDir, 'root.key');
  if (config.rootKey === null && !existsSync(path)) throw new StartError(`${what}: no root key file at ${path}`);
  return { key: loadRootKey(config, () => {}), text: config.rootKey?.trim() ?? readFileSync(path, 'utf8').trim(), from: config.rootKey !== null ? 'KMSD_ROOT_KEY' : path };
}

/**
 * `kmsd rotate-root-key --new-root-key-file FILE [--data-dir DIR | --store URL] [--root-key-file OLD]`,
 * kmsd stopped: reseals everything sealed under the current root key under the new one.
 */
export async function rotateRootKeyCommand(argv: string[], env: Env, out: { write(text: string): unknown }): Promise<void> {
  const { values, store, dataDir } = storeFlags(argv, env, { 'new-root-key-file': { type: 'string' }, 'root-key-file': { type: 'string' } });
  if (values['new-root-key-file'] === undefined) {
    throw new ConfigError('--new-root-key-file FILE is required: the new root key, 32 bytes in base64 (e.g. (umask 077; openssl rand -base64 32 > FILE))');
  }
  const newFile = resolve(values['new-root-key-file']);
  const storeArgs = ['--data-dir', dataDir, '--store', store, ...(values['root-key-file'] ? ['--root-key-file', values['root-key-file']] : [])];
  const current = existingKey(storeArgs, env, 'the current root key');
  const next = existingKey(['--data-dir', dataDir, '--root-key-file', newFile], {}, 'the new root key');
  if (current.text === next.text) throw new StartError(`the new root key in ${newFile} is the current one (${current.from}): make a new one`);
  const release = store === 'sqlite' ? lockDataDirForOfflineCommand(dataDir, 'rotate-root-key') : () => {};
  try {
    const db = await openRawStore(store, dataDir);
    try {
      const summary = await oneLine(() => rotateRootKey(db, current.key, next.key, (line) => out.write(`rotate-root-key: ${line}\n`)));
      const start = `start kmsd with the new root key (--root-key-file ${newFile}${current.from === join(dataDir, 'root.key') ? `, or move it to ${current.from}` : ''})`;
      if (summary.already) {
        out.write(`the store is already sealed under the new root key in ${newFile}: nothing to do; ${start}\n`);
        return;
      }
      const counts = Object.entries(summary.resealed).map(([what, n]) => `${n} ${what}`).join(', ');
      const dropped = Object.entries(summary.dropped).map(([what, n]) => `${n} ${what}`).join(', ');
      out.write(
        `the store is now sealed under the new root key (resealed ${counts}; dropped ${dropped}); ${start}. ` +
          `Keep the old root key for as long as you keep backups made before this rotation: they open only with it\n`,
      );
    } finally {
      await db.close();
    }
  } catch (error) {
    if (error instanceof RotationError) throw new StartError(error.message);
    throw error;
  } finally {
    release();
  }
}
