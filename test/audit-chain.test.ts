import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { GENESIS, NoChainHead, chainHash, type StoredAuditEvent } from '../src/audit/chain.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { newGrant, newKey, raw, startWorld, type World, type WorldOptions } from './harness.ts';
import { MIGRATIONS, POSTGRES, SQLITE } from '../src/store/migrations.ts';
import { PostgresStore } from '../src/store/postgres.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import type { Store } from '../src/store/store.ts';
import type { AuditEvent } from '../src/core/model.ts';
import { POSTGRES_SKIP, freshDatabase } from './support/postgres.ts';

/**
 * The audit trail's hash chain seen from outside (issue #22 §3): `kmsd audit verify` on a
 * store that someone changed behind kmsd's back, on both drivers. Each tampering is done with
 * plain SQL, as anyone with write access to the database could, checked, then undone.
 */
const BIN = fileURLToPath(new URL('../bin/kmsd.js', import.meta.url));

type Row = Record<string, unknown>;
/** Plain SQL on the store's database, past kmsd: statements written $1, $2 for both drivers. */
interface Sql {
  all(sql: string, params?: unknown[]): Promise<Row[]>;
}

interface Target {
  name: string;
  skip: string | false;
  /** A fresh empty store of this driver: SQL on it, the flags that name it, and the world options that serve it. */
  fresh(): Promise<{ sql: Sql; storeArgs: string[]; worldOptions: WorldOptions; open(): Promise<Store>; dispose(): Promise<void> }>;
}

const TARGETS: Target[] = [
  {
    name: 'SQLite',
    skip: false,
    async fresh() {
      const dir = mkdtempSync(join(tmpdir(), 'kmsd-chain-'));
      // Opened at first use: an empty database file before kmsd's first start would look like a store without its root key.
      let db: DatabaseSync | null = null;
      const open = (): DatabaseSync => {
        db ??= new DatabaseSync(join(dir, 'kmsd.db'));
        db.exec('PRAGMA busy_timeout = 5000');
        return db;
      };
      const sql: Sql = { all: async (text, params = []) => open().prepare(text.replace(/\$(\d+)/g, '?$1')).all(...(params as never[])) as Row[] };
      return {
        sql, storeArgs: ['--data-dir', dir], worldOptions: { dataDir: dir },
        open: async () => new SqliteStore(join(dir, 'kmsd.db')),
        dispose: async () => {
          db?.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'PostgreSQL',
    skip: POSTGRES_SKIP,
    async fresh() {
      const database = await freshDatabase();
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      const sql: Sql = { all: async (text, params = []) => (await client.query(text, params)).rows as Row[] };
      return {
        sql, storeArgs: ['--store', database.url], worldOptions: { config: { store: database.url } },
        open: () => PostgresStore.open(database.url),
        dispose: async () => {
          await client.end();
          await database.drop();
        },
      };
    },
  },
];

async function verify(storeArgs: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'audit', 'verify', ...storeArgs], (error, stdout, stderr) => {
      resolve({ code: error ? (error as { code?: number }).code ?? -1 : 0, stdout, stderr });
    });
  });
}

