import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `text` to `path` whole or not at all (a reader never sees half of it), mode 0600.
 *
 * The endpoint file holds the development account's SK, and it may sit in a directory others
 * can write (/tmp). So the temporary file is created new (O_CREAT|O_EXCL: never an existing
 * file, never through a symbolic link, whose target a root kmsd would otherwise overwrite)
 * under a random name nobody can plant in advance, is 0600 from its first byte, reaches the
 * disk before the rename, and is removed when anything fails. The rename replaces whatever
 * is at `path` (a symbolic link there is replaced, not followed).
 */
export function writeFileWhole(path: string, text: string): void {
  const part = join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.part`);
  const fd = openSync(part, 'wx', 0o600);
  try {
    try {
      writeFileSync(fd, text); // a file descriptor: writes until all of it is written
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(part, path);
  } catch (error) {
    rmSync(part, { force: true });
    throw error;
  }
}
