import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * PostgreSQL for tests: KMSD_TEST_POSTGRES_URL names a server where the test may create
 * databases. Each call makes a fresh database and returns its URL with a dropper.
 * In CI a missing URL is a failure, never a silent skip.
 */
export const POSTGRES_URL = process.env.KMSD_TEST_POSTGRES_URL ?? null;
export const POSTGRES_SKIP = POSTGRES_URL === null
  ? (process.env.CI ? false : 'needs PostgreSQL: KMSD_TEST_POSTGRES_URL is not set (run scripts/test-postgres.sh npm test)')
  : false;

export function requirePostgresInCi(): void {
  if (POSTGRES_URL === null && process.env.CI) throw new Error('CI must run the PostgreSQL suites: set KMSD_TEST_POSTGRES_URL');
}

export async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  requirePostgresInCi();
  const base = new URL(POSTGRES_URL as string);
  const name = `kmsd_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base.toString());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base.toString() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
