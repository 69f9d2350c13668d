import { closeSync, constants, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The lock a kmsd process holds on its data directory while it uses it: `kmsd.lock`, created
 * exclusively (O_EXCL), holding the holder's pid, host, boot and what it is doing. A running
 * `kmsd serve` holds it from start to stop; `kmsd reset` and every offline command that
 * writes the directory (backup restores, root-key rotation, …) take it for as long as they
 * run, so none of them changes the files under a running server, nor two of them at once:
 *
 *     const lock = lockDataDir(dir, 'reset');   // throws DataDirLocked when held
 *     try { ... } finally { lock.release(); }
 *
 * A lock left by a process that is gone (killed, crashed, the machine restarted, a container
 * whose pid 1 came back as another process) is stale and taken over. A lock held on another
 * host (a directory shared over the network) cannot be checked and counts as held.
 */
export const LOCK_FILE = 'kmsd.lock';

export class DataDirLocked extends Error {}

export interface DataDirLock {
  readonly path: string;
  /** Removes the lock file (once; later calls do nothing). */
  release(): void;
}

interface Holder {
  pid: number;
  host: string;
  boot: string;
  what: string;
}

/** The directories this process holds: a lock file naming this pid is stale unless listed here. */
const held = new Set<string>();

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

function holderOf(path: string): Holder | null {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Holder>;
    return typeof parsed.pid === 'number' ? { pid: parsed.pid, host: String(parsed.host ?? ''), boot: String(parsed.boot ?? ''), what: String(parsed.what ?? 'kmsd') } : null;
  } catch {
    return null; // gone meanwhile, or half-written by a holder that died while writing it
  }
}

function alive(holder: Holder, dir: string): boolean {
  if (holder.host !== hostname()) return true; // cannot be checked from here
  if (holder.boot !== '' && holder.boot !== bootId()) return false; // the machine restarted since
  if (holder.pid === process.pid) return held.has(dir);
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/** A lock file written a moment ago: its holder may still be writing its name into it. */
function justCreated(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs < 10_000;
  } catch {
    return false;
  }
}

/**
 * Takes the lock on `dir` (which must exist) for `what` ("serve", "reset", …), or throws
 * DataDirLocked with one line naming the holder.
 */
export function lockDataDir(dir: string, what: string): DataDirLock {
  const absolute = resolve(dir);
  const path = join(absolute, LOCK_FILE);
  const me: Holder = { pid: process.pid, host: hostname(), boot: bootId(), what };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = holderOf(path);
      if (!holder && justCreated(path)) throw new DataDirLocked(`${absolute} is being locked by another kmsd right now (${path}): stop it first`);
      if (holder && alive(holder, absolute)) {
        const where = holder.host === me.host ? `pid ${holder.pid}` : `pid ${holder.pid} on ${holder.host}`;
        throw new DataDirLocked(`${absolute} is in use by a running kmsd ${holder.what} (${where}; ${path}): stop it first`);
      }
      // Stale (or unreadable: a holder that died before writing it): take it over.
      try {
        unlinkSync(path);
      } catch {
        // another process took it over first: try again
      }
      continue;
    }
    try {
      writeSync(fd, `${JSON.stringify(me)}\n`);
    } finally {
      closeSync(fd);
    }
    held.add(absolute);
    let released = false;
    return {
      path,
      release() {
        if (released) return;
        released = true;
        held.delete(absolute);
        try {
          if (holderOf(path)?.pid === process.pid) unlinkSync(path);
        } catch {
          // already gone (the directory was removed): nothing to release
        }
      },
    };
  }
  throw new DataDirLocked(`${absolute}: cannot take ${path} (other processes keep taking it)`);
}
