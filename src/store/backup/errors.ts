import { BackupError } from './file.ts';

type Coded = { code?: unknown; severity?: unknown; message?: unknown };

/** A file system's refusal (Node's errno codes: ENOENT, ENOSPC, EACCES, …). */
export function isFileSystemError(error: unknown): boolean {
  const { code, severity } = (error ?? {}) as Coded;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) && severity === undefined;
}

/**
 * A database's refusal: PostgreSQL's (a SQLSTATE, with a severity: 22021 a NUL byte in text,
 * 42501 no privilege, 53100 a full disk, …) or node:sqlite's (ERR_SQLITE_ERROR: a full disk,
 * a constraint, a locked database, …).
 */
export function isDatabaseError(error: unknown): boolean {
  const { code, severity } = (error ?? {}) as Coded;
  if (code === 'ERR_SQLITE_ERROR') return true;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && typeof severity === 'string';
}

/** The database's words, with PostgreSQL's SQLSTATE (the code an administrator looks up). */
export function databaseWords(error: unknown): string {
  const { code, message } = error as Coded;
  return code === 'ERR_SQLITE_ERROR' ? String(message) : `${String(message)} (SQLSTATE ${String(code)})`;
}

/**
 * Runs one step of an offline tool; a database's refusal becomes a BackupError of one line that
 * says where (`where`: the table and row, or the step) — a refusal, exit 2, never a stack.
 */
export async function naming<T>(where: string | (() => string), work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isDatabaseError(error)) throw error;
    throw new BackupError(`${typeof where === 'string' ? where : where()}: the database refused: ${databaseWords(error)}`);
  }
}
