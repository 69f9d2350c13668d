import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import type { AuditEvent, Grant, Key } from '../src/core/model.ts';
import { PostgresStore } from '../src/store/postgres.ts';
import type { Tx } from '../src/store/store.ts';

/**
 * A PostgreSQL node's write groups below HTTP (issue #25 §4): one store, WRITERS writers, each
 * writing create-grant then retire-grant units on one key (what `npm run bench`'s pairs do under
 * the key's row lock), each unit saying which statement is its last as src/core/grants.ts does
 * (Tx.lastStatementNext), for SECONDS after a second of warm-up. `--reads`: a read unit of work
 * before each write (as a request's authentication is), which every commit makes read its rows
 * again. It creates a database of its own on the server of the URL given, and drops it.
 *
 *   node bench/postgres-group.ts postgres://user@host:port/db [--seconds N] [--writers N] [--reads]
 */
const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const SECONDS = option('--seconds', 5);
const WRITERS = option('--writers', 64);
const READS = args.includes('--reads');
const url = args.find((a) => a.startsWith('postgres'));
if (!url) {
  process.stderr.write('usage: node bench/postgres-group.ts postgres://... [--seconds N] [--writers N] [--reads]\n');
  process.exit(2);
}

const admin = new pg.Client({ connectionString: url });
await admin.connect();
const database = `kmsd_bench_group_${randomBytes(4).toString('hex')}`;
await admin.query(`CREATE DATABASE ${database}`);
const own = new URL(url);
own.pathname = `/${database}`;
try {
  await measure(await PostgresStore.open(own.href, { deadlineMs: 30_000 }));
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
}

async function measure(store: PostgresStore): Promise<void> {
  const key: Key = {
    keyId: randomUUID(), accountId: 'bench', region: 'cn-north-4', alias: 'bench', description: '', spec: 'AES_256',
    usage: 'ENCRYPT_DECRYPT', origin: 'kms', state: '2', creationDate: Date.now(), scheduledDeletionDate: null, defaultKey: false,
    rotationEnabled: false, rotationInterval: 365, lastRotationTime: null, rotationDue: null, rotations: 0, materialVersion: 1,
    keystoreId: '0', materialExpires: null, importDigest: null,
  };
  const record = (operation: string): AuditEvent => ({
    time: Date.now(), requestId: randomUUID(), accountId: 'bench', userId: 'u', accessKeyId: null, claimedAccessKeyId: null, source: null,
    operation, keyId: key.keyId, grantId: null, sequence: null, outcome: 'allowed', status: 200, errorCode: null, count: 1,
  });
  await store.write((tx) => tx.insertKey(key));

  /** One write unit as the core writes it: the key locked, the last statement said, the record staged. */
  const unit = (operation: string, write: (tx: Tx) => Promise<unknown>) => async (tx: Tx) => {
    await tx.getKey(key.keyId, { lock: true });
    tx.lastStatementNext();
    await write(tx);
    await tx.insertAudit(record(operation));
  };

  let units = 0;
  let counting = false;
  let stop = false;
  await Promise.all([
    ...Array.from({ length: WRITERS }, async () => {
      while (!stop) {
        const g: Grant = {
          grantId: randomBytes(32).toString('hex'), keyId: key.keyId, granteePrincipal: 'gus', granteeType: 'user', operations: ['describe-key'],
          issuingPrincipal: 'alice', retiringPrincipal: null, name: null, creationDate: Date.now(),
        };
        if (READS) await store.read((tx) => tx.getKey(key.keyId));
        await store.write(unit('create-grant', (tx) => tx.insertGrant(g, 1000)));
        if (READS) await store.read((tx) => tx.getKey(key.keyId));
        await store.write(unit('retire-grant', (tx) => tx.endGrantOfKey(key.keyId, g.grantId)));
        if (counting) units += 2;
      }
    }),
    (async () => {
      await new Promise((r) => setTimeout(r, 1000));
      counting = true;
      await new Promise((r) => setTimeout(r, SECONDS * 1000));
      counting = false;
      stop = true;
    })(),
  ]);
  await store.close();
  process.stdout.write(`postgres group writes: ${Math.round(units / SECONDS)} units/s (${WRITERS} writers on one key${READS ? ', a read before each write' : ''}, ${SECONDS} s)\n`);
}