for (const target of TARGETS) {
  describe(`kmsd audit verify: ${target.name}`, { skip: target.skip }, () => {
    let world: World;
    let storeArgs: string[];
    let sql: Sql;
    let dispose: () => Promise<void>;
    let records: StoredAuditEvent[];
    before(async () => {
      const fresh = await target.fresh();
      ({ storeArgs, sql } = fresh);
      world = await startWorld(fresh.worldOptions);
      dispose = async () => {
        await world.close();
        await fresh.dispose();
      };
      // A trail of every kind of record: allowed, denied, failed, a login, a refusal of an unknown caller.
      const alice = world.as('alice');
      const keyId = await newKey(alice);
      const grantId = await newGrant(alice, keyId, world.users.greg.id, ['describe-key', 'retire-grant']);
      assert.equal((await world.as('greg', 'aksk').kms('retire-grant', { key_id: keyId, grant_id: grantId })).status, 200);
      assert.equal((await world.as('nobody').kms('disable-key', { key_id: keyId })).status, 403);
      assert.equal((await alice.kms('enable-key', { key_id: keyId })).status, 400);
      assert.equal((await alice.kms('disable-key', { key_id: keyId })).status, 200);
      records = await world.server.store.read((tx) => tx.listAuditChain(0, 1000));
      assert.ok(records.length >= 8, `a trail of ${records.length} records`);
    });
    after(() => dispose());

    const intact = () => `audit trail intact: ${records.length} records checked\nhead: record ${records.at(-1)?.seq} ${records.at(-1)?.hash}\n`;
    const broken = (seq: number | null, reason: string, checked: number) =>
      `audit trail broken${seq === null ? '' : ` at record ${seq}`}: ${reason}\n${checked} records before it are intact\n`;

    /** Runs `tamper`, expects verify to name the break, then puts the tables back as they were and expects the trail intact again. */
    async function expectBreak(tamper: () => Promise<unknown>, expected: string): Promise<void> {
      const events = await sql.all('SELECT * FROM audit_events ORDER BY seq');
      const chain = await sql.all('SELECT * FROM audit_chain');
      await tamper();
      try {
        assert.deepEqual(await verify(storeArgs), { code: 1, stdout: expected, stderr: '' });
      } finally {
        await restore('audit_events', events);
        await restore('audit_chain', chain);
      }
      assert.deepEqual(await verify(storeArgs), { code: 0, stdout: intact(), stderr: '' });
    }
    async function restore(table: string, rows: Row[]): Promise<void> {
      await sql.all(`DELETE FROM ${table}`);
      for (const row of rows) {
        const columns = Object.keys(row);
        await sql.all(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(row));
      }
    }
    const seq = (i: number) => records.at(i)?.seq as number;

    test('an untouched trail verifies: exit 0, how many records it checked, and the head', async () => {
      assert.deepEqual(await verify(storeArgs), { code: 0, stdout: intact(), stderr: '' });
    });

    test('a record altered is named: its content no longer matches its hash', async () => {
      await expectBreak(
        () => sql.all(`UPDATE audit_events SET user_id = 'someone-else' WHERE seq = $1`, [seq(3)]),
        broken(seq(3), `record ${seq(3)} was altered: its content does not match its hash`, 3),
      );
    });

    test('a record altered with its hash made again breaks the link to the record after it', async () => {
      const altered = { ...records[3], userId: world.users.alice.id };
      await expectBreak(
        () => sql.all('UPDATE audit_events SET user_id = $2, hash = $3 WHERE seq = $1', [seq(3), altered.userId, chainHash(altered.prevHash as string, altered)]),
        broken(seq(4), `record ${seq(4)} does not follow record ${seq(3)}: a record was deleted, inserted or moved there, or the chain was cut`, 4),
      );
    });

    test('a record deleted is found at the record after it', async () => {
      await expectBreak(
        () => sql.all('DELETE FROM audit_events WHERE seq = $1', [seq(2)]),
        broken(seq(3), `record ${seq(3)} does not follow record ${seq(1)}: a record was deleted, inserted or moved there, or the chain was cut`, 2),
      );
    });

    test('two records swapped (reordered) are found at the first of them', async () => {
      await expectBreak(async () => {
        await sql.all('UPDATE audit_events SET seq = -1 WHERE seq = $1', [seq(4)]);
        await sql.all('UPDATE audit_events SET seq = $1 WHERE seq = $2', [seq(4), seq(5)]);
        await sql.all('UPDATE audit_events SET seq = $1 WHERE seq = -1', [seq(5)]);
      }, broken(seq(4), `record ${seq(4)} does not follow record ${seq(3)}: a record was deleted, inserted or moved there, or the chain was cut`, 4));
    });

    test('the first record deleted: the second does not follow the start of the chain', async () => {
      await expectBreak(
        () => sql.all('DELETE FROM audit_events WHERE seq = $1', [seq(0)]),
        broken(seq(1), `record ${seq(1)} does not follow the start of the chain: a record was deleted, inserted or moved there, or the chain was cut`, 0),
      );
    });

    test('the newest records deleted (the chain cut short) are found against the head', async () => {
      await expectBreak(
        () => sql.all('DELETE FROM audit_events WHERE seq >= $1', [seq(-2)]),
        broken(seq(-1), `the trail ends at record ${seq(-3)} but its head is record ${seq(-1)}: the records after it were deleted (the chain was cut)`, records.length - 2),
      );
    });

    test('every record deleted, or the head removed: the chain was cut', async () => {
      await expectBreak(
        () => sql.all('DELETE FROM audit_events'),
        broken(seq(-1), `the trail ends before its first record but its head is record ${seq(-1)}: the records after it were deleted (the chain was cut)`, 0),
      );
      await expectBreak(
        () => sql.all('DELETE FROM audit_chain'),
        broken(null, 'the store has no chain head (its audit_chain row was removed): the chain was cut', 0),
      );
    });

    test('with the head removed, writing a record fails (NoChainHead) and adds no row', async () => {
      const chain = await sql.all('SELECT * FROM audit_chain');
      const count = async () => Number((await sql.all('SELECT COUNT(*) AS n FROM audit_events'))[0].n);
      const before = await count();
      await sql.all('DELETE FROM audit_chain');
      try {
        await assert.rejects(world.server.store.write((tx) => tx.insertAudit({ ...records[0], requestId: 'headless' })), NoChainHead);
        assert.equal(await count(), before);
      } finally {
        await restore('audit_chain', chain);
      }
      assert.deepEqual(await verify(storeArgs), { code: 0, stdout: intact(), stderr: '' });
    });

    test('a record added past the head, outside kmsd, is named', async () => {
      const last = (await sql.all('SELECT * FROM audit_events WHERE seq = $1', [seq(-1)]))[0];
      await expectBreak(
        () => sql.all(`INSERT INTO audit_events (${Object.keys(last).join(', ')}) VALUES (${Object.keys(last).map((_, i) => `$${i + 1}`).join(', ')})`,
          Object.values({ ...last, seq: seq(-1) + 100, request_id: 'forged' })),
        broken(seq(-1) + 100, `record ${seq(-1) + 100} lies after the chain's head (record ${seq(-1)}): it was added outside kmsd`, records.length),
      );
    });

    const cutAndMoveHeadBack = async () => {
      await sql.all('DELETE FROM audit_events WHERE seq >= $1', [seq(-2)]);
      await sql.all('UPDATE audit_chain SET head_seq = $1, head_hash = $2', [seq(-3), records.at(-3)?.hash]);
    };
    const unchainEverything = async () => {
      await sql.all('UPDATE audit_events SET prev_hash = NULL, hash = NULL');
      await sql.all('UPDATE audit_chain SET start_seq = $1, head_seq = $1, head_hash = $2', [seq(-1), GENESIS]);
    };

    test('the newest records cut with the head moved back to an earlier record: found against the head the last verification reached', async () => {
      await expectBreak(cutAndMoveHeadBack, broken(seq(-1),
        `the head is record ${seq(-3)}, older than record ${seq(-1)} which the last verification that passed reached: the newest records were cut and the head moved back`, 0));
    });

    test('every hash removed and the chain\'s start moved past them: found against the start the last verification saw', async () => {
      await expectBreak(unchainEverything, broken(null,
        `the chain starts after record ${seq(-1)}, but the last verification that passed found it starting after record 0: the start was moved`, 0));
    });

    test('with the kept verification removed too, only a head kept elsewhere finds them: --expect-head SEQ:HASH', async () => {
      const kept = await sql.all(`SELECT * FROM settings WHERE name = 'audit-verification-passed'`);
      const expect = ['--expect-head', `${seq(-1)}:${records.at(-1)?.hash}`];
      for (const [tamper, expected, plain] of [
        [cutAndMoveHeadBack, broken(seq(-1), `the head is record ${seq(-3)}, older than record ${seq(-1)} which --expect-head reached: the newest records were cut and the head moved back`, 0),
          `audit trail intact: ${records.length - 2} records checked\nhead: record ${seq(-3)} ${records.at(-3)?.hash}\n`],
        [unchainEverything, broken(seq(-1), `record ${seq(-1)}, which --expect-head found chained, lies before the start of the chain (after record ${seq(-1)}): the start was moved`, 0),
          `audit trail intact: 0 records checked; ${records.length} earlier records, written before the trail was chained, are not covered\nhead: record ${seq(-1)} ${GENESIS}\n`],
      ] as const) {
        const events = await sql.all('SELECT * FROM audit_events ORDER BY seq');
        const chain = await sql.all('SELECT * FROM audit_chain');
        await tamper();
        await sql.all(`DELETE FROM settings WHERE name = 'audit-verification-passed'`);
        try {
          assert.deepEqual(await verify([...storeArgs, ...expect]), { code: 1, stdout: expected, stderr: '' });
          // Without it (what the docs say a database writer can hide): the trail verifies.
          assert.deepEqual(await verify(storeArgs), { code: 0, stdout: plain, stderr: '' });
        } finally {
          await restore('audit_events', events);
          await restore('audit_chain', chain);
          await sql.all(`DELETE FROM settings WHERE name = 'audit-verification-passed'`);
          await restore('settings', kept);
        }
      }
      assert.deepEqual(await verify([...storeArgs, ...expect]), { code: 0, stdout: intact(), stderr: '' });
      // A record rewritten at the expected head (the whole chain made again) is not the one expected.
      const other = `${seq(-1)}:${'ab'.repeat(32)}`;
      assert.deepEqual(await verify([...storeArgs, `--expect-head=${other}`]), {
        code: 1, stdout: broken(seq(-1), `record ${seq(-1)} is not the one --expect-head found (its hash differs): the chain was rewritten from there on`, records.length - 1), stderr: '',
      });
      assert.deepEqual(await verify(storeArgs), { code: 0, stdout: intact(), stderr: '' });
      const bad = await verify([...storeArgs, '--expect-head', '12']);
      assert.deepEqual(bad, {
        code: 2, stdout: '', stderr: 'kmsd: --expect-head must be SEQ:HASH (a record\'s seq and its 64 hex digits, as "head: record SEQ HASH" printed them), got "12"\n',
      });
    });

    test('a chain hash removed from a record is named', async () => {
      await expectBreak(
        () => sql.all('UPDATE audit_events SET hash = NULL WHERE seq = $1', [seq(5)]),
        broken(seq(5), `record ${seq(5)} has no chain hash`, 5),
      );
    });

    test('the node answers when verification last passed and last failed (GET /_kmsd/audit-verification, no credentials)', async () => {
      const r = await raw(world.url, 'GET', '/_kmsd/audit-verification');
      assert.equal(r.status, 200);
      const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
      assert.match(r.body.last_passed.at, iso);
      assert.match(r.body.last_failed.at, iso);
      // The tests above ended with a break found, then the trail put back and verified again.
      assert.ok(r.body.last_passed.at >= r.body.last_failed.at);
      assert.deepEqual(r.body, {
        last_passed: { at: r.body.last_passed.at, records: records.length, start_seq: 0, head_seq: seq(-1), head_hash: records.at(-1)?.hash },
        last_failed: { at: r.body.last_failed.at, seq: seq(5), reason: `record ${seq(5)} has no chain hash` },
        since_passed: { head_seq: seq(-1), head_hash: records.at(-1)?.hash, chains: true },
        unreadable: [],
      });
      const view = async () => {
        const answer = await raw(world.url, 'GET', '/_kmsd/audit-verification');
        assert.equal(answer.status, 200);
        return answer.body;
      };
      // A record written since the verification: the head still chains from the verified one.
      assert.equal((await world.as('alice').kms('enable-key', { key_id: records.at(-1)?.keyId })).status, 200);
      const newest = (await world.server.store.read((tx) => tx.listAuditChain(seq(-1), 10))).at(-1) as StoredAuditEvent;
      assert.deepEqual((await view()).since_passed, { head_seq: newest.seq, head_hash: newest.hash, chains: true });
      // Altered since, or the verified head itself rewritten: it no longer does.
      await sql.all(`UPDATE audit_events SET user_id = 'someone-else' WHERE seq = $1`, [newest.seq]);
      assert.deepEqual((await view()).since_passed, { head_seq: newest.seq, head_hash: newest.hash, chains: false });
      await sql.all('UPDATE audit_events SET user_id = $2 WHERE seq = $1', [newest.seq, newest.userId]);
      await sql.all(`UPDATE audit_events SET hash = $2 WHERE seq = $1`, [seq(-1), 'ab'.repeat(32)]);
      assert.deepEqual((await view()).since_passed, { head_seq: newest.seq, head_hash: newest.hash, chains: false });
      await sql.all(`UPDATE audit_events SET hash = $2 WHERE seq = $1`, [seq(-1), records.at(-1)?.hash]);
      assert.equal((await view()).since_passed.chains, true);
      // Kept outcomes of the wrong shape (anyone with write access to the database can write them): named, never a 500.
      const kept = await sql.all(`SELECT * FROM settings WHERE name LIKE 'audit-verification-%'`);
      try {
        await sql.all(`UPDATE settings SET value = '{"at":"soon"}' WHERE name = 'audit-verification-passed'`);
        await sql.all(`UPDATE settings SET value = '[]' WHERE name = 'audit-verification-failed'`);
        assert.deepEqual(await view(), { last_passed: null, last_failed: null, since_passed: null, unreadable: ['last_passed', 'last_failed'] });
        await sql.all(`UPDATE settings SET value = 'not json' WHERE name = 'audit-verification-passed'`);
        await sql.all(`UPDATE settings SET value = '{"at":1e300,"seq":null,"reason":"x"}' WHERE name = 'audit-verification-failed'`);
        assert.deepEqual(await view(), { last_passed: null, last_failed: null, since_passed: null, unreadable: ['last_passed', 'last_failed'] });
      } finally {
        await sql.all(`DELETE FROM settings WHERE name LIKE 'audit-verification-%'`);
        await restore('settings', kept);
      }
    });
  });
}

