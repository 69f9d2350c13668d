import { after, before, describe, test } from 'node:test';
import { startOutageRig, type Fault, type OutageRig } from './support/outage.ts';
import { OWN_POSTGRES_SKIP } from './support/own-postgres.ts';

// Issue #21 §1, on a PostgreSQL this suite owns (it restarts, stops and kills it). The faults
// run one after the other on the same two nodes and the same growing store: each node must
// survive them all without a restart. Figures: test/support/outage.ts's report lines.
const FAULTS: Fault[] = ['restart -m fast', 'stop -m immediate, then start', 'pg_terminate_backend mid-transaction'];

describe('two kmsd nodes under write load survive their PostgreSQL going away', { skip: OWN_POSTGRES_SKIP }, () => {
  let rig: OutageRig;
  before(async () => {
    rig = await startOutageRig();
  });
  after(() => rig?.close());

  for (const fault of FAULTS) {
    test(`${fault}: no node exits, 503 KMS.0104 while away, writes again within 5 s, every 200 kept, nothing half-applied, each grant ended once`, async (t) => {
      await rig.run(fault, (line) => t.diagnostic(line));
    });
  }
});
