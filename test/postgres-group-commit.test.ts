import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { testConfig } from '../src/config.ts';
import { systemClock } from '../src/core/runtime.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { Client, ERR, newKey, worldIdentities, type TestUser, type World } from './harness.ts';
import type { ChainedAuditEvent } from '../src/audit/chain.ts';
import { verifyTrail } from '../src/audit/verify.ts';
import { PostgresStore } from '../src/store/postgres.ts';
import { LOCK_WAIT_MS, MAX_ATTEMPTS } from '../src/store/postgres-group.ts';
import type { Tx } from '../src/store/store.ts';
import { StoreUnavailableError } from '../src/store/unavailable.ts';
import { freshDatabase, POSTGRES_SKIP } from './support/postgres.ts';
import { auditRequestIds, commits, createGrant, grant, holdKeyRow, key, record } from './support/pg-group-units.ts';

/**
 * Group commit on PostgreSQL (src/store/postgres-group.ts), on a real database: writes
 * submitted in one turn of the event loop share one transaction and one COMMIT; each answers
 * alone; two stores (two nodes, or two event loops) writing shared and separate keys at once
 * never stall on a deadlock.
 */

/** A COMMIT that inserted grants takes 0.2 s a grant (a deferred trigger): long enough to end its session while it runs. */
async function slowCommits(admin: pg.Client): Promise<void> {
  await admin.query(`CREATE OR REPLACE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.2); RETURN NULL; END $$`);
  await admin.query('CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON grants DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()');
}

