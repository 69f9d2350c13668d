import { randomInt, randomUUID } from 'node:crypto';
import { chmodSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/**
 * The lock a kmsd process holds on its data directory while it uses it. A running
 * `kmsd serve` holds it from start to stop; `kmsd reset` and every offline command that writes
 * the directory (backup restores, root-key rotation, …) take it for as long as they run, so
 * none of them changes the files under a running server, nor two of them at once:
 *
 *     const lock = lockDataDir(dir, 'reset');   // throws DataDirLocked when held
 *     try { ... } finally { lock.release(); }
 *
 * The lock is a kernel lock (fcntl, through SQLite) on the file `kmsd.lock`, a small SQLite
 * database naming its holder (pid, host, what it does) for the refusal message. The kernel
 * drops it when the holder's process ends, however it ends (kill -9, a crash, the machine or
 * container restarting): nothing is guessed from pids, hostnames or boots, so a lock is never
 * "stale" and never held by a process that is gone.
 *
 * How it is taken: under SQLite's EXCLUSIVE lock (which nobody gets while another holds the
 * file), write a fresh token as the holder; commit; then open a read transaction, whose SHARED
 * lock the holder keeps until it releases (it stops every later writer, so nobody can write
 * another holder while it is held), and read the holder back. Two processes racing through
 * the moment between commit and read both reach the read, but only the last writer finds its
 * own token: the other refuses. The file stays in place after release: removing it would let a
 * process that opened the old file and one that creates a new one both lock "it".
 */
export const LOCK_FILE = 'kmsd.lock';
/** SQLite's journal beside the lock file, present only while a holder writes its name (or after one died doing so). */
export const LOCK_JOURNAL = 'kmsd.lock-journal';

/** The directory is held by another kmsd, or cannot be locked at all (read-only, missing): message is the one-line refusal. */
export class DataDirLocked extends Error {}

export interface DataDirLock {
  readonly path: string;
  /** Gives the lock back (once; later calls do nothing). */
  release(): void;
}

interface Holder {
  pid: number;
  host: string;
  what: string;
}

const BUSY = 5; // SQLITE_BUSY

function isBusy(error: unknown): boolean {
  return ((error as { errcode?: number }).errcode ?? 0) % 256 === BUSY;
}

/** Who holds the lock, read through `db` (a moment's wait while a taker writes), or null when it cannot be read. */
function holderOf(db: DatabaseSync): Holder | null {
  try {
    db.exec('PRAGMA busy_timeout = 2000');
    const row = db.prepare('SELECT pid, host, what FROM holder WHERE id = 1').get() as Holder | undefined;
    return row ?? null;
  } catch {
    return null;
  }
}

function refusal(absolute: string, path: string, holder: Holder | null): DataDirLocked {
  if (!holder) return new DataDirLocked(`${absolute} is in use by another running kmsd (${path}): stop it first`);
  const where = holder.host === hostname() ? `pid ${holder.pid}` : `pid ${holder.pid} on ${holder.host}`;
  return new DataDirLocked(`${absolute} is in use by a running kmsd ${holder.what} (${where}; ${path}): stop it first`);
}

/**
 * SQLite's EXCLUSIVE lock on the file, or the refusal. Two takers at the same moment can each
 * hold a lock that stops the other (one reading, one about to write) and both fail: a few tries
 * a random moment apart let one of them through. A holder's lock fails every try.
 */
function beginExclusive(db: DatabaseSync, absolute: string, path: string): void {
  for (let attempt = 1; ; attempt++) {
    try {
      db.exec('BEGIN EXCLUSIVE');
      return;
    } catch (error) {
      if (!isBusy(error)) throw error;
      if (attempt === 4) throw refusal(absolute, path, holderOf(db));
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5 + randomInt(25));
    }
  }
}

/**
 * Takes the lock on `dir` (which must exist) for `what` ("serve", "reset", …), or throws
 * DataDirLocked with one line naming the holder (or why the directory cannot be locked).
 */
export function lockDataDir(dir: string, what: string): DataDirLock {
  const absolute = resolve(dir);
  const path = join(absolute, LOCK_FILE);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { timeout: 0 });
  } catch (error) {
    throw new DataDirLocked(`cannot lock ${absolute}: cannot open ${path} (${(error as Error).message})`);
  }
  const token = randomUUID();
  try {
    // 0600, as every file kmsd writes (SQLite creates it under the umask; its journal copies the mode).
    // chmod, not open-and-close: closing any descriptor of the file would drop this process's locks on it.
    try {
      chmodSync(path, 0o600);
    } catch {
      // a read-only directory: the write below says so
    }
    beginExclusive(db, absolute, path);
    try {
      db.exec('CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY CHECK (id = 1), token TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL, what TEXT NOT NULL)');
      db.prepare('INSERT OR REPLACE INTO holder (id, token, pid, host, what) VALUES (1, ?, ?, ?, ?)').run(token, process.pid, hostname(), what);
      db.exec('COMMIT');
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw error;
    }
    // From here the SHARED lock of this read transaction is the lock: held until release(). A
    // moment's wait lets a taker that is only failing (or one writing after us) finish first.
    db.exec('PRAGMA busy_timeout = 500');
    db.exec('BEGIN');
    const mine = (() => {
      try {
        return (db.prepare('SELECT token FROM holder WHERE id = 1').get() as { token: string } | undefined)?.token === token;
      } catch (error) {
        if (isBusy(error)) return false; // another taker is writing: it wins
        throw error;
      }
    })();
    if (!mine) {
      db.exec('ROLLBACK');
      throw refusal(absolute, path, holderOf(db));
    }
  } catch (error) {
    db.close();
    if (error instanceof DataDirLocked) throw error;
    throw new DataDirLocked(`cannot lock ${absolute}: ${path}: ${(error as Error).message}`);
  }
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      db.close();
    },
  };
}
