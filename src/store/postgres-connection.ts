import pg from 'pg';
import { StoreUnavailableError } from './unavailable.ts';

/**
 * Telling a lost or refused PostgreSQL connection from an answer of the database, by the kind
 * of error rather than its text: the server's own refusals are DatabaseErrors carrying a
 * SQLSTATE; everything else a query fails with (the socket closed, reset or timed out, a
 * client already broken) means the connection is gone.
 */

/**
 * SQLSTATEs that end the session: connection exceptions, the server shutting down or starting,
 * and the session's own idle timeouts (25P03 idle in transaction, 57P05 idle session).
 */
const SESSION_ENDING = (code: string): boolean => code.startsWith('08') || ['57P01', '57P02', '57P03', '25P03', '57P05'].includes(code);

/**
 * SQLSTATEs that are the database's answer but not about the request: the store cannot serve
 * it now (503, never run again at once). The session itself is sound after a cancelled
 * statement; a read-only server (a standby, after a failover) is the wrong server.
 */
const REFUSING: Record<string, { reason: string; sessionSound: boolean }> = {
  // statement_timeout (kmsd sets it per transaction), or pg_cancel_backend by an operator.
  '57014': { reason: 'PostgreSQL cancelled a statement that ran past its timeout (waiting for a lock, or overloaded)', sessionSound: true },
  // lock_timeout, when an operator sets one below kmsd's statement timeout.
  '55P03': { reason: 'PostgreSQL cancelled a statement that ran past its timeout (waiting for a lock, or overloaded)', sessionSound: true },
  '25006': { reason: 'PostgreSQL is read-only (a standby, or a failover in progress)', sessionSound: false },
};

/** Why a connection could not be had, in words for /_kmsd/ready and the log (no address, no user name). */
const CONNECT_REASONS: Record<string, string> = {
  ECONNREFUSED: 'PostgreSQL refuses connections',
  ECONNRESET: 'PostgreSQL reset the connection',
  ETIMEDOUT: 'PostgreSQL did not answer in time',
  EHOSTUNREACH: 'the PostgreSQL host is unreachable',
  ENETUNREACH: 'the PostgreSQL host is unreachable',
  ENOTFOUND: 'the PostgreSQL host name does not resolve',
  EAI_AGAIN: 'the PostgreSQL host name does not resolve',
  '57P01': 'PostgreSQL is shutting down',
  '57P02': 'PostgreSQL is restarting after a crash',
  '57P03': 'PostgreSQL is starting up or shutting down',
  '53300': 'PostgreSQL has no free connection slots',
  '28P01': 'PostgreSQL refused the credentials',
  '28000': 'PostgreSQL refused the credentials',
  '3D000': 'the PostgreSQL database does not exist',
};

const codeOf = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

/** The failure of pool.connect() as a StoreUnavailableError. */
export function connectFailure(error: unknown, timedOut: boolean): StoreUnavailableError {
  const code = codeOf(error);
  const reason = timedOut
    ? 'no PostgreSQL connection within the connect timeout'
    : (code && CONNECT_REASONS[code]) ?? `cannot connect to PostgreSQL${code ? ` (${code})` : ''}`;
  return new StoreUnavailableError(reason, 'connect', { cause: error });
}

/**
 * A query's failure: a StoreUnavailableError when the connection is gone (`stage` says whether
 * COMMIT had been sent; `timedOut` that the client gave up waiting for any answer) or the
 * database cannot serve now (a statement cancelled at its timeout, a read-only server), else
 * null (an answer of the database about the request, which the caller handles).
 */
export function connectionLost(error: unknown, stage: 'work' | 'commit', timedOut: boolean): StoreUnavailableError | null {
  if (error instanceof StoreUnavailableError) return error;
  const refusing = error instanceof pg.DatabaseError ? REFUSING[error.code ?? ''] : undefined;
  if (refusing) return new StoreUnavailableError(refusing.reason, stage, { cause: error, timedOut: true, sessionSound: refusing.sessionSound });
  if (error instanceof pg.DatabaseError && !SESSION_ENDING(error.code ?? '')) return null;
  const code = codeOf(error);
  const reason = timedOut ? 'PostgreSQL did not answer at all within the deadline' : (code && CONNECT_REASONS[code]) ?? 'the connection to PostgreSQL was lost';
  return new StoreUnavailableError(reason, stage, { cause: error, timedOut });
}
