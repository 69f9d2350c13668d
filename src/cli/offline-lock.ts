import { mkdirSync } from 'node:fs';
import { DataDirLocked, lockDataDir } from '../store/data-dir-lock.ts';
import { StartError } from '../root-key.ts';

/**
 * Every offline command that writes a data directory (restore into it, rotate-root-key, seal init)
 * takes the lock a running kmsd holds on it (src/store/data-dir-lock.ts) for as long as it runs:
 * while a kmsd or another such command holds it, the command refuses with one line (exit 2) and
 * changes nothing. The directory is made (0700) if it is not there yet, as a restore target may not be.
 */
export function lockDataDirForOfflineCommand(dataDir: string, what: string): () => void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    const lock = lockDataDir(dataDir, what);
    return () => lock.release();
  } catch (error) {
    if (error instanceof DataDirLocked) throw new StartError(error.message);
    throw error;
  }
}
