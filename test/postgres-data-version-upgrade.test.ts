import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { testConfig } from '../src/config.ts';
import { systemClock } from '../src/core/runtime.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { BACKUP_TABLES } from '../src/store/backup/tables.ts';
import { MIGRATIONS, POSTGRES } from '../src/store/migrations.ts';
import { PostgresStore } from '../src/store/postgres.ts';
import type { Key } from '../src/core/model.ts';
import { Client, ERR, newGrant, newKey, worldIdentities, type TestUser, type World } from './harness.ts';
import { freshDatabase, POSTGRES_SKIP } from './support/postgres.ts';

/**
 * Migration 12 (a data version per table, DECISIONS.postgresVersionPerTable) on a database that
 * ran before it, and the version moved by changes a logical replication subscription applies.
 */
const DENIED = ERR('KMS.0306', 'No access permissions.');

async function connected<T>(url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

describe('the data version per table on PostgreSQL: upgrade, schemas and replication', { skip: POSTGRES_SKIP }, () => {
  test('migration 12 on a database at schema 11 changes data_version in place: a read-only role granted SELECT before it still reads the store after it', async () => {
    const database = await freshDatabase();
    const role = `kmsd_ro_${randomBytes(4).toString('hex')}`;
    try {
      await connected(database.url, async (c) => {
        await c.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
        for (let version = 1; version <= 11; version++) {
          await c.query('BEGIN');
          for (const sql of MIGRATIONS[version - 1](POSTGRES)) await c.query(sql);
          await c.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, Date.now()]);
          await c.query('COMMIT');
        }
        await c.query(`INSERT INTO settings (name, value) VALUES ('kept', 'from schema 11')`);
        // As docs/audit.md makes the role `kmsd audit verify` runs under.
        await c.query(`CREATE ROLE ${role} LOGIN`);
        await c.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
      });
      await (await PostgresStore.open(database.url)).close();
      const rows = await connected(database.url, async (c) => (await c.query('SELECT table_name FROM data_version ORDER BY table_name')).rows);
      assert.deepEqual(rows.map((r) => r.table_name), [...BACKUP_TABLES].sort());
      const asRole = new URL(database.url);
      asRole.username = role;
      const readOnly = await PostgresStore.open(asRole.toString(), { migrate: false });
      try {
        assert.equal(await readOnly.read((tx) => tx.getSetting('kept')), 'from schema 11');
      } finally {
        await readOnly.close();
      }
    } finally {
      await database.drop();
      await connected(new URL('/postgres', database.url).toString(), (c) => c.query(`DROP ROLE IF EXISTS ${role}`));
    }
  });

  test('kmsd\'s tables in a schema of its own ("$user"): another role\'s change still moves the changed table\'s version (the trigger finds data_version whatever its caller\'s search_path)', async () => {
    const database = await freshDatabase();
    const role = `kmsd_ops_${randomBytes(4).toString('hex')}`;
    try {
      const owner = await connected(database.url, async (c) => (await c.query('SELECT current_user AS owner')).rows[0].owner as string);
      await connected(database.url, (c) => c.query(`CREATE SCHEMA "${owner}" AUTHORIZATION "${owner}"`));
      const store = await PostgresStore.open(database.url);
      try {
        await store.write(async (tx) => {
          await tx.insertAccount({ id: 'acct', name: 'acct', disabled: false } as never);
          await tx.insertUser({ id: 'gus', accountId: 'acct', name: 'gus', passwordHash: 'x', policies: [], disabled: false } as never);
        });
      } finally {
        await store.close();
      }
      const versionOfUsers = () => connected(database.url, async (c) => (await c.query(`SELECT version FROM "${owner}".data_version WHERE table_name = 'users'`)).rows[0].version);
      const before = await versionOfUsers();
      await connected(database.url, async (c) => {
        await c.query(`CREATE ROLE ${role} LOGIN`);
        await c.query(`GRANT USAGE ON SCHEMA "${owner}" TO ${role}`);
        await c.query(`GRANT SELECT, UPDATE ON "${owner}".users TO ${role}`);
        await c.query(`GRANT SELECT, INSERT, UPDATE ON "${owner}".data_version TO ${role}`);
      });
      const asRole = new URL(database.url);
      asRole.username = role;
      await connected(asRole.toString(), (c) => c.query(`UPDATE "${owner}".users SET disabled = 1 WHERE id = 'gus'`));
      assert.notEqual(await versionOfUsers(), before);
    } finally {
      await database.drop();
      await connected(new URL('/postgres', database.url).toString(), (c) => c.query(`DROP ROLE IF EXISTS ${role}`));
    }
  });

  test('a schema named after the role, made after kmsd\'s tables in public, comes first on the search_path: kmsd refuses to start an empty store there, and the store in public is untouched', async () => {
    const database = await freshDatabase();
    try {
      const store = await PostgresStore.open(database.url);
      try {
        await store.write((tx) => tx.initSetting('kept', 'in public'));
      } finally {
        await store.close();
      }
      const { owner, name } = await connected(database.url, async (c) => (await c.query('SELECT current_user AS owner, current_database() AS name')).rows[0]);
      await connected(database.url, (c) => c.query(`CREATE SCHEMA "${owner}" AUTHORIZATION "${owner}"`));
      await assert.rejects(PostgresStore.open(database.url), {
        message: `a kmsd store is in schema public, but new tables would go to schema ${owner} (the search_path "$user", public names it first): ` +
          `kmsd would start a new, empty store there. To serve the store in public: ALTER ROLE ${owner} IN DATABASE ${name} SET search_path = public (or drop schema ${owner} if it is empty). ` +
          `To start a separate store in ${owner}: ALTER ROLE ${owner} IN DATABASE ${name} SET search_path = ${owner}`,
      });
      const tables = await connected(database.url, async (c) => (await c.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1`, [owner])).rows[0].n);
      assert.equal(tables, 0);
      // As the message says: without the empty schema, the store in public serves as before.
      await connected(database.url, (c) => c.query(`DROP SCHEMA "${owner}"`));
      const again = await PostgresStore.open(database.url);
      try {
        assert.equal(await again.read((tx) => tx.getSetting('kept')), 'in public');
      } finally {
        await again.close();
      }
    } finally {
      await database.drop();
    }
  });

  test('a store already split by an older kmsd (an empty store in the role\'s schema, the keys in public): the start says so, with both stores\' keys and the command that serves the other', async () => {
    const database = await freshDatabase();
    try {
      const store = await PostgresStore.open(database.url);
      const key = (): Key => ({
        keyId: randomUUID(), accountId: 'acct', region: 'cn-north-4', alias: `a-${randomUUID()}`, description: '', spec: 'AES_256',
        usage: 'ENCRYPT_DECRYPT', origin: 'kms', state: '2', creationDate: 1000, scheduledDeletionDate: null, defaultKey: false,
        rotationEnabled: false, rotationInterval: 365, lastRotationTime: null, rotationDue: null, rotations: 0, materialVersion: 1,
        keystoreId: '0', materialExpires: null, importDigest: null,
      });
      try {
        await store.write(async (tx) => {
          await tx.insertKey(key());
          await tx.insertKey(key());
        });
      } finally {
        await store.close();
      }
      const { owner, name } = await connected(database.url, async (c) => (await c.query('SELECT current_user AS owner, current_database() AS name')).rows[0]);
      // What an older kmsd did: the role's schema made after the store in public, a new store migrated into it.
      await connected(database.url, (c) => c.query(`CREATE SCHEMA "${owner}" AUTHORIZATION "${owner}"`));
      const inOwnSchema = new URL(database.url);
      inOwnSchema.searchParams.set('options', `-c search_path=${owner}`);
      await (await PostgresStore.open(inOwnSchema.toString())).close();
      const notices: string[] = [];
      const split = await PostgresStore.open(database.url, { onNotice: (message) => notices.push(message) });
      await split.close();
      assert.deepEqual(notices, [
        `this node serves the kmsd store in schema ${owner} (0 keys); schema public, later on the search_path "$user", public, holds another kmsd store (2 keys), out of this node's sight. ` +
          `An older kmsd may have started the store in ${owner} when that schema was created after public's. ` +
          `To serve the store in public, with every node stopped: ALTER ROLE ${owner} IN DATABASE ${name} SET search_path = public; then start them (and drop schema ${owner} if nothing in it is needed)`,
      ]);
      // The other store's keys locked (a VACUUM FULL, an ALTER TABLE under way): the start does not wait for them.
      const locker = new pg.Client({ connectionString: database.url });
      await locker.connect();
      try {
        await locker.query('BEGIN');
        await locker.query('LOCK TABLE public.keys IN ACCESS EXCLUSIVE MODE');
        const held: string[] = [];
        await (await PostgresStore.open(database.url, { onNotice: (message) => held.push(message) })).close();
        assert.equal(held.length, 1);
        assert.match(held[0], /holds another kmsd store \(keys not counted: canceling statement due to lock timeout\)/);
      } finally {
        await locker.query('ROLLBACK');
        await locker.end();
      }
      // Given in the URL, the search_path is changed there.
      const inUrl = new URL(database.url);
      inUrl.searchParams.set('options', `-c search_path=${owner},public`);
      const fromUrl: string[] = [];
      await (await PostgresStore.open(inUrl.toString(), { onNotice: (message) => fromUrl.push(message) })).close();
      assert.match(fromUrl[0], new RegExp(`with every node stopped: give the connection URL options=-c search_path=public instead of ${owner},public; then start them`));
      // A path that names one store only: nothing to say.
      const quiet: string[] = [];
      await (await PostgresStore.open(inOwnSchema.toString(), { onNotice: (message) => quiet.push(message) })).close();
      assert.deepEqual(quiet, []);
    } finally {
      await database.drop();
    }
  });

  test('another role\'s store it cannot read, later on its search_path, is not told as a store it lost sight of', async () => {
    const database = await freshDatabase();
    const role = `kmsd_b_${randomBytes(4).toString('hex')}`;
    try {
      // The database owner's store in public; a second role with a store of its own in its schema.
      await (await PostgresStore.open(database.url)).close();
      await connected(database.url, async (c) => {
        await c.query(`CREATE ROLE ${role} LOGIN`);
        await c.query(`CREATE SCHEMA ${role} AUTHORIZATION ${role}`);
      });
      const asRole = new URL(database.url);
      asRole.username = role;
      const ownPath = new URL(asRole);
      ownPath.searchParams.set('options', `-c search_path=${role}`);
      await (await PostgresStore.open(ownPath.toString())).close();
      const notices: string[] = [];
      await (await PostgresStore.open(asRole.toString(), { onNotice: (message) => notices.push(message) })).close();
      assert.equal(notices.length, 0, notices.join('\n'));
      // Given SELECT on the other store, it is told.
      await connected(database.url, (c) => c.query(`GRANT SELECT ON public.keys TO ${role}`));
      await (await PostgresStore.open(asRole.toString(), { onNotice: (message) => notices.push(message) })).close();
      assert.equal(notices.length, 1);
      assert.match(notices[0], new RegExp(`^this node serves the kmsd store in schema ${role} \\(0 keys\\); schema public, later on the search_path "\\$user", public, holds another kmsd store \\(0 keys\\)`));
    } finally {
      await database.drop();
      await connected(new URL('/postgres', database.url).toString(), (c) => c.query(`DROP ROLE IF EXISTS ${role}`));
    }
  });

  test('another tool\'s schema_migrations in public is not a kmsd store: kmsd starts its own in a schema named after its role', async () => {
    const database = await freshDatabase();
    try {
      const owner = await connected(database.url, async (c) => {
        await c.query('CREATE TABLE public.schema_migrations (version VARCHAR PRIMARY KEY)');
        const { rows } = await c.query('SELECT current_user AS owner');
        await c.query(`CREATE SCHEMA "${rows[0].owner}" AUTHORIZATION "${rows[0].owner}"`);
        return rows[0].owner as string;
      });
      const store = await PostgresStore.open(database.url);
      await store.close();
      const tables = await connected(database.url, async (c) => (await c.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1 AND tablename IN ('schema_migrations', 'keys', 'data_version')`, [owner])).rows[0].n);
      assert.equal(tables, 3);
    } finally {
      await database.drop();
    }
  });

  test('rows changed under session_replication_role = replica (a load, row triggers fired row by row) move their table\'s version once per transaction, not once per row', async () => {
    const database = await freshDatabase();
    try {
      await (await PostgresStore.open(database.url)).close();
      await connected(database.url, async (c) => {
        const version = async () => (await c.query(`SELECT version FROM data_version WHERE table_name = 'settings'`)).rows[0].version;
        const first = await version();
        await c.query('BEGIN');
        await c.query('SET LOCAL session_replication_role = replica');
        await c.query(`INSERT INTO settings (name, value) SELECT 'load-' || i, 'v' FROM generate_series(1, 500) AS i`);
        await c.query(`UPDATE settings SET value = 'w' WHERE name LIKE 'load-%'`);
        const { rows } = await c.query(`SELECT n_tup_ins + n_tup_upd AS writes FROM pg_stat_xact_user_tables WHERE relname = 'data_version'`);
        await c.query('COMMIT');
        assert.equal(Number(rows[0].writes), 1);
        const second = await version();
        assert.notEqual(second, first);
        // The next transaction moves it again.
        await c.query(`DELETE FROM settings WHERE name LIKE 'load-%'`);
        assert.notEqual(await version(), second);
      });
    } finally {
      await database.drop();
    }
  });

  describe('a node serving a logical replication subscriber', () => {
    let publisher: Awaited<ReturnType<typeof freshDatabase>>;
    let subscriber: Awaited<ReturnType<typeof freshDatabase>>;
    let server: RunningServer;
    let dir: string;
    let users: Record<string, TestUser>;
    const names = `kmsd_${randomBytes(4).toString('hex')}`;
    let logical = false;
    before(async () => {
      publisher = await freshDatabase();
      subscriber = await freshDatabase();
      logical = (await connected(publisher.url, (c) => c.query('SHOW wal_level'))).rows[0].wal_level === 'logical';
      await (await PostgresStore.open(publisher.url)).close();
      dir = mkdtempSync(join(tmpdir(), 'kmsd-subscriber-'));
      ({ users } = worldIdentities(dir));
      const config = testConfig({ dataDir: dir, identities: join(dir, 'identities.json'), port: 0, store: subscriber.url });
      server = await startServer(config, { clock: systemClock, logger: false });
    });
    after(async () => {
      await server?.close();
      await connected(subscriber.url, async (c) => {
        await c.query(`ALTER SUBSCRIPTION ${names} DISABLE`).catch(() => {});
        await c.query(`ALTER SUBSCRIPTION ${names} SET (slot_name = NONE)`).catch(() => {});
        await c.query(`DROP SUBSCRIPTION IF EXISTS ${names}`);
      }).catch(() => {});
      await connected(publisher.url, (c) => c.query(`SELECT pg_drop_replication_slot('${names}') FROM pg_replication_slots WHERE slot_name = '${names}'`)).catch(() => {});
      await subscriber?.drop();
      await publisher?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('a grant deleted on the publisher, applied by the subscription (which fires row triggers only): refused on the node\'s very next request', async (t) => {
      if (!logical) {
        // scripts/test-postgres.sh starts the server with wal_level = logical; CI runs this test.
        if (process.env.CI) assert.fail('CI must run this test: the PostgreSQL server needs wal_level = logical');
        return t.skip('the PostgreSQL server has no wal_level = logical');
      }
      const alice = new Client({ url: server.url, users } as unknown as World, users.alice, 'aksk');
      const gus = new Client({ url: server.url, users } as unknown as World, users.gus, 'aksk');
      const keyId = await newKey(alice);
      const grantId = await newGrant(alice, keyId, users.gus.id, ['encrypt-data']);
      // The node remembers the grant.
      for (let i = 0; i < 2; i++) assert.equal((await gus.kms('encrypt-data', { key_id: keyId, plain_text: `warm ${i}` })).status, 200);
      // The publisher holds the same grant row; its changes to grants reach the subscriber.
      const grant = await connected(subscriber.url, async (c) => (await c.query('SELECT * FROM grants WHERE grant_id = $1', [grantId])).rows[0]);
      await connected(publisher.url, async (c) => {
        const columns = Object.keys(grant);
        await c.query(`INSERT INTO grants (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, columns.map((k) => grant[k]));
        await c.query(`CREATE PUBLICATION ${names} FOR TABLE grants`);
        await c.query(`SELECT pg_create_logical_replication_slot('${names}', 'pgoutput')`);
      });
      const from = new URL(publisher.url);
      const connection = `host=${from.hostname} port=${from.port} dbname=${from.pathname.slice(1)} user=${decodeURIComponent(from.username)}`;
      await connected(subscriber.url, (c) => c.query(`CREATE SUBSCRIPTION ${names} CONNECTION '${connection}' PUBLICATION ${names} WITH (create_slot = false, slot_name = '${names}', copy_data = false)`));
      // Once the subscription streams (its worker is active on the slot), the delete is applied.
      for (let i = 0; ; i++) {
        const active = await connected(publisher.url, async (c) => (await c.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [names])).rows[0]?.active);
        if (active) break;
        assert.ok(i < 200, 'the subscription did not start streaming within 20 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      await connected(publisher.url, (c) => c.query('DELETE FROM grants WHERE grant_id = $1', [grantId]));
      for (let i = 0; ; i++) {
        const left = await connected(subscriber.url, async (c) => (await c.query('SELECT count(*)::int AS n FROM grants WHERE grant_id = $1', [grantId])).rows[0].n);
        if (left === 0) break;
        assert.ok(i < 200, 'the subscription did not apply the delete within 20 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      const refused = await gus.kms('encrypt-data', { key_id: keyId, plain_text: 'after' });
      assert.deepEqual([refused.status, refused.body], [403, DENIED]);
    });
  });
});
