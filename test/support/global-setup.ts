import { globSync, readFileSync } from 'node:fs';
import { POSTGRES_URL } from './postgres.ts';

/**
 * `npm test`'s global setup (--test-global-setup). At the end of the run it names the suites
 * that were skipped for want of PostgreSQL, and how to run them: the runner's summary counts a
 * skipped suite as no test at all.
 */
export function globalSetup(): void {}

export function globalTeardown(): void {
  if (POSTGRES_URL !== null || process.env.CI) return;
  const files = globSync(['src/**/*.test.ts', 'test/**/*.test.ts']).filter((f) => readFileSync(f, 'utf8').includes('skip: POSTGRES_SKIP')).sort();
  if (files.length === 0) return;
  process.stdout.write(
    `\nskipped without PostgreSQL (KMSD_TEST_POSTGRES_URL is not set): the suites of ${files.join(', ')}\n` +
      'run them too: scripts/test-postgres.sh npm test   (a throw-away PostgreSQL on loopback, as CI does)\n' +
      '          or: KMSD_TEST_POSTGRES_URL=postgres://user@127.0.0.1:5432/postgres npm test\n',
  );
}
