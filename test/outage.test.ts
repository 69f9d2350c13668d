import { after, before, describe, test } from 'node:test';
import { startOutageRig, type Fault, type OutageRig } from './support/outage.ts';
import { OWN_POSTGRES_SKIP } from './support/own-postgres.ts';

// Issue #21 §1, on a PostgreSQL this suite owns (it restarts, stops and kills it). The faults
// run one after the other on the same two nodes and the same growing store: each node must
// survive them all without a restart. KMSD_OUTAGE_ROUNDS repeats the three (CI: 1; `npm run
// torture`: 3). Each fault prints its figures as a JSON line (scripts/torture.ts collects them).
const FAULTS: Fault[] = ['restart -m fast', 'stop -m immediate, then start', 'pg_terminate_backend mid-transaction'];
const ROUNDS = Number(process.env.KMSD_OUTAGE_ROUNDS ?? 1);

describe('two kmsd nodes under write load survive their PostgreSQL going away', { skip: OWN_POSTGRES_SKIP }, () => {
  let rig: OutageRig;
  before(async () => {
    rig = await startOutageRig();
  });
  after(() => rig?.close());

  for (let round = 1; round <= ROUNDS; round++) {
    for (const fault of FAULTS) {
      const title = `${ROUNDS > 1 ? `round ${round}: ` : ''}${fault}: no node exits, 503 KMS.0104 while away, writes again within 5 s, every 200 kept, nothing half-applied, each grant ended once`;
      test(title, async (t) => {
        await rig.run(fault, (line) => t.diagnostic(line));
      });
    }
  }
});
