import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GENESIS, chainHash } from '../src/audit/chain.ts';
import { auditLine } from '../src/audit/line.ts';
import { PostgresStore } from '../src/store/postgres.ts';
import { raw, worldIdentities } from './harness.ts';
import { startKmsd, type Node } from './support/cluster.ts';
import { POSTGRES_SKIP, freshDatabase } from './support/postgres.ts';

/**
 * Two kmsd nodes (each with its event loops, TEST_WORKERS) writing one PostgreSQL store at
 * once make one chain: every record, whichever node, loop or refusal-summary timer wrote it,
 * follows the record committed before it. Each node's --audit-log holds its own records; the
 * files merged by seq are the whole chain.
 */
const BIN = fileURLToPath(new URL('../bin/kmsd.js', import.meta.url));
const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));

describe('the audit chain of two nodes writing one PostgreSQL store at once', { skip: POSTGRES_SKIP }, () => {
  let dir: string;
  let database: { url: string; drop(): Promise<void> };
  let nodes: Node[];
  let users: ReturnType<typeof worldIdentities>['users'];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kmsd-chain-cluster-'));
    database = await freshDatabase();
    const identities = worldIdentities(dir);
    users = identities.users;
    const path = identities.path;
    const rootKey = randomBytes(32).toString('base64');
    nodes = await Promise.all([0, 1].map((n) => startKmsd({
      store: database.url, dataDir: join(dir, `node-${n}`), identities: path, rootKey, users,
      // Refusals of unknown callers past 2 a second are summed up by each node's timer: a third kind of writer.
      env: { KMSD_AUDIT_LOG: join(dir, `audit-${n}.jsonl`), KMSD_AUDIT_REFUSAL_RATE: '2' },
    })));
  });
  after(async () => {
    await Promise.all((nodes ?? []).map((n) => n.stop()));
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('creates, grants, revokes and refusals on both nodes at once: one chain, verified; the nodes\' log files merged by seq are that chain', async () => {
    const forged = { 'Content-Type': 'application/json', Authorization: 'SDK-HMAC-SHA256 Access=AKFORGED, SignedHeaders=host, Signature=00', 'X-Sdk-Date': '20260101T000000Z' };
    const work = nodes.flatMap((node) => {
      const alice = node.as('alice', 'aksk');
      const project = users.alice.projectId;
      return [
        ...Array.from({ length: 15 }, async () => {
          const r = await alice.kms('create-key', { key_alias: `c-${randomBytes(4).toString('hex')}` });
          assert.equal(r.status, 200);
          const keyId = r.body.key_info.key_id;
          const g = await alice.kms('create-grant', { key_id: keyId, grantee_principal: users.greg.id, operations: ['describe-key'] });
          assert.equal(g.status, 200);
          assert.equal((await alice.kms('revoke-grant', { key_id: keyId, grant_id: g.body.grant_id })).status, 200);
        }),
        ...Array.from({ length: 10 }, async () => {
          const r = await raw(node.url, 'POST', `/v1.0/${project}/kms/create-key`, { headers: forged, body: '{}' });
          assert.equal(r.status, 401);
        }),
      ];
    });
    await Promise.all(work);
    // The summaries are written a second after their first refusal.
    await new Promise((r) => setTimeout(r, 2500));

    const store = await PostgresStore.open(database.url);
    let stored;
    try {
      stored = await store.read((tx) => tx.listAuditChain(0, 10_000));
    } finally {
      await store.close();
    }
    const summaries = stored.filter((r) => r.count > 1);
    assert.ok(summaries.length >= 1, 'refusal summaries were written by the timers');
    assert.equal(stored.filter((r) => r.operation === 'create-key' && r.outcome === 'allowed').length, 30);
    stored.forEach((r, i) => {
      assert.equal(r.prevHash, i === 0 ? GENESIS : stored[i - 1].hash, `record ${r.seq} follows the one before it`);
      assert.equal(r.hash, chainHash(r.prevHash as string, r));
    });
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'audit', 'verify', '--store', database.url]);
    assert.equal(stdout, `audit trail intact: ${stored.length} records checked\nhead: record ${stored.at(-1)?.seq} ${stored.at(-1)?.hash}\n`);

    const [first, second] = [0, 1].map((n) => lines(join(dir, `audit-${n}.jsonl`)));
    assert.ok(first.length > 0 && second.length > 0, 'both nodes wrote records');
    const merged = [...first, ...second].sort((a, b) => a.seq - b.seq);
    assert.deepEqual(merged, stored.map((r) => JSON.parse(auditLine(r))));
  });
});
