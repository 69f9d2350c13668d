import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config.ts';
import { StartError } from '../root-key.ts';
import { SELF_SIGNED_FILES } from '../tls/self-signed.ts';
import { DataDirLocked, LOCK_FILE, LOCK_JOURNAL, lockDataDir, type DataDirLock } from '../store/data-dir-lock.ts';

/** What a kmsd data directory holds: the SQLite store, the generated root key, the development account and certificate, the lock. */
export const DATA_FILES = ['kmsd.db', 'kmsd.db-wal', 'kmsd.db-shm', 'kmsd.db-journal', 'root.key', 'dev-identities.json', ...Object.values(SELF_SIGNED_FILES), LOCK_FILE, LOCK_JOURNAL];

export interface ResetIo {
  env: Record<string, string | undefined>;
  out: { write(text: string): unknown };
  /** Asks a yes/no question; null when there is no terminal to ask on. */
  ask: ((question: string) => Promise<string>) | null;
}

/**
 * `kmsd reset --data-dir DIR [--yes]`: deletes the store, the generated root key and the
 * development account, so that the next start begins afresh (a new root key, a new
 * development account, the identities and seed applied to an empty store). It asks first,
 * unless --yes, and refuses a directory that holds anything a kmsd data directory does not.
 * A running kmsd holds the directory's lock (store/data-dir-lock.ts): reset then refuses with
 * one line (exit 2) and deletes nothing. A PostgreSQL store is not touched: drop and re-create
 * its database.
 */
export async function reset(argv: string[], io: ResetIo): Promise<void> {
  let values: { 'data-dir'?: string; yes?: boolean };
  try {
    values = parseArgs({ args: argv, options: { 'data-dir': { type: 'string' }, yes: { type: 'boolean' } }, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const dir = resolve(values['data-dir'] ?? io.env.KMSD_DATA_DIR ?? './data');
  if (!existsSync(dir)) {
    io.out.write(`nothing to reset: ${dir} does not exist\n`);
    return;
  }
  if (!statSync(dir).isDirectory()) throw new StartError(`${dir} is not a directory: refusing to reset it`);
  // Looked at before the lock is taken: nothing is written into a directory that is not kmsd's.
  requireDataDirectory(dir);
  const lock = takeLock(dir);
  try {
    await resetLocked(dir, values.yes === true, io);
  } finally {
    lock.release();
  }
}

function takeLock(dir: string): DataDirLock {
  try {
    return lockDataDir(dir, 'reset');
  } catch (error) {
    if (error instanceof DataDirLocked) throw new StartError(`${error.message}; nothing was deleted`);
    throw error;
  }
}

function requireDataDirectory(dir: string): void {
  const foreign = readdirSync(dir).filter((n) => !DATA_FILES.includes(n));
  if (foreign.length > 0) {
    throw new StartError(`${dir} does not look like a kmsd data directory (it also holds ${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}): refusing to reset it`);
  }
}

async function resetLocked(dir: string, yes: boolean, io: ResetIo): Promise<void> {
  requireDataDirectory(dir);
  // The lock's files stay: removing kmsd.lock could let two later processes lock two files of one name.
  const names = readdirSync(dir).filter((n) => n !== LOCK_FILE && n !== LOCK_JOURNAL);
  const ours = DATA_FILES.filter((n) => names.includes(n));
  if (ours.length === 0) {
    io.out.write(`nothing to reset: ${dir} is empty\n`);
    return;
  }
  if (!yes) {
    if (!io.ask) throw new StartError('reset deletes every key, grant and audit record in the store: confirm with --yes (there is no terminal to ask on)');
    const answer = await io.ask(`Delete ${ours.join(', ')} in ${dir}? Every key, grant and audit record is lost, and so is the root key. [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) {
      io.out.write('nothing was deleted\n');
      return;
    }
  }
  for (const name of ours) {
    try {
      rmSync(join(dir, name), { force: true });
    } catch (error) {
      const done = ours.slice(0, ours.indexOf(name));
      throw new StartError(`cannot delete ${join(dir, name)} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})${done.length > 0 ? `; deleted ${done.join(', ')} before it` : '; nothing was deleted'}`);
    }
  }
  io.out.write(`deleted ${ours.join(', ')} in ${dir}; the next start begins with an empty store\n`);
}

/** The terminal question, when stdin is one. */
export function terminalAsk(): ((question: string) => Promise<string>) | null {
  if (!process.stdin.isTTY) return null;
  return async (question) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  };
}
