import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { testConfig } from '../src/config.ts';
import { systemClock } from '../src/core/runtime.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { BACKUP_TABLES } from '../src/store/backup/tables.ts';
import { GRANT_COLUMNS, KEY_COLUMNS } from '../src/store/rows.ts';
import { CANARY_READ, NODE_LOCK } from '../src/store/node-lock.ts';
import { commitMovingVersions, DATA_VERSION_READ } from '../src/store/postgres-memo.ts';
import { PostgresStore } from '../src/store/postgres.ts';
import { AUDIT_APPEND_MANY, GRANT_OF_KEY_END_UNCOUNTED, GRANTS_NAMING } from '../src/store/sql-tx.ts';
import { Client, ERR, newGrant, newKey, worldIdentities, type TestUser, type World } from './harness.ts';
import { freshDatabase, POSTGRES_SKIP } from './support/postgres.ts';

/**
 * Round trips to PostgreSQL per request, COUNTED (not timed): every statement node-postgres
 * sends is one round trip (it sends the next only after the answer to the last), and every one
 * goes through pg.Client.prototype.query, which this wrapper counts with its text. Only the
 * store's pooled connections (pg-pool gives them `release`) serve requests: the node lock's own
 * connection and its heartbeat (node-lock.ts) are not counted.
 */
