import { test } from 'node:test';
import { POSTGRES_SKIP } from './support/postgres.ts';
import { runCrashCycles } from './support/crash.ts';

// KMSD_CRASH_CYCLES sets the cycles per store (CI: 5; `npm run torture`: 25).
const CYCLES = Number(process.env.KMSD_CRASH_CYCLES ?? 5);

test(`SQLite: ${CYCLES} SIGKILL cycles under concurrent grant traffic lose nothing and half-apply nothing`, async (t) => {
  const report = await runCrashCycles({ store: 'sqlite', cycles: CYCLES, log: (line) => t.diagnostic(line) });
  t.diagnostic(JSON.stringify(report));
});

test(`PostgreSQL: ${CYCLES} SIGKILL cycles of the kmsd node lose nothing and half-apply nothing`, { skip: POSTGRES_SKIP }, async (t) => {
  const report = await runCrashCycles({ store: 'postgres', cycles: CYCLES, log: (line) => t.diagnostic(line) });
  t.diagnostic(JSON.stringify(report));
});
