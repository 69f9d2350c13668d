import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { RootKey } from '../src/core/sealing.ts';
import { applyIdentities, KEEP_STORED_PASSWORDS, parseIdentities } from '../src/identities.ts';
import { PostgresStore } from '../src/store/postgres.ts';
import { IDENTITIES_LOCK } from '../src/store/sql-tx.ts';
import { worldIdentities } from './harness.ts';
import { freshDatabase, POSTGRES_SKIP } from './support/postgres.ts';

/**
 * Two nodes applying one identities file at once over a fresh PostgreSQL store (two nodes
 * started together, as test/support/cluster.ts does): the applies run one after the other
 * (Tx.lockIdentities). Without that, READ COMMITTED let the later one find no account by name,
 * then the other's account under the file's id, and refuse to start ("account id … is already
 * used by another account"): 1 start in 30–60 failed, and the cluster suite hung on the node
 * that did start.
 */
describe('identities applied by two nodes at once (PostgreSQL)', { skip: POSTGRES_SKIP }, () => {
  test('an apply waits for another node\'s apply to commit, then finds its accounts and users and succeeds', async () => {
    const db = await freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-ids-two-'));
    const spec = parseIdentities(JSON.parse(readFileSync(worldIdentities(dir).path, 'utf8')));
    const rootKey = new RootKey(randomBytes(32));
    const [a, b] = [await PostgresStore.open(db.url), await PostgresStore.open(db.url)];
    // As another node in the middle of its apply: holding the lock in an open transaction.
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT pg_advisory_xact_lock($1)', [IDENTITIES_LOCK]);
      let done = false;
      const applying = applyIdentities(a, spec, 'cn-north-4', rootKey, Date.now(), false, KEEP_STORED_PASSWORDS).finally(() => (done = true));
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(done, false, 'the apply waits while another holds the lock');
      await other.query('COMMIT');
      const added = await applying;
      assert.ok(added.length > 0);
      // And two applies at once, many times over: every one succeeds, the accounts once each.
      for (let round = 0; round < 10; round++) {
        const results = await Promise.allSettled([a, b].map((store) => applyIdentities(store, spec, 'cn-north-4', rootKey, Date.now(), false, KEEP_STORED_PASSWORDS)));
        assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled']);
      }
      const accounts = await a.read(async (tx) => Promise.all(spec.accounts.map((s) => tx.findAccountByName(s.name))));
      assert.ok(accounts.every((account) => account !== null));
    } finally {
      await other.end();
      await a.close();
      await b.close();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('on a fresh database, two applies started together both succeed (the race of two nodes starting at once)', async () => {
    for (let round = 0; round < 8; round++) {
      const db = await freshDatabase();
      const dir = mkdtempSync(join(tmpdir(), 'kmsd-ids-two-'));
      const spec = parseIdentities(JSON.parse(readFileSync(worldIdentities(dir).path, 'utf8')));
      const rootKey = new RootKey(randomBytes(32));
      const [a, b] = [await PostgresStore.open(db.url), await PostgresStore.open(db.url)];
      try {
        const results = await Promise.allSettled([a, b].map(async (store, i) => {
          if (i === 1) await new Promise((resolve) => setTimeout(resolve, round * 3));
          return applyIdentities(store, spec, 'cn-north-4', rootKey, Date.now(), false, KEEP_STORED_PASSWORDS);
        }));
        assert.deepEqual(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : r.status)), ['fulfilled', 'fulfilled']);
      } finally {
        await a.close();
        await b.close();
        await db.drop();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
