import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import type { AuditEvent, Grant, Key } from '../../src/core/model.ts';
import type { PostgresStore } from '../../src/store/postgres.ts';
import type { Tx } from '../../src/store/store.ts';

/** Units of work for a PostgreSQL store's write groups (test/postgres-group-*.test.ts), and what to watch of its commits. */

export const key = (): Key => ({
  keyId: randomUUID(), accountId: 'acct', region: 'cn-north-4', alias: `a-${randomBytes(4).toString('hex')}`, description: '', spec: 'AES_256',
  usage: 'ENCRYPT_DECRYPT', origin: 'kms', state: '2', creationDate: 1000, scheduledDeletionDate: null, defaultKey: false,
  rotationEnabled: false, rotationInterval: 365, lastRotationTime: null, rotationDue: null, rotations: 0, materialVersion: 1,
  keystoreId: '0', materialExpires: null, importDigest: null,
});
export const grant = (keyId: string): Grant => ({
  grantId: randomBytes(32).toString('hex'), keyId, granteePrincipal: 'gus', granteeType: 'user', operations: ['describe-key'],
  issuingPrincipal: 'alice', retiringPrincipal: null, name: null, creationDate: 1000,
});
export const record = (requestId: string, keyId: string | null = null): AuditEvent => ({
  time: 100, requestId, accountId: 'acct', userId: 'u1', accessKeyId: null, operation: 'create-grant',
  keyId, grantId: null, sequence: null, outcome: 'allowed', status: 200, errorCode: null, claimedAccessKeyId: null, source: null, count: 1,
});

/** What a create-grant does to the store: lock the key, add a grant, append its record (last). */
export const createGrant = (keyId: string, requestId: string) => async (tx: Tx) => {
  assert.ok(await tx.getKey(keyId, { lock: true }));
  const g = grant(keyId);
  await tx.insertGrant(g);
  await tx.insertAudit(record(requestId, keyId));
  return g.grantId;
};

/** A unit that counts its runs in `runs[i]`. */
export const counted = (runs: number[], i: number, work: (tx: Tx) => Promise<unknown>) => (tx: Tx) => {
  runs[i] = (runs[i] ?? 0) + 1;
  return work(tx);
};

/** The units of each commit a store makes. */
export function commits(store: PostgresStore): number[] {
  const units: number[] = [];
  store.onCommit = (_seconds, n) => units.push(n);
  return units;
}

export const auditRequestIds = async (store: PostgresStore) => (await store.read((tx) => tx.listAuditChain(0, 10_000))).map((e) => e.requestId);

/** Another session (as another node's open transaction) holding the key's row: COMMIT or ROLLBACK it, then end() it. */
export async function holdKeyRow(url: string, keyId: string): Promise<pg.Client> {
  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query('SELECT 1 FROM keys WHERE key_id = $1 FOR UPDATE', [keyId]);
  return holder;
}