const sent: string[] = [];
const query = pg.Client.prototype.query;
function counting(): void {
  pg.Client.prototype.query = function (this: pg.Client & { release?: unknown }, ...args: unknown[]) {
    const config = args[0] as string | { text: string };
    if (typeof this.release === 'function') sent.push(typeof config === 'string' ? config : config.text);
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
}

/** The statements sent while `work` ran. */
async function statementsOf(work: () => Promise<unknown>): Promise<string[]> {
  const from = sent.length;
  await work();
  return sent.slice(from);
}

/** A request's write unit of work: its statements from BEGIN on (the reads before it authenticate the caller). */
function writeUnit(statements: string[]): string[] {
  assert.equal(statements.filter((s) => s.startsWith('BEGIN')).length, 1, statements.join('\n'));
  return statements.slice(statements.findIndex((s) => s.startsWith('BEGIN')));
}
const BEGIN_WRITE = 'BEGIN; SET LOCAL statement_timeout = 24000; SET LOCAL idle_in_transaction_session_timeout = 30000; SET LOCAL kmsd.moves_version = on';
const KEY_LOCK = `SELECT ${KEY_COLUMNS} FROM keys WHERE key_id = $1 FOR UPDATE`;
// The key's grant count moved within the per-key limit (with its grants version) and the grant inserted: one statement.
const GRANT_INSERT = `WITH counted AS (UPDATE keys SET grants_version = grants_version + 1, grant_count = grant_count + 1
    WHERE key_id = $2 AND grant_count < $10::bigint RETURNING key_id),
  inserted AS (INSERT INTO grants (${GRANT_COLUMNS}) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 FROM counted RETURNING key_id)
  SELECT COUNT(*) AS n FROM inserted`;
// The key's grant read, deleted, and the key's grant count and grants version moved: one statement.
// The grant is found by its primary key only (`key_id || ''`: see the plan test below).
const GRANT_END = `WITH ended AS (DELETE FROM grants WHERE grant_id = $1 AND key_id || '' = $2 RETURNING ${GRANT_COLUMNS}),
  moved AS (UPDATE keys SET grants_version = grants_version + 1, grant_count = grant_count - 1 WHERE key_id = $2 AND EXISTS (SELECT 1 FROM ended))
  SELECT ${GRANT_COLUMNS} FROM ended`;
// The audit head locked, the unit's record (a group's records) hashed from it and written, the head moved: one statement.
const AUDIT_INSERT = AUDIT_APPEND_MANY;
// The versions of the tables a grant write changed move with its COMMIT: not the users' or accounts'.
const GRANT_COMMIT = commitMovingVersions(['audit_chain', 'audit_events', 'grants', 'keys']);

const DENIED = ERR('KMS.0306', 'No access permissions.');

describe('a kmsd node on PostgreSQL: round trips per request', { skip: POSTGRES_SKIP }, () => {
  let server: RunningServer;
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let dir: string;
  let users: Record<string, TestUser>;
  const as = (name: string, auth: 'token' | 'aksk' = 'token') => new Client({ url: server.url, users } as unknown as World, users[name], auth);
  /**
   * The plan of `statement` with `values`, after `changes` (dropped indexes), in a transaction
   * rolled back, with sequential scans made as costly as they can be: which index the statement
   * could use, whatever the table's statistics.
   */
  const planOf = async (statement: string, values: string[], changes: string[]): Promise<string> => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      for (const change of changes) await client.query(change);
      await client.query('SET LOCAL enable_seqscan = off');
      await client.query(`PREPARE planned AS ${statement}`);
      const rows = (await client.query(`EXPLAIN (COSTS OFF) EXECUTE planned(${values.map((v) => pg.escapeLiteral(v)).join(', ')})`)).rows;
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end();
    }
  };
  before(async () => {
    counting();
    database = await freshDatabase();
    dir = mkdtempSync(join(tmpdir(), 'kmsd-round-trips-'));
    ({ users } = worldIdentities(dir));
    const config = testConfig({ dataDir: dir, identities: join(dir, 'identities.json'), port: 0, store: database.url });
    // No housekeeping during the test: its statements would be counted with the requests'.
    server = await startServer(config, { clock: systemClock, logger: false, maintenanceMs: 3_600_000 });
  });
  after(async () => {
    pg.Client.prototype.query = query;
    await server?.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('encrypt-data with a token, allowed by a grant: one round trip (the data version), then the same after a grant elsewhere ends', async () => {
    const keyId = await newKey(as('alice'));
    const grantId = await newGrant(as('alice'), keyId, users.gus.id, ['encrypt-data'], { retiring_principal: users.rita.id });
    const gus = as('gus');
    await gus.getToken();
    // The first use reads the rows; every later request only asks whether anything changed.
    assert.equal((await gus.kms('encrypt-data', { key_id: keyId, plain_text: 'warm' })).status, 200);
    for (let i = 0; i < 5; i++) {
      let status = 0;
      const statements = await statementsOf(async () => {
        status = (await gus.kms('encrypt-data', { key_id: keyId, plain_text: `x${i}` })).status;
      });
      assert.deepEqual([status, statements], [200, [DATA_VERSION_READ]]);
    }

    // Another node (a second store on the database) ends the grant: the very next request is refused.
    const other = await PostgresStore.open(database.url);
    try {
      assert.equal(await other.write((tx) => tx.deleteGrant(grantId)), true);
    } finally {
      await other.close();
    }
    const refused = await gus.kms('encrypt-data', { key_id: keyId, plain_text: 'after' });
    assert.deepEqual([refused.status, refused.body], [403, DENIED]);
  });

  test('a grant deleted and a key disabled in psql (not through kmsd) count on the very next request too', async () => {
    const keyId = await newKey(as('alice'));
    const grantId = await newGrant(as('alice'), keyId, users.gus.id, ['encrypt-data']);
    const gus = as('gus');
    assert.equal((await gus.kms('encrypt-data', { key_id: keyId, plain_text: 'warm' })).status, 200);
    assert.equal((await gus.kms('encrypt-data', { key_id: keyId, plain_text: 'memo' })).status, 200);
    const psql = new pg.Client({ connectionString: database.url });
    await psql.connect();
    try {
      assert.equal((await psql.query('DELETE FROM grants WHERE grant_id = $1', [grantId])).rowCount, 1);
      const refused = await gus.kms('encrypt-data', { key_id: keyId, plain_text: 'after' });
      assert.deepEqual([refused.status, refused.body], [403, DENIED]);
      const alice = as('alice');
      assert.equal((await alice.kms('encrypt-data', { key_id: keyId, plain_text: 'owner' })).status, 200);
      await psql.query(`UPDATE keys SET state = '3' WHERE key_id = $1`, [keyId]);
      const disabled = await alice.kms('encrypt-data', { key_id: keyId, plain_text: 'owner' });
      assert.deepEqual([disabled.status, disabled.body], [400, ERR('KMS.0209', 'The key has been disabled.')]);
    } finally {
      await psql.end();
    }
  });

  test('every data table moves its data version when changed outside kmsd (a migration that adds a table adds its triggers); no statement of kmsd changes a table it does not name', async () => {
    const psql = new pg.Client({ connectionString: database.url });
    await psql.connect();
    try {
      const { rows } = await psql.query(`SELECT c.relname AS name, t.tgenabled AS enabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname = 'data_changed' ORDER BY 1`);
      assert.deepEqual(rows.map((r) => r.name), [...BACKUP_TABLES].sort());
      // ENABLE ALWAYS ('A'): also under session_replication_role = replica (test/postgres-data-version.test.ts).
      assert.deepEqual([...new Set(rows.map((r) => r.enabled))], ['A']);
      // And for each row, ENABLE REPLICA ('R'): a logical replication apply worker fires only row triggers.
      const replica = await psql.query(`SELECT c.relname AS name, t.tgenabled AS enabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname = 'data_changed_replica' ORDER BY 1`);
      assert.deepEqual(replica.rows.map((r) => [r.name, r.enabled]), [...BACKUP_TABLES].sort().map((table) => [table, 'R']));
      // kmsd's COMMIT moves the versions of the tables its statements name (DECISIONS.postgresVersionPerTable):
      // that holds only while no statement changes a table it does not name. So no foreign key
      // acts on another table (only NO ACTION 'a' and RESTRICT 'r'), and no other trigger exists.
      const actions = await psql.query(`SELECT DISTINCT confdeltype::text || confupdtype::text AS actions FROM pg_constraint WHERE contype = 'f' AND connamespace = current_schema()::regnamespace`);
      assert.deepEqual(actions.rows.filter((r) => !/^[ar]{2}$/.test(r.actions)), []);
      const others = await psql.query(`SELECT t.tgname AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace AND t.tgname NOT IN ('data_changed', 'data_changed_replica')`);
      assert.deepEqual(others.rows, []);
      const views = await psql.query(`SELECT table_name FROM information_schema.views WHERE table_schema = current_schema()`);
      assert.deepEqual(views.rows, []);
    } finally {
      await psql.end();
    }
  });

  test('AK/SK-signed encrypt-data and decrypt-data by a grantee: one round trip each', async () => {
    const keyId = await newKey(as('alice'));
    await newGrant(as('alice'), keyId, users.gus.id, ['encrypt-data', 'decrypt-data']);
    const gus = as('gus', 'aksk');
    const first = await gus.kms('encrypt-data', { key_id: keyId, plain_text: 'warm' });
    assert.equal(first.status, 200);
    assert.equal((await gus.kms('decrypt-data', { cipher_text: first.body.cipher_text })).status, 200);
    let encrypted: { status: number; body: { cipher_text: string } } = { status: 0, body: { cipher_text: '' } };
    const encrypting = await statementsOf(async () => {
      encrypted = await gus.kms('encrypt-data', { key_id: keyId, plain_text: 'hello' });
    });
    assert.deepEqual([encrypted.status, encrypting], [200, [DATA_VERSION_READ]]);
    let decrypted: { status: number; body: { plain_text: string } } = { status: 0, body: { plain_text: '' } };
    const decrypting = await statementsOf(async () => {
      decrypted = await gus.kms('decrypt-data', { cipher_text: encrypted.body.cipher_text });
    });
    assert.deepEqual([decrypted.status, decrypted.body.plain_text, decrypting], [200, 'hello', [DATA_VERSION_READ]]);
  });

  test('32 requests at once: every one answered 200 and at most one version read each', async (t) => {
    const keyId = await newKey(as('alice'));
    await newGrant(as('alice'), keyId, users.gus.id, ['encrypt-data']);
    const gus = as('gus');
    assert.equal((await gus.kms('encrypt-data', { key_id: keyId, plain_text: 'warm' })).status, 200);
    let statuses: number[] = [];
    const statements = await statementsOf(async () => {
      statuses = (await Promise.all(Array.from({ length: 32 }, (_, i) => gus.kms('encrypt-data', { key_id: keyId, plain_text: `c${i}` })))).map((r) => r.status);
    });
    assert.deepEqual(statuses, Array(32).fill(200));
    // Besides the version reads: the read timeout, set once on each connection the pool (10) opens for them.
    const versionReads = statements.filter((s) => s === DATA_VERSION_READ).length;
    const settings = statements.filter((s) => /^SET statement_timeout = \d+$/.test(s)).length;
    assert.equal(versionReads + settings, statements.length, statements.join('\n'));
    assert.ok(versionReads <= 32, `${versionReads} version reads`);
    assert.ok(settings <= 10, `${settings} connections set up`);
    t.diagnostic(`${versionReads} version reads for 32 requests, ${settings} new connections`);
  });

  test('32 requests at once after a grant write elsewhere: the key and its grants are read once for all of them, not once each', async () => {
    const keyId = await newKey(as('alice'));
    await newGrant(as('alice'), keyId, users.gus.id, ['encrypt-data']);
    const gus = as('gus');
    await gus.getToken();
    assert.equal((await gus.kms('encrypt-data', { key_id: keyId, plain_text: 'warm' })).status, 200);
    // Another node (a second store on the database) writes a grant on another key: the keys' and grants' versions move.
    const other = await PostgresStore.open(database.url);
    try {
      const elsewhere = await newKey(as('alice'));
      await other.write((tx) => tx.insertGrant({
        grantId: 'f'.repeat(64), keyId: elsewhere, granteePrincipal: users.greg.id, granteeType: 'user', operations: ['describe-key'],
        issuingPrincipal: users.alice.id, retiringPrincipal: null, name: null, creationDate: Date.now(),
      }, 100));
    } finally {
      await other.close();
    }
    // The key's read answers 60 ms late: the other requests reach the same read meanwhile (and
    // wait for its answer: it comes within the 200 ms a request waits for another's).
    const counted = pg.Client.prototype.query;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const answer = (counted as (...a: unknown[]) => unknown).apply(this, args);
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text ?? '';
      if (!text.startsWith(`SELECT ${KEY_COLUMNS} FROM keys`) || !(answer instanceof Promise)) return answer;
      return answer.then((result) => new Promise((resolve) => setTimeout(() => resolve(result), 60)));
    } as typeof counted;
    let statements: string[];
    try {
      statements = await statementsOf(async () => {
        const answers = await Promise.all(Array.from({ length: 32 }, (_, i) => gus.kms('encrypt-data', { key_id: keyId, plain_text: `at once ${i}` })));
        assert.deepEqual(answers.map((a) => a.status), Array(32).fill(200));
      });
    } finally {
      pg.Client.prototype.query = counted;
    }
    const keyReads = statements.filter((s) => s.startsWith(`SELECT ${KEY_COLUMNS} FROM keys WHERE key_id = $1`) && !s.endsWith('FOR UPDATE'));
    const grantReads = statements.filter((s) => s.startsWith('SELECT') && /\bFROM grants\b/.test(s));
    assert.deepEqual([keyReads.length, grantReads.length], [1, 1], statements.join('\n'));
  });

  test('a write sends its statements in one transaction whose COMMIT moves the data version in the same round trip; a read after it in the same request sees it', async () => {
    const alice = as('alice');
    const keyId = await newKey(alice);
    await alice.kms('describe-key', { key_id: keyId });
    const statements = await statementsOf(async () => {
      assert.equal((await alice.kms('disable-key', { key_id: keyId })).status, 200);
    });
    assert.equal(statements.filter((s) => s.includes('INSERT INTO data_version')).length, 1);
    // The versions of the tables the write changed: the key's row and the audit trail's.
    assert.equal(statements.at(-1), "INSERT INTO data_version (table_name, version) SELECT table_name, gen_random_uuid()::text FROM unnest(ARRAY['audit_chain', 'audit_events', 'keys']::text[]) AS changed (table_name) ON CONFLICT (table_name) DO UPDATE SET version = EXCLUDED.version RETURNING table_name, version; COMMIT");
    const described = await alice.kms('describe-key', { key_id: keyId });
    assert.deepEqual([described.status, described.body.key_info.key_state], [200, '3']);
  });

  test('create-grant, retire-grant and revoke-grant: the statements of each write unit of work, pinned (each is one round trip, most of them under the key\'s row lock)', async () => {
    const alice = as('alice');
    const keyId = await newKey(alice);
    await alice.kms('describe-key', { key_id: keyId });
    // rita's token is issued (a write of its own) before the requests counted.
    const rita = as('rita');
    await rita.getToken();
    let created = { status: 0, body: { grant_id: '' } };
    const creating = writeUnit(await statementsOf(async () => {
      created = await alice.kms('create-grant', { key_id: keyId, grantee_principal: users.gus.id, operations: ['encrypt-data'], retiring_principal: users.rita.id });
    }));
    assert.equal(created.status, 200);
    assert.deepEqual(creating, [BEGIN_WRITE, KEY_LOCK, GRANT_INSERT, AUDIT_INSERT, GRANT_COMMIT]);

    let retired = { status: 0 };
    const retiring = writeUnit(await statementsOf(async () => {
      retired = await rita.kms('retire-grant', { key_id: keyId, grant_id: created.body.grant_id });
    }));
    assert.equal(retired.status, 200);
    assert.deepEqual(retiring, [BEGIN_WRITE, KEY_LOCK, GRANT_END, AUDIT_INSERT, GRANT_COMMIT]);

    const grantId = await newGrant(alice, keyId, users.gus.id, ['encrypt-data']);
    let revoked = { status: 0 };
    const revoking = writeUnit(await statementsOf(async () => {
      revoked = await alice.kms('revoke-grant', { key_id: keyId, grant_id: grantId });
    }));
    assert.equal(revoked.status, 200);
    assert.deepEqual(revoking, [BEGIN_WRITE, KEY_LOCK, GRANT_END, AUDIT_INSERT, GRANT_COMMIT]);
  });

  test('the statement that ends a grant (retire, revoke) can find it by its primary key only, never by scanning the key\'s grants', async () => {
    // With a key's grants coming and going, PostgreSQL's statistics made it pick grants_by_key
    // (key_id, creation_date, grant_id) for about half of the retires: a scan of every index
    // entry the key ever had, dead ones included, 4–6 times slower than the primary key. With the
    // primary key out of the way (dropped in a transaction rolled back) and every other plan made
    // as costly as it can be, the plan shows how else the statement could find the grant: the key
    // is never an index condition (the statement before this change: `Index Cond: ((key_id = …)
    // AND (grant_id = …))`, the scan of the key's grants).
    const alice = as('alice');
    const keyId = await newKey(alice);
    const grantId = await newGrant(alice, keyId, users.gus.id, ['encrypt-data']);
    // kmsd's own statement (the pinned text above is what the requests must send).
    assert.equal(GRANT_OF_KEY_END_UNCOUNTED, GRANT_END);
    const plan = await planOf(`${GRANT_OF_KEY_END_UNCOUNTED}`, [grantId, keyId], ['ALTER TABLE grants DROP CONSTRAINT grants_pkey']);
    // The grants part of the plan (the keys part finds the key's row by an index of its own).
    const grantsPart = plan.slice(plan.indexOf('Delete on grants'), plan.indexOf('CTE moved'));
    assert.match(grantsPart, /Scan .*on grants/, plan);
    assert.doesNotMatch(grantsPart, /Index Cond: .*key_id/, plan);
    // The primary key there: that is the plan.
    const kept = await planOf(GRANT_OF_KEY_END_UNCOUNTED, [grantId, keyId], []);
    assert.match(kept, /Index Cond: \(grant_id = /, kept);
    assert.doesNotMatch(kept, /grants_by_\w+/, kept);
    assert.equal((await alice.kms('revoke-grant', { key_id: keyId, grant_id: grantId })).status, 200);
  });

  test('a caller\'s grants on a key are found by grantee and key together, never by scanning grants_by_grantee for the key alone', async () => {
    // With the statistics of a key whose grants come and go (one grantee, one key), PostgreSQL
    // scanned grants_by_grantee (grantee_principal, key_id) with the key as its only condition:
    // every entry of the index, ~300 µs a read instead of ~50 (a reviewer's load; those
    // statistics are not rebuilt here). The statement now names the grantees as one condition
    // the index can take: with only that index there (the others dropped in a transaction rolled
    // back), one scan has both columns as its index conditions.
    const alice = as('alice');
    const keyId = await newKey(alice);
    await newGrant(alice, keyId, users.gus.id, ['encrypt-data']);
    const plan = await planOf(GRANTS_NAMING, [keyId, users.gus.id, users.gus.accountId], [
      'ALTER TABLE grants DROP CONSTRAINT grants_pkey', 'DROP INDEX grants_by_key', 'DROP INDEX grants_by_issuer', 'DROP INDEX grants_by_retiring',
    ]);
    assert.match(plan, /Index Cond: \(\(grantee_principal = ANY .*\) AND \(key_id = /, plan);
  });

  test('a grant write moves only the versions of what it changed: the next request reads the data version alone for its caller, and a user disabled in psql still counts on the very next request', async () => {
    const alice = as('alice');
    const keyId = await newKey(alice);
    const create = () => alice.kms('create-grant', { key_id: keyId, grantee_principal: users.gus.id, operations: ['encrypt-data'] });
    assert.equal((await create()).status, 200);
    const psql = new pg.Client({ connectionString: database.url });
    await psql.connect();
    try {
      const versions = async () => Object.fromEntries((await psql.query('SELECT table_name, version FROM data_version')).rows.map((r) => [r.table_name, r.version]));
      const before = await versions();
      // alice's rows (users, accounts) were read before the grant write, and stay remembered after it.
      const statements = await statementsOf(async () => assert.equal((await create()).status, 200));
      assert.deepEqual(statements.slice(0, 2), [DATA_VERSION_READ, BEGIN_WRITE], statements.join('\n'));
      const after = await versions();
      const moved = Object.keys(after).filter((table) => after[table] !== before[table]).sort();
      assert.deepEqual(moved, ['audit_chain', 'audit_events', 'grants', 'keys']);
      assert.deepEqual(Object.keys(after).sort(), [...BACKUP_TABLES].sort());

      // Remembered, and then changed outside kmsd: the users table's version moves with it.
      assert.equal((await create()).status, 200);
      await psql.query('UPDATE users SET disabled = 1 WHERE id = $1', [users.alice.id]);
      const refused = await create();
      const { request_id: _, ...body } = refused.body as Record<string, unknown>;
      assert.deepEqual([refused.status, body], [401, { error_code: 'APIGW.0301', error_msg: 'Incorrect IAM authentication information: decrypt token fail' }]);
    } finally {
      await psql.query('UPDATE users SET disabled = 0 WHERE id = $1', [users.alice.id]);
      await psql.end();
    }
  });

  test('a retire refused after the statement that ends the grant: 403, rolled back, and the grant still works on the very next request', async () => {
    const alice = as('alice');
    const keyId = await newKey(alice);
    const grantId = await newGrant(alice, keyId, users.gus.id, ['encrypt-data']);
    const gus = as('gus');
    assert.equal((await gus.kms('encrypt-data', { key_id: keyId, plain_text: 'warm' })).status, 200);
    // gus holds the grant but not retire-grant: it may not retire it.
    let refused = { status: 0, body: {} as unknown };
    const refusing = await statementsOf(async () => {
      refused = await gus.kms('retire-grant', { key_id: keyId, grant_id: grantId });
    });
    assert.deepEqual([refused.status, refused.body], [403, DENIED]);
    const unit = refusing.slice(refusing.indexOf(BEGIN_WRITE), refusing.indexOf('ROLLBACK') + 1);
    assert.deepEqual(unit, [BEGIN_WRITE, KEY_LOCK, GRANT_END, 'ROLLBACK'], refusing.join('\n'));
    assert.equal((await gus.kms('encrypt-data', { key_id: keyId, plain_text: 'after' })).status, 200);
    const listed = await alice.kms('list-grants', { key_id: keyId });
    assert.deepEqual([listed.status, listed.body.grants.map((g: { grant_id: string }) => g.grant_id)], [200, [grantId]]);
  });

  test('connections lost (a failover, a restart: the database may have gone back in time): the node forgets what it remembers, even at the same data version', async () => {
    const keyId = await newKey(as('alice'));
    await newGrant(as('alice'), keyId, users.gus.id, ['encrypt-data']);
    const gus = as('gus', 'aksk');
    assert.equal((await gus.kms('encrypt-data', { key_id: keyId, plain_text: 'warm' })).status, 200);
    const remembered = await statementsOf(async () => assert.equal((await gus.kms('encrypt-data', { key_id: keyId, plain_text: 'memo' })).status, 200));
    assert.deepEqual(remembered, [DATA_VERSION_READ]);
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      // Every pooled connection of the node ends (not its node lock's: that one is not pooled, and does not read).
      const ended = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'kmsd' AND pid <> pg_backend_pid()
        AND pid NOT IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = $1)`, [NODE_LOCK]);
      assert.ok(ended.rows.length > 0);
    } finally {
      await admin.end();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = (await statementsOf(async () => assert.equal((await gus.kms('encrypt-data', { key_id: keyId, plain_text: 'after' })).status, 200)))
      .filter((s) => !/^SET statement_timeout = \d+$/.test(s));
    assert.equal(after[0], DATA_VERSION_READ);
    assert.ok(after.length > 1, `rows read again after the version read: ${after.join('\n')}`);
  });
});

describe('a kmsd node on PostgreSQL that lost its node lock (fencing): the check value first on a read, last before a write\'s COMMIT', { skip: POSTGRES_SKIP }, () => {
  let server: RunningServer;
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let dir: string;
  let users: Record<string, TestUser>;
  let admin: pg.Client;
  const as = (name: string) => new Client({ url: server.url, users } as unknown as World, users[name], 'token');
  /** The statements of `work`, but the read timeout set once on a new connection. */
  const requestStatements = async (work: () => Promise<unknown>) => (await statementsOf(work)).filter((s) => !/^SET statement_timeout = \d+$/.test(s));
  before(async () => {
    counting();
    database = await freshDatabase();
    dir = mkdtempSync(join(tmpdir(), 'kmsd-round-trips-fence-'));
    ({ users } = worldIdentities(dir));
    const config = testConfig({ dataDir: dir, identities: join(dir, 'identities.json'), port: 0, store: database.url });
    server = await startServer(config, { clock: systemClock, logger: false, maintenanceMs: 3_600_000 });
    admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
  });
  after(async () => {
    pg.Client.prototype.query = query;
    await admin?.end();
    await server?.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a read sends the check value read before its data version read (also for rows the node remembers), a write sends it just before the COMMIT that moves the version; a changed value is 503 KMS.0104 for good', async () => {
    const alice = as('alice');
    const keyId = await newKey(alice);
    assert.equal((await alice.kms('encrypt-data', { key_id: keyId, plain_text: 'warm' })).status, 200);
    const held = await statementsOf(async () => assert.equal((await alice.kms('encrypt-data', { key_id: keyId, plain_text: 'held' })).status, 200));
    assert.deepEqual(held, [DATA_VERSION_READ]);

    // The node's lock session ends and an offline tool's exclusive hold keeps the node from taking it again.
    const { rows } = await admin.query("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND mode = 'ShareLock' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())", [NODE_LOCK]);
    assert.equal(rows.length, 1);
    await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
    let exclusive = false;
    while (!exclusive) exclusive = (await admin.query('SELECT pg_try_advisory_lock($1) AS held', [NODE_LOCK])).rows[0].held;
    // The node learns of the ended session from its socket: give it that moment.
    await new Promise((resolve) => setTimeout(resolve, 500));

    // Every read unit of work of the request checks first, and then asks for the data version;
    // the first after the loss forgets what the node remembered (anything may have changed unseen), and reads its rows again.
    const firstFenced = await requestStatements(async () => assert.equal((await alice.kms('encrypt-data', { key_id: keyId, plain_text: 'fenced' })).status, 200));
    assert.deepEqual(firstFenced.slice(0, 2), [CANARY_READ.text, DATA_VERSION_READ], firstFenced.join('\n'));
    assert.ok(firstFenced.some((s) => s !== CANARY_READ.text && s !== DATA_VERSION_READ), firstFenced.join('\n'));
    const fencedRead = await requestStatements(async () => assert.equal((await alice.kms('encrypt-data', { key_id: keyId, plain_text: 'fenced' })).status, 200));
    assert.ok(fencedRead.length >= 2 && fencedRead.length % 2 === 0, fencedRead.join('\n'));
    for (let i = 0; i < fencedRead.length; i += 2) assert.deepEqual(fencedRead.slice(i, i + 2), [CANARY_READ.text, DATA_VERSION_READ], fencedRead.join('\n'));

    const fencedWrite = await requestStatements(async () => assert.equal((await alice.kms('disable-key', { key_id: keyId })).status, 200));
    const disableCommit = commitMovingVersions(['audit_chain', 'audit_events', 'keys']);
    assert.deepEqual(fencedWrite.slice(-2), [CANARY_READ.text, disableCommit], fencedWrite.join('\n'));
    assert.equal(fencedWrite.filter((s) => s === disableCommit).length, 1);

    // The tool changes the check value (as a rotation does): the next read stops at the check.
    await admin.query("UPDATE settings SET value = 'Y2hhbmdlZA==' WHERE name = $1", [CANARY_READ.values[0]]);
    let refused = { status: 0, body: {} as unknown };
    const refusing = await requestStatements(async () => {
      refused = await alice.kms('describe-key', { key_id: keyId });
    });
    assert.deepEqual([refused.status, refused.body, refusing], [503, ERR('KMS.0104', 'A system exception occurred. Contact technical support.'), [CANARY_READ.text]]);
    await admin.query('SELECT pg_advisory_unlock($1)', [NODE_LOCK]);
    const later = await requestStatements(async () => {
      refused = await alice.kms('describe-key', { key_id: keyId });
    });
    assert.deepEqual([refused.status, later], [503, []]);
  });
});
