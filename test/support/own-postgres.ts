import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/**
 * A PostgreSQL server a test owns: it may restart, stop and kill it, which the shared server of
 * KMSD_TEST_POSTGRES_URL must never suffer. Started from Debian's binaries (as
 * scripts/test-postgres.sh installs them), in a temp dir, on a free port of loopback (or
 * KMSD_TEST_OWN_PGPORT), as the postgres user when the test runs as root.
 */
export interface OwnPostgres {
  /** postgres://kmsd@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** pg_ctl restart -m <mode>. */
  restart(mode: 'fast' | 'immediate' | 'smart'): Promise<void>;
  stop(mode: 'fast' | 'immediate' | 'smart'): Promise<void>;
  start(): Promise<void>;
  /** Stops the server (immediately) and removes its directory. */
  close(): Promise<void>;
}

/** The newest installed PostgreSQL's bin directory, or null. */
export function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(a) - Number(b));
  return versions.length ? join(root, versions[versions.length - 1], 'bin') : null;
}

/** Skip reason when no PostgreSQL is installed (never in CI, where that is a failure). */
export const OWN_POSTGRES_SKIP = postgresBin() === null && !process.env.CI
  ? 'needs PostgreSQL installed (/usr/lib/postgresql/*/bin; scripts/test-postgres.sh installs it)'
  : false;

async function freePort(): Promise<number> {
  if (process.env.KMSD_TEST_OWN_PGPORT) return Number(process.env.KMSD_TEST_OWN_PGPORT);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const bin = postgresBin();
  if (bin === null) throw new Error('PostgreSQL is not installed (/usr/lib/postgresql/*/bin/pg_ctl)');
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-own-pg-'));
  if (root) chownSync(dir, Number((await run('id', ['-u', 'postgres'])).stdout.trim()), Number((await run('id', ['-g', 'postgres'])).stdout.trim()));
  const as = (tool: string, args: string[]) => (root ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]) : run(join(bin, tool), args));
  const port = await freePort();
  await as('initdb', ['-D', dir, '-A', 'trust', '-U', 'kmsd']);
  const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c max_connections=100 -c fsync=on -c wal_level=logical`;
  const start = async () => {
    await as('pg_ctl', ['-D', dir, '-l', join(dir, 'server.log'), '-w', '-o', options, 'start']);
  };
  await start();
  const url = `postgres://kmsd@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    start,
    async restart(mode) {
      await as('pg_ctl', ['-D', dir, '-l', join(dir, 'server.log'), '-w', '-m', mode, '-o', options, 'restart']);
    },
    async stop(mode) {
      await as('pg_ctl', ['-D', dir, '-w', '-m', mode, 'stop']);
    },
    async close() {
      await as('pg_ctl', ['-D', dir, '-m', 'immediate', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh database on the server; the URL to reach it. */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Ends (pg_terminate_backend) every kmsd session of the database; returns how many of them were
 * inside a transaction at that moment.
 */
export async function terminateSessions(serverUrl: string, database: string): Promise<{ ended: number; inTransaction: number }> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query(
      `SELECT pg_terminate_backend(pid) AS ended, xact_start IS NOT NULL AS in_tx FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
      [database],
    );
    return { ended: rows.filter((r) => r.ended).length, inTransaction: rows.filter((r) => r.ended && r.in_tx).length };
  } finally {
    await admin.end();
  }
}
