import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { chainHash, type StoredAuditEvent } from '../src/audit/chain.ts';
import { newGrant, newKey, startWorld, type World } from './harness.ts';
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
  close(): Promise<void>;
}

interface Target {
  name: string;
  skip: string | false;
  /** A world on a fresh store of this driver, the flags that name that store, and SQL on it. */
  open(): Promise<{ world: World; storeArgs: string[]; sql: Sql; dispose(): Promise<void> }>;
}

const TARGETS: Target[] = [
  {
    name: 'SQLite',
    skip: false,
    async open() {
      const world = await startWorld();
      const db = new DatabaseSync(join(world.dataDir, 'kmsd.db'));
      db.exec('PRAGMA busy_timeout = 5000');
      const sql: Sql = {
        all: async (text, params = []) => db.prepare(text.replace(/\$(\d+)/g, '?$1')).all(...(params as never[])) as Row[],
        close: async () => db.close(),
      };
      return { world, storeArgs: ['--data-dir', world.dataDir], sql, dispose: async () => { db.close(); await world.close(); } };
    },
  },
  {
    name: 'PostgreSQL',
    skip: POSTGRES_SKIP,
    async open() {
      const database = await freshDatabase();
      const world = await startWorld({ config: { store: database.url } });
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      const sql: Sql = {
        all: async (text, params = []) => (await client.query(text, params)).rows as Row[],
        close: () => client.end(),
      };
      return {
        world, storeArgs: ['--store', database.url], sql,
        dispose: async () => {
          await client.end();
          await world.close();
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
      ({ world, storeArgs, sql, dispose } = await target.open());
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

    test('a record added past the head, outside kmsd, is named', async () => {
      const last = (await sql.all('SELECT * FROM audit_events WHERE seq = $1', [seq(-1)]))[0];
      await expectBreak(
        () => sql.all(`INSERT INTO audit_events (${Object.keys(last).join(', ')}) VALUES (${Object.keys(last).map((_, i) => `$${i + 1}`).join(', ')})`,
          Object.values({ ...last, seq: seq(-1) + 100, request_id: 'forged' })),
        broken(seq(-1) + 100, `record ${seq(-1) + 100} lies after the chain's head (record ${seq(-1)}): it was added outside kmsd`, records.length),
      );
    });

    test('a chain hash removed from a record is named', async () => {
      await expectBreak(
        () => sql.all('UPDATE audit_events SET hash = NULL WHERE seq = $1', [seq(5)]),
        broken(seq(5), `record ${seq(5)} has no chain hash`, 5),
      );
    });
  });
}