describe('PostgreSQL group commit: one transaction for the writes waiting on an event loop', { skip: POSTGRES_SKIP }, () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let store: PostgresStore;
  let other: PostgresStore;
  before(async () => {
    database = await freshDatabase();
    store = await PostgresStore.open(database.url, { deadlineMs: 10_000 });
    other = await PostgresStore.open(database.url, { deadlineMs: 10_000 });
  });
  after(async () => {
    await store?.close();
    await other?.close();
    await database?.drop();
  });

  test('64 writes submitted at once commit together, in one COMMIT, and every one lands with its record; the chain verifies', async () => {
    const k = key();
    await store.write((tx) => tx.insertKey(k));
    const units = commits(store);
    const ids = await Promise.all(Array.from({ length: 64 }, (_, i) => store.write(createGrant(k.keyId, `many-${i}`))));
    // One COMMIT for the 64 on a machine that keeps up ([64]); a unit that a loaded machine holds
    // past the stall bound (200 ms) hands the units after it to a second group (CI saw [24, 6, 34]).
    assert.equal(units.reduce((a, b) => a + b, 0), 64);
    assert.ok(units.length <= 8, `commits of ${units.join(', ')} units`);
    const listed = await store.read((tx) => tx.listGrants(k.keyId, 0, 100));
    assert.deepEqual(listed.items.map((g) => g.grantId).sort(), [...ids].sort());
    assert.deepEqual((await auditRequestIds(store)).filter((r) => r?.startsWith('many-')), Array.from({ length: 64 }, (_, i) => `many-${i}`));
    assert.equal((await verifyTrail(store)).intact, true);
  });

  test('a unit that fails rolls back alone (its grant and its record with it); its neighbours commit, in the same COMMIT', async () => {
    const k = key();
    await store.write((tx) => tx.insertKey(k));
    const units = commits(store);
    const refused = new Error('KMS.2404 refused after writing');
    const results = await Promise.allSettled([
      store.write(createGrant(k.keyId, 'n-0')),
      store.write(async (tx) => {
        await createGrant(k.keyId, 'n-1')(tx);
        throw refused;
      }),
      store.write(createGrant(k.keyId, 'n-2')),
      // A refusal of the database (a unique key taken) is rolled back the same way.
      store.write(async (tx) => {
        await tx.insertAudit(record('n-3'));
        await tx.insertKey({ ...k });
      }),
      store.write(createGrant(k.keyId, 'n-4')),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    assert.equal((results[1] as PromiseRejectedResult).reason, refused);
    assert.equal((results[3] as PromiseRejectedResult).reason.code, '23505');
    // One COMMIT for the three; the unique key's unit was run again alone (MAX_ATTEMPTS runs in
    // all, as a lone write was), and rolled back each time: no COMMIT.
    assert.deepEqual(units, [3]);
    assert.equal((await store.read((tx) => tx.countGrants(k.keyId))), 3);
    assert.deepEqual((await auditRequestIds(store)).filter((r) => r?.startsWith('n-')), ['n-0', 'n-2', 'n-4']);
    assert.equal((await verifyTrail(store)).intact, true);
  });

  test('exactly-once retire, the per-key grant limit and the same request twice hold when the units share a group', async () => {
    const k = key();
    const g = grant(k.keyId);
    await store.write(async (tx) => {
      await tx.insertKey(k);
      await tx.insertGrant(g);
    });
    const units = commits(store);
    // Two retires of one grant in one group: the second sees the first's delete.
    const retire = (tx: Tx) => tx.getKey(k.keyId, { lock: true }).then(() => tx.deleteGrant(g.grantId));
    assert.deepEqual(await Promise.all([store.write(retire), store.write(retire)]), [true, false]);
    assert.deepEqual(units, [2]);
    // A limit of 3 grants per key, checked under the key's lock: the fourth unit of the group is refused.
    const limited = (requestId: string) => async (tx: Tx) => {
      await tx.getKey(k.keyId, { lock: true });
      if ((await tx.countGrants(k.keyId)) >= 3) throw new Error('KMS.2404');
      return createGrant(k.keyId, requestId)(tx);
    };
    const results = await Promise.allSettled(['l-0', 'l-1', 'l-2', 'l-3'].map((r) => store.write(limited(r))));
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    assert.deepEqual(units, [2, 3]);
    assert.equal(await store.read((tx) => tx.countGrants(k.keyId)), 3);
  });

  test(`a later unit of a group that would wait for a row another session holds is rolled back (lock_timeout ${LOCK_WAIT_MS} ms) and commits first in the next group, where it may wait`, async () => {
    const [free, held] = [key(), key()];
    await store.write(async (tx) => {
      await tx.insertKey(free);
      await tx.insertKey(held);
    });
    const units = commits(store);
    // As another node's open transaction that holds the key.
    const holder = await holdKeyRow(database.url, held.keyId);
    try {
      const first = store.write(createGrant(free.keyId, 'bounce-0'));
      const second = store.write(createGrant(held.keyId, 'bounce-1'));
      let secondDone = false;
      void second.then(() => (secondDone = true), () => undefined);
      await first;
      // The first unit committed alone while the second's key is still held: the second was bounced, not waited for.
      assert.deepEqual(units, [1]);
      assert.equal(secondDone, false);
      assert.equal(await store.read((tx) => tx.countGrants(free.keyId)), 1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(secondDone, false);
      await holder.query('COMMIT');
      await second;
      assert.deepEqual(units, [1, 1]);
      assert.equal(await store.read((tx) => tx.countGrants(held.keyId)), 1);
      assert.deepEqual((await auditRequestIds(store)).filter((r) => r?.startsWith('bounce-')), ['bounce-0', 'bounce-1']);
    } finally {
      await holder.end();
    }
  });

  test('while stalled groups hold every connection, a write waiting for a group is refused 503 at the connect bound (5 s), not when a group ends', async () => {
    // Two connections; a deadline whose statement timeout (24 s) is far past the connect bound (5 s).
    const small = await PostgresStore.open(database.url, { poolSize: 2, deadlineMs: 30_000 });
    const [held, free] = [key(), key()];
    await small.write(async (tx) => {
      await tx.insertKey(held);
      await tx.insertKey(free);
    });
    const holder = await holdKeyRow(database.url, held.keyId);
    const started = Date.now();
    const outcome = (p: Promise<unknown>) => p.then(() => ({ ok: true, at: Date.now() - started }), (error: unknown) => ({ ok: false, error, at: Date.now() - started }));
    try {
      // Three writers of the held key: two stalled groups take both connections, the third waits.
      const stuck = [0, 1, 2].map((i) => outcome(small.write(createGrant(held.keyId, `stalled-${i}`))));
      await new Promise((resolve) => setTimeout(resolve, 800));
      const unrelated = await outcome(small.write(createGrant(free.keyId, 'unrelated')));
      // Answered at its bound, while the row is still held (it is released only below).
      assert.equal(unrelated.ok, false);
      assert.ok((unrelated as { error: unknown }).error instanceof StoreUnavailableError);
      assert.equal(((unrelated as { error: Error }).error).message, 'the store is unavailable: every PostgreSQL connection of this node stayed busy');
      assert.ok(unrelated.at >= 800 + 5000 - 50 && unrelated.at < 800 + 5000 + 3000, `refused ${unrelated.at} ms after the start`);
      await holder.query('ROLLBACK');
      const ends = await Promise.all(stuck);
      // The two stalled writers commit once the row is free; the third, which waited for a group past its bound too, was refused.
      assert.deepEqual(ends.map((e) => e.ok).sort(), [false, true, true]);
      assert.equal(await small.read((tx) => tx.countGrants(held.keyId)), 2);
      assert.equal(await small.read((tx) => tx.countGrants(free.keyId)), 0);
    } finally {
      await holder.end();
      await small.close();
    }
  });

  test('two stores writing shared and separate keys at once: every write lands, PostgreSQL detects no deadlock, the chain verifies', async (t) => {
    const shared = [key(), key()];
    const own = [key(), key(), key(), key()];
    await store.write(async (tx) => {
      for (const k of [...shared, ...own]) await tx.insertKey(k);
    });
    const name = new URL(database.url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    // PostgreSQL's own count of the deadlocks it broke in this database (a backend reports its
    // counts when it goes idle, at most once a second, and when it exits).
    const deadlocks = async () => {
      await admin.query('SELECT pg_stat_clear_snapshot()');
      return Number((await admin.query('SELECT deadlocks FROM pg_stat_database WHERE datname = $1', [name])).rows[0].deadlocks);
    };
    const deadlocksBefore = await deadlocks();
    const unitsA = commits(store);
    const unitsB = commits(other);
    const slowest: number[] = [];
    const timed = async (s: PostgresStore, keyId: string, requestId: string) => {
      const started = Date.now();
      await s.write(createGrant(keyId, requestId));
      slowest.push(Date.now() - started);
    };
    const waves = 12;
    const perWave = 24;
    await Promise.all([store, other].map(async (s, n) => {
      for (let wave = 0; wave < waves; wave++) {
        // Each store's own keys in a different order from the other's shared ones, to cross locks.
        const keys = n === 0 ? [shared[0], own[0], shared[1], own[1]] : [shared[1], own[2], shared[0], own[3]];
        await Promise.all(Array.from({ length: perWave }, (_, i) => timed(s, keys[i % keys.length].keyId, `x-${n}-${wave}-${i}`)));
      }
    }));
    const total = 2 * waves * perWave;
    assert.equal(slowest.length, total);
    let stored = 0;
    for (const k of [...shared, ...own]) stored += await store.read((tx) => tx.countGrants(k.keyId));
    assert.equal(stored, total);
    assert.equal((await auditRequestIds(store)).filter((r) => r?.startsWith('x-')).length, total);
    assert.equal((await verifyTrail(other)).intact, true);
    // Both stores did commit in groups (the lock-wait bound of LOCK_WAIT_MS moves some units to the next group).
    assert.ok(unitsA.some((n) => n > 1) && unitsB.some((n) => n > 1), `groups: ${unitsA} / ${unitsB}`);
    assert.equal(unitsA.reduce((a, b) => a + b, 0) + unitsB.reduce((a, b) => a + b, 0), total);
    // Every session of the two stores reports its counts: none broke a deadlock (40P01, which
    // the stores run again unseen, after deadlock_timeout).
    const sessions = async () => Number((await admin.query(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [name])).rows[0].n);
    for (let i = 0; i < 40 && (await sessions()) > 0; i++) {
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND state = 'idle'`, [name]);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(await deadlocks(), deadlocksBefore, 'PostgreSQL broke a deadlock between the two stores\' groups');
    await admin.end();
    t.diagnostic(`${total} writes in ${unitsA.length + unitsB.length} commits; slowest ${Math.max(...slowest)} ms (lock wait bound ${LOCK_WAIT_MS} ms)`);
  });
});

describe('PostgreSQL group commit: a connection lost in the middle of a group', { skip: POSTGRES_SKIP }, () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let store: PostgresStore;
  let admin: pg.Client;
  let name: string;
  before(async () => {
    database = await freshDatabase();
    name = new URL(database.url).pathname.slice(1);
    store = await PostgresStore.open(database.url, { deadlineMs: 10_000, onAudit: (r) => lines.push(r) });
    admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
  });
  after(async () => {
    await admin?.end();
    await store?.close();
    await database?.drop();
  });

  /** What the store told its audit listener (the --audit-log file's lines). */
  const lines: ChainedAuditEvent[] = [];
  /** Ends this database's sessions that are inside a transaction: the group's, halfway through. */
  const killGroup = async () => {
    const { rowCount } = await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND xact_start IS NOT NULL`,
      [name],
    );
    assert.equal(rowCount, 1);
  };

  /** Ends the group's session once it runs its COMMIT (made slow by slowCommits). */
  const killAtCommit = async () => {
    for (let i = 0; ; i++) {
      const { rows } = await admin.query(
        `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE '%; COMMIT'`, [name]);
      if (rows.length > 0) {
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
        return;
      }
      assert.ok(i < 2000, 'the group never ran its COMMIT');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };

  test('lost once before COMMIT: the whole group runs again on a new connection, and every unit lands exactly once', async () => {
    const k = key();
    await store.write((tx) => tx.insertKey(k));
    const units = commits(store);
    lines.length = 0;
    let killed = false;
    const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => store.write(async (tx) => {
      if (i === 5 && !killed) {
        killed = true;
        await killGroup();
      }
      return createGrant(k.keyId, `once-${i}`)(tx);
    })));
    assert.deepEqual(units, [8]);
    assert.deepEqual((await store.read((tx) => tx.listGrants(k.keyId, 0, 100))).items.map((g) => g.grantId).sort(), [...ids].sort());
    assert.deepEqual((await auditRequestIds(store)).filter((r) => r?.startsWith('once-')), Array.from({ length: 8 }, (_, i) => `once-${i}`));
    assert.equal((await verifyTrail(store)).intact, true);
    // The audit log got each line once, the committed ones: none of the run lost before COMMIT.
    const chain = await store.read((tx) => tx.listAuditChain(0, 10_000));
    assert.deepEqual(lines.map((r) => r.hash), chain.filter((e) => e.requestId?.startsWith('once-')).map((e) => e.hash));
  });

  test('a unit rolled back to its savepoint after writing its record hands no line to the audit log; its neighbours\' lines chain onto each other', async () => {
    const k = key();
    await store.write((tx) => tx.insertKey(k));
    lines.length = 0;
    const units = commits(store);
    const refused = new Error('KMS.2404');
    const results = await Promise.allSettled([0, 1, 2].map((i) => store.write(async (tx) => {
      await createGrant(k.keyId, `saved-${i}`)(tx);
      if (i === 1) throw refused;
    })));
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.deepEqual(units, [2]);
    assert.deepEqual(lines.map((r) => r.requestId), ['saved-0', 'saved-2']);
    assert.equal(lines[1].prevHash, lines[0].hash);
    const chain = await store.read((tx) => tx.listAuditChain(0, 10_000));
    assert.deepEqual(lines.map((r) => r.hash), chain.filter((e) => e.requestId?.startsWith('saved-')).map((e) => e.hash));
  });

  for (const stage of ['work', 'commit'] as const) {
    test(`lost on every run, at ${stage === 'work' ? 'the last unit\'s next statement' : 'the group\'s COMMIT'}: every unit of the group is refused as the store being unavailable (${stage}), and nothing of any is written`, async (t) => {
      const k = key();
      await store.write((tx) => tx.insertKey(k));
      const units = commits(store);
      lines.length = 0;
      let runs = 0;
      // At COMMIT: the group's statements after its units (its audit records, the COMMIT) run on;
      // a deferred trigger makes the COMMIT itself last, and the session is ended while it runs.
      if (stage === 'commit') {
        await slowCommits(admin);
        t.after(() => admin.query('DROP TRIGGER IF EXISTS slow_commit ON grants'));
      }
      let killing: Promise<void> | null = null;
      const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => store.write(async (tx) => {
        const id = await createGrant(k.keyId, `lost-${stage}-${i}`)(tx);
        if (i === 5) {
          runs++;
          if (stage === 'work') {
            await killGroup();
            await tx.countGrants(k.keyId);
          } else killing = killAtCommit();
        }
        return id;
      })));
      if (stage === 'commit') await killing;
      for (const r of results) {
        assert.equal(r.status, 'rejected');
        const reason = (r as PromiseRejectedResult).reason;
        assert.ok(reason instanceof StoreUnavailableError, String(reason));
        assert.equal(reason.stage, stage);
      }
      // Lost before COMMIT was sent: run again, MAX_ATTEMPTS times in all. Lost at COMMIT: its outcome is unknown, never run again.
      assert.equal(runs, stage === 'work' ? MAX_ATTEMPTS : 1);
      assert.deepEqual(units, []);
      assert.equal(await store.read((tx) => tx.countGrants(k.keyId)), 0);
      assert.deepEqual((await auditRequestIds(store)).filter((r) => r?.startsWith('lost-')), []);
      // Lines reach the audit log just before the COMMIT: none for runs lost before it; the lost
      // COMMIT's run, once, in order, each chained onto the one before (docs/audit.md's check reports such a run).
      assert.deepEqual(lines.map((r) => r.requestId), stage === 'work' ? [] : Array.from({ length: 6 }, (_, i) => `lost-${stage}-${i}`));
      for (let i = 1; i < lines.length; i++) assert.equal(lines[i].prevHash, lines[i - 1].hash);
      assert.equal((await verifyTrail(store)).intact, true);
    });
  }
});

describe('PostgreSQL group commit through a kmsd node: grant rules when the requests share groups', { skip: POSTGRES_SKIP }, () => {
  let server: RunningServer;
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let dir: string;
  let users: Record<string, TestUser>;
  const units: number[] = [];
  let submitted = 0;
  const as = (name: string) => new Client({ url: server.url, users } as unknown as World, users[name], 'token');
  /**
   * Sends the requests while a write holds the node's queue (until they all wrote, or at most
   * 150 ms, below the stall bound that would start another group): they then share the next group.
   */
  const together = async <T>(count: number, send: () => Promise<T>[]): Promise<T[]> => {
    const from = submitted + 1;
    const gate = server.store.write(async () => {
      const until = Date.now() + 150;
      while (submitted < from + count && Date.now() < until) await new Promise((r) => setTimeout(r, 1));
    });
    const replies = await Promise.all(send());
    await gate;
    return replies;
  };
  before(async () => {
    database = await freshDatabase();
    dir = mkdtempSync(join(tmpdir(), 'kmsd-group-commit-'));
    ({ users } = worldIdentities(dir));
    const config = testConfig({ dataDir: dir, identities: join(dir, 'identities.json'), port: 0, store: database.url, maxGrantsPerKey: 3 });
    server = await startServer(config, { clock: systemClock, logger: false, maintenanceMs: 3_600_000 });
    const write = server.store.write.bind(server.store);
    server.store.write = (work) => {
      submitted++;
      return write(work);
    };
    const metrics = server.store.onCommit;
    server.store.onCommit = (seconds, n) => {
      units.push(n);
      metrics?.(seconds, n);
    };
  });
  after(async () => {
    await server?.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the same create-grant twice at once: two grants, as one after the other; the grant limit (3 here) admits exactly one of three at once; one of two retires of a grant; every request audited', async (t) => {
    const alice = as('alice');
    await alice.getToken();
    const keyId = await newKey(alice);
    units.length = 0;
    const request = { key_id: keyId, grantee_principal: users.gus.id, operations: ['describe-key'] };
    const twice = await together(2, () => [alice.kms('create-grant', request), alice.kms('create-grant', request)]);
    assert.deepEqual(twice.map((r) => r.status), [200, 200]);
    assert.notEqual(twice[0].body.grant_id, twice[1].body.grant_id);
    const three = await together(3, () => [1, 2, 3].map(() => alice.kms('create-grant', request)));
    assert.deepEqual(three.map((r) => r.status).sort(), [200, 400, 400]);
    for (const r of three.filter((x) => x.status !== 200)) assert.deepEqual(r.body, ERR('KMS.2404', 'Too many CMK grants.'));
    const listed = await alice.kms('list-grants', { key_id: keyId });
    assert.equal(listed.body.total, 3);
    const grantId = twice[0].body.grant_id as string;
    const retires = await together(2, () => [1, 2].map(() => alice.kms('retire-grant', { key_id: keyId, grant_id: grantId })));
    assert.deepEqual(retires.map((r) => r.status).sort(), [200, 400]);
    assert.deepEqual(retires.find((r) => r.status === 400)?.body, ERR('KMS.2501', 'Invalid grant ID.'));
    assert.equal((await alice.kms('list-grants', { key_id: keyId })).body.total, 2);
    // Every request of the seven is in the trail, the refused ones as failed.
    const trail = await server.store.read((tx) => tx.listAudit({ keyId }, 0, 100));
    assert.deepEqual(
      trail.filter((e) => e.operation !== 'create-key').map((e) => `${e.operation} ${e.status}`).sort(),
      ['create-grant 200', 'create-grant 200', 'create-grant 200', 'create-grant 400', 'create-grant 400', 'retire-grant 200', 'retire-grant 400'],
    );
    assert.equal((await verifyTrail(server.store)).intact, true);
    // Grouping depends on when the requests reach the queue (the store-level tests above pin it
    // exactly); on a quiet machine: 1 2 1 1 2 1 1 1 (the gate; the two creates; the gate; the one
    // create admitted, its two neighbours refused in the same group; their two refusal records; ...).
    t.diagnostic(`units per commit: ${units.join(' ')}`);
  });
});

describe('PostgreSQL group commit: the audit chain\'s head is taken by the group\'s last statement', { skip: POSTGRES_SKIP }, () => {
  test('while another session holds the head, a group runs every unit (each on its own key) and waits for the head only in its one audit statement', async (t) => {
    const db = await freshDatabase();
    const store = await PostgresStore.open(db.url, { deadlineMs: 10_000 });
    const holder = new pg.Client({ connectionString: db.url });
    t.after(async () => {
      await holder.end().catch(() => {});
      await store.close();
      await db.drop();
    });
    const keys = [key(), key(), key()];
    await store.write(async (tx) => {
      for (const k of keys) await tx.insertKey(k);
    });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM audit_chain WHERE id = 1 FOR UPDATE');
    const units = commits(store);
    let ran = 0;
    // Submitted in one turn of the loop: one group.
    const writes = keys.map((k, i) => store.write(async (tx) => {
      assert.ok(await tx.getKey(k.keyId, { lock: true }));
      await tx.insertAudit(record(`tail-${i}`, k.keyId));
      ran++;
    }));
    let waiting: string[] = [];
    for (let i = 0; i < 300 && waiting.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      waiting = (await holder.query("SELECT query FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")).rows.map((r) => String(r.query));
    }
    const ranWhileHeld = ran;
    await holder.query('ROLLBACK');
    await Promise.all(writes);
    assert.deepEqual([ranWhileHeld, waiting.map((q) => q.slice(0, 'WITH RECURSIVE head AS'.length))], [3, ['WITH RECURSIVE head AS']]);
    assert.deepEqual(units, [3]);
    assert.deepEqual((await auditRequestIds(store)).filter((r) => r?.startsWith('tail-')), ['tail-0', 'tail-1', 'tail-2']);
    assert.equal((await verifyTrail(store)).intact, true);
  });
});