for (const target of TARGETS) {
  test(`${target.name}: a store with a trail from before the chain: the chain starts at the first record written after the migration`, { skip: target.skip }, async () => {
    const fresh = await target.fresh();
    try {
      // The schema as kmsd left it before the chain (migrations 1 to 7), with three records.
      await fresh.sql.all('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
      for (let version = 1; version <= 7; version++) {
        for (const statement of MIGRATIONS[version - 1](target.name === 'SQLite' ? SQLITE : POSTGRES)) await fresh.sql.all(statement);
        await fresh.sql.all('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, 0]);
      }
      for (const id of ['old-1', 'old-2', 'old-3']) {
        await fresh.sql.all(`INSERT INTO audit_events (time, request_id, operation, outcome, status) VALUES (1, $1, 'create-key', 'allowed', 200)`, [id]);
      }
      const store = await fresh.open();
      const event: AuditEvent = {
        time: 2, requestId: 'new', accountId: null, userId: null, accessKeyId: null, claimedAccessKeyId: null, source: null, operation: 'create-key',
        keyId: null, grantId: null, sequence: null, outcome: 'allowed', status: 200, errorCode: null, count: 1,
      };
      for (const requestId of ['new-1', 'new-2']) await store.write((tx) => tx.insertAudit({ ...event, requestId }));
      const written = await store.read((tx) => tx.listAuditChain(3, 10));
      await store.close();
      assert.deepEqual(written.map((w) => w.requestId), ['new-1', 'new-2']);
      assert.deepEqual(written.map((w) => [w.seq, w.prevHash]), [[4, GENESIS], [5, written[0].hash]]);
      const earlier = '; 3 earlier records, written before the trail was chained, are not covered';
      assert.deepEqual(await verify(fresh.storeArgs), { code: 0, stdout: `audit trail intact: 2 records checked${earlier}\nhead: record 5 ${written[1].hash}\n`, stderr: '' });
      // What came before the chain is not covered (as the docs say); what came after is.
      await fresh.sql.all(`UPDATE audit_events SET operation = 'delete-key' WHERE seq = 2`);
      assert.equal((await verify(fresh.storeArgs)).code, 0);
      await fresh.sql.all(`UPDATE audit_events SET operation = 'delete-key' WHERE seq = 4`);
      assert.deepEqual(await verify(fresh.storeArgs), {
        code: 1, stdout: 'audit trail broken at record 4: record 4 was altered: its content does not match its hash\n0 records before it are intact\n', stderr: '',
      });
    } finally {
      await fresh.dispose();
    }
  });
}

for (const target of TARGETS) {
  test(`${target.name}: a lone surrogate in a refused request's key_id (stored as U+FFFD) and a non-BMP character keep the chain verifiable`, { skip: target.skip }, async () => {
    const fresh = await target.fresh();
    const world = await startWorld(fresh.worldOptions);
    try {
      // Any signed-in user can send these: the record keeps U+FFFD for the lone surrogate, as the store would anyway.
      assert.equal((await world.as('nobody').kms('disable-key', { key_id: '\ud800y' })).status, 400);
      assert.equal((await world.as('nobody').kms('disable-key', { key_id: 'x\ud83d\ude00\udfff' })).status, 400);
      const stored = await world.server.store.read((tx) => tx.listAuditChain(0, 1000));
      assert.deepEqual(stored.slice(-2).map((r) => r.keyId), ['\ufffdy', 'x\ud83d\ude00\ufffd']);
      for (const r of stored) assert.equal(chainHash(r.prevHash as string, r), r.hash);
      const { code, stdout } = await verify(fresh.storeArgs);
      assert.deepEqual({ code, stdout }, { code: 0, stdout: `audit trail intact: ${stored.length} records checked\nhead: record ${stored.at(-1)?.seq} ${stored.at(-1)?.hash}\n` });
    } finally {
      await world.close();
      await fresh.dispose();
    }
  });
}

test('a store that does not answer: exit 2 with one line (not a broken trail, not a stack)', async () => {
  assert.deepEqual(await verify(['--store', 'postgres://kmsd@127.0.0.1:1/none']), { code: 2, stdout: '', stderr: 'kmsd: cannot open the store: connect ECONNREFUSED 127.0.0.1:1\n' });
});

for (const target of TARGETS) {
  test(`${target.name}: verify does not migrate: a schema from an older kmsd is refused in one line (exit 2) and left as it was`, { skip: target.skip }, async () => {
    const fresh = await target.fresh();
    try {
      await fresh.sql.all('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
      for (let version = 1; version <= 7; version++) {
        for (const statement of MIGRATIONS[version - 1](target.name === 'SQLite' ? SQLITE : POSTGRES)) await fresh.sql.all(statement);
        await fresh.sql.all('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, 0]);
      }
      assert.deepEqual(await verify(fresh.storeArgs), {
        code: 2, stdout: '', stderr: `kmsd: cannot open the store: the store's schema is at version 7, this kmsd's is ${MIGRATIONS.length}: start kmsd serve on it once to migrate it\n`,
      });
      assert.deepEqual((await fresh.sql.all('SELECT MAX(version) AS v FROM schema_migrations')).map((r) => Number(r.v)), [7]);
    } finally {
      await fresh.dispose();
    }
  });
}

test('PostgreSQL: a read-only role verifies (exit 0); keeping the outcome is best-effort, said in one line', { skip: POSTGRES_SKIP }, async () => {
  const target = TARGETS[1];
  const fresh = await target.fresh();
  const world = await startWorld(fresh.worldOptions);
  const role = `kmsd_ro_${Math.random().toString(16).slice(2, 10)}`;
  try {
    await newKey(world.as('alice'));
    const records = await world.server.store.read((tx) => tx.listAuditChain(0, 1000));
    await fresh.sql.all(`CREATE ROLE ${role} LOGIN`);
    await fresh.sql.all(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
    const url = new URL(fresh.storeArgs[1]);
    url.username = role;
    assert.deepEqual(await verify(['--store', url.toString()]), {
      code: 0, stdout: `audit trail intact: ${records.length} records checked\nhead: record ${records.at(-1)?.seq} ${records.at(-1)?.hash}\n`,
      stderr: 'kmsd: the outcome was not kept in the store (permission denied for table settings): the console and the next run will not see it\n',
    });
  } finally {
    await world.close();
    await fresh.dispose();
    await asAdmin((c) => c.query(`DROP ROLE IF EXISTS ${role}`));
  }
});

async function asAdmin(work: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: process.env.KMSD_TEST_POSTGRES_URL });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}
