import pg from 'pg';
import { StoreUnavailableError } from './unavailable.ts';

/**
 * Telling a lost or refused PostgreSQL connection from an answer of the database, by the kind
 * of error rather than its text: the server's own refusals are DatabaseErrors carrying a
 * SQLSTATE; everything else a query fails with (the socket closed, reset or timed out, a
 * client already broken) means the connection is gone.
 */

/** SQLSTATEs that end the session: connection exceptions, and the server shutting down or starting. */
const SESSION_ENDING = (code: string): boolean => code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03';

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
 * COMMIT had been sent; `timedOut` that the query ran out its timeout), else null (an answer of
 * the database, which the caller handles).
 */
export function connectionLost(error: unknown, stage: 'work' | 'commit', timedOut: boolean): StoreUnavailableError | null {
  if (error instanceof StoreUnavailableError) return error;
  if (error instanceof pg.DatabaseError && !SESSION_ENDING(error.code ?? '')) return null;
  const code = codeOf(error);
  const reason = timedOut ? 'PostgreSQL did not answer within the query timeout' : (code && CONNECT_REASONS[code]) ?? 'the connection to PostgreSQL was lost';
  return new StoreUnavailableError(reason, stage, { cause: error, timedOut });
}
