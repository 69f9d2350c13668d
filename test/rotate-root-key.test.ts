import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { DECISIONS } from '../src/core/decisions.ts';
import { CANARY_CONTEXT, materialContext, RootKey } from '../src/core/sealing.ts';
import { checkRootKey } from '../src/root-key.ts';
import { ROTATION_LOCK_ORDER, rotateRootKey, sealedRows } from '../src/root-key-rotation/rotate.ts';
import { DERIVED_ROWS, SEALED_COLUMNS } from '../src/root-key-rotation/sealed-values.ts';
import { PostgresRawDb, quoteName, SqliteRawDb, type RawDb } from '../src/store/backup/raw-db.ts';
import { NODE_LOCK } from '../src/store/node-lock.ts';
import { PostgresStore } from '../src/store/postgres.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import type { Store } from '../src/store/store.ts';
import { worldIdentities, type TestUser } from './harness.ts';
import { startKmsd } from './support/cluster.ts';
import { kmsd, kmsdKilled } from './support/offline.ts';
import { freshDatabase, POSTGRES_SKIP } from './support/postgres.ts';
import { populate, replay } from './support/sealed-world.ts';

let dir: string;
let identities: string;
let users: Record<string, TestUser>;
const dropped: Array<() => Promise<void>> = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kmsd-rotate-'));
  ({ path: identities, users } = worldIdentities(dir));
});
after(async () => {
  for (const drop of dropped) await drop();
  rmSync(dir, { recursive: true, force: true });
});

/** One event loop: these tests are about the store, and a start on a busy machine stays quick. */
const ONE_LOOP = { KMSD_WORKERS: '1' };
const newKey = () => randomBytes(32).toString('base64');
const keyFile = (key: string): string => {
  const path = join(dir, `root-${randomBytes(4).toString('hex')}.key`);
  writeFileSync(path, `${key}\n`, { mode: 0o600 });
  return path;
};
const storeFlag = (store: string, dataDir: string) => (store === 'sqlite' ? ['--data-dir', dataDir] : ['--store', store]);
const raw = (store: string, dataDir: string): Promise<RawDb> =>
  store === 'sqlite' ? Promise.resolve(new SqliteRawDb(join(dataDir, 'kmsd.db'))) : PostgresRawDb.connect(store);
async function target(kind: 'sqlite' | 'postgres'): Promise<{ store: string; dataDir: string }> {
  const dataDir = join(dir, `data-${randomBytes(4).toString('hex')}`);
  mkdirSync(dataDir);
  if (kind === 'sqlite') return { store: 'sqlite', dataDir };
  const db = await freshDatabase();
  dropped.push(db.drop);
  return { store: db.url, dataDir };
}

/** Every row of every table, in a stable order: equal dumps mean the store was not changed. */
async function dump(store: string, dataDir: string): Promise<string> {
  const db = await raw(store, dataDir);
  try {
    const out: string[] = [];
    for (const table of await db.tables()) {
      if (table === 'schema_migrations' || table.startsWith('sqlite_')) continue;
      const rows = await db.all(`SELECT * FROM ${quoteName(table)} ORDER BY 1, 2`);
      out.push(`${table}:${JSON.stringify(rows, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))}`);
    }
    return out.join('\n');
  } finally {
    await db.close();
  }
}

/**
 * Which of the keys the store is sealed under: asserts that every sealed value (the check value
 * included) opens under that one key and none under another, and returns its index.
 */
async function sealedUnder(store: string, dataDir: string, keys: readonly string[]): Promise<number> {
  const roots = keys.map((k) => new RootKey(Buffer.from(k, 'base64')));
  const db = await raw(store, dataDir);
  const opened = roots.map(() => 0);
  let values = 0;
  try {
    for (const column of SEALED_COLUMNS) {
      for await (const rows of sealedRows(db, column)) {
        for (const row of rows) {
          values++;
          const v = row[column.column];
          const bytes = column.encoding === 'base64' ? Buffer.from(String(v), 'base64') : Buffer.from(v as Uint8Array);
          roots.forEach((root, i) => {
            try {
              root.open(bytes, column.context(row));
              opened[i]++;
            } catch {
              // sealed under another key
            }
          });
        }
      }
    }
  } finally {
    await db.close();
  }
  const under = opened.findIndex((n) => n === values);
  assert.ok(values > 0 && under >= 0 && opened.filter((n) => n > 0).length === 1, `values ${values}, opened under each key ${opened.join('/')}`);
  return under;
}

/** A kmsd serve on the store that is expected to refuse: how it ended. */
const serveRefused = (store: string, dataDir: string, rootKey: string) =>
  kmsd(['serve'], { KMSD_PORT: '0', KMSD_STORE: store, KMSD_DATA_DIR: dataDir, KMSD_IDENTITIES: identities, KMSD_ROOT_KEY: rootKey, KMSD_WORKERS: '1' });

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`kmsd rotate-root-key (${kind})`, { skip: kind === 'postgres' && POSTGRES_SKIP }, () => {
    test('reseals every kind of sealed value: the new key serves every old ciphertext, signature and MAC key; the old key refuses to start and changes nothing', async () => {
      const { store, dataDir } = await target(kind);
      const oldKey = newKey();
      const serving = await startKmsd({ store, dataDir, identities, rootKey: oldKey, users, env: ONE_LOOP });
      let world;
      let staleToken;
      try {
        world = await populate(serving, users);
        const pending = (await serving.as('alice').kms('create-key', { key_alias: `pending-${randomBytes(3).toString('hex')}`, origin: 'external' })).body.key_info.key_id;
        staleToken = { key_id: pending, ...(await serving.as('alice').kms('get-parameters-for-import', { key_id: pending, wrapping_algorithm: 'RSAES_OAEP_SHA_256' })).body };
      } finally {
        await serving.stop();
      }
      const next = newKey();
      const ran = await kmsd(['rotate-root-key', ...storeFlag(store, dataDir), '--new-root-key-file', keyFile(next)], { KMSD_ROOT_KEY: oldKey });
      assert.equal(ran.code, 0, ran.stderr);
      assert.match(ran.stdout, /^rotate-root-key: resealing \d+ values under the new root key, in one transaction\nrotate-root-key: resealed \d+ of \d+; committing\n/);
      assert.match(ran.stdout, /the store is now sealed under the new root key \(resealed \d+ key material versions, 9 secret keys of access keys, 1 digests of imported material, 1 root key check value; dropped 0 remembered password matches\)/);
      assert.equal(await sealedUnder(store, dataDir, [oldKey, next]), 1);

      const before = await dump(store, dataDir);
      const refused = await serveRefused(store, dataDir, oldKey);
      assert.deepEqual([refused.code, refused.stdout, refused.stderr], [2, '', 'kmsd: the root key does not match the one this store was created with; refusing to start (nothing was changed)\n']);
      assert.equal(await dump(store, dataDir), before, 'a refused start changes nothing');

      const again = await kmsd(['rotate-root-key', ...storeFlag(store, dataDir), '--new-root-key-file', keyFile(next)], { KMSD_ROOT_KEY: oldKey });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /^the store is already sealed under the new root key in .*: nothing to do; start kmsd with the new root key/);

      const rotated = await startKmsd({ store, dataDir, identities, rootKey: next, users, env: ONE_LOOP });
      try {
        await replay(rotated, world);
        // An import token issued before the rotation was sealed under the old key (DECISIONS.importTokenAfterRootKeyRotation).
        const late = await rotated.as('alice').kms('import-key-material', {
          key_id: staleToken.key_id, import_token: staleToken.import_token, encrypted_key_material: randomBytes(256).toString('base64'),
        });
        assert.deepEqual([late.status, late.body], [400, { error: { error_code: DECISIONS.importTokenAfterRootKeyRotation, error_msg: 'Token verification failed.' } }]);
      } finally {
        await rotated.stop();
      }
    });

    test('refuses, with one line and exit 2 and nothing changed, a current key that is not the store\'s and a new key that is the current one', async () => {
      const { store, dataDir } = await target(kind);
      const key = newKey();
      const opened: Store = kind === 'sqlite' ? new SqliteStore(join(dataDir, 'kmsd.db')) : await PostgresStore.open(store);
      await checkRootKey(opened, new RootKey(Buffer.from(key, 'base64')));
      await opened.close();
      const before = await dump(store, dataDir);
      const wrong = await kmsd(['rotate-root-key', ...storeFlag(store, dataDir), '--new-root-key-file', keyFile(newKey())], { KMSD_ROOT_KEY: newKey() });
      assert.deepEqual([wrong.code, wrong.stdout, wrong.stderr], [2, '', 'kmsd: neither the current nor the new root key is the one this store is sealed under: nothing was changed\n']);
      const same = keyFile(key);
      const itself = await kmsd(['rotate-root-key', ...storeFlag(store, dataDir), '--new-root-key-file', same], { KMSD_ROOT_KEY: key });
      assert.deepEqual([itself.code, itself.stderr], [2, `kmsd: the new root key in ${same} is the current one (KMSD_ROOT_KEY): make a new one\n`]);
      assert.equal(await dump(store, dataDir), before);
    });

    test('killed with SIGKILL at any point, the store opens with exactly one of the two keys, and a rerun finishes it', async (t) => {
      const { store, dataDir } = await target(kind);
      const keys = [newKey(), newKey()];
      const first = new RootKey(Buffer.from(keys[0], 'base64'));
      const opened: Store = kind === 'sqlite' ? new SqliteStore(join(dataDir, 'kmsd.db')) : await PostgresStore.open(store);
      await checkRootKey(opened, first);
      await opened.close();
      // 20,000 material versions: enough for the rotation to be caught at several points.
      const db = await raw(store, dataDir);
      await db.run('BEGIN');
      for (let page = 0; page < 40; page++) {
        const rows = Array.from({ length: 500 }, () => {
          const keyId = randomUUID();
          return [keyId, 1, first.seal(randomBytes(32), materialContext(keyId, 1)), 1];
        });
        const tuples = rows.map((_, r) => `($${r * 4 + 1}, $${r * 4 + 2}, $${r * 4 + 3}, $${r * 4 + 4})`);
        await db.run(`INSERT INTO key_materials (key_id, version, sealed, created_at) VALUES ${tuples.join(', ')}`, rows.flat());
      }
      await db.run('COMMIT');
      await db.close();

      const files = keys.map(keyFile);
      let under = 0;
      const points: Array<RegExp | null> = [null, /resealing \d+ values/, /resealed 10000 of/, /committing/];
      const outcomes: string[] = [];
      for (const point of points) {
        const ran = await kmsdKilled(['rotate-root-key', ...storeFlag(store, dataDir), '--new-root-key-file', files[1 - under]], point, { KMSD_ROOT_KEY: keys[under] });
        const now = await sealedUnder(store, dataDir, keys);
        outcomes.push(`${point?.source ?? 'at once'}: ${ran.signal ?? ran.code} -> key ${now}`);
        under = now;
      }
      const finished = await kmsd(['rotate-root-key', ...storeFlag(store, dataDir), '--new-root-key-file', files[1 - under]], { KMSD_ROOT_KEY: keys[under] });
      assert.equal(finished.code, 0, finished.stderr);
      assert.equal(await sealedUnder(store, dataDir, keys), 1 - under, outcomes.join('; '));
      // The kills before "committing" land while the rotation runs (the one at "committing" races its commit).
      t.diagnostic(outcomes.join('; '));
      assert.ok(outcomes.filter((o) => o.includes('SIGKILL')).length >= 3, outcomes.join('; '));
    });
  });
}

const NODES_SERVING = (then: string) => `kmsd: kmsd nodes are serving this database (they hold its node lock): stop every node first, then ${then}\n`;

test('PostgreSQL: rotate-root-key and restore refuse while a kmsd node serves the database, though it is idle (its pool closed every connection) and its URL names it otherwise; once it stops the rotation runs, and a rerun while the rotated store serves is "nothing to do"', { skip: POSTGRES_SKIP }, async () => {
  const { store, dataDir } = await target('postgres');
  const named = new URL(store);
  named.searchParams.set('application_name', 'x');
  const key = newKey();
  const serving = await startKmsd({ store: named.toString(), dataDir, identities, rootKey: key, users, env: ONE_LOOP });
  const file = join(dir, `serving-${randomBytes(4).toString('hex')}.kmsdbak`);
  try {
    assert.equal((await kmsd(['backup', '--store', store, '--out', file])).code, 0, 'a backup runs while nodes serve');
    // pg.Pool closes a connection idle for 10 s: after 12 s the node has none open in the pool.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    const probe = await raw(store, dataDir);
    const named = await probe.all("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'kmsd'");
    await probe.close();
    assert.equal(Number(named[0].n), 0, 'no connection of the node is named kmsd: counting them would miss it');
    const before = await dump(store, dataDir);
    const ran = await kmsd(['rotate-root-key', '--store', store, '--new-root-key-file', keyFile(newKey())], { KMSD_ROOT_KEY: key });
    assert.deepEqual([ran.code, ran.stdout, ran.stderr], [2, '', NODES_SERVING('rotate')]);
    const restored = await kmsd(['restore', '--store', store, '--in', file]);
    assert.deepEqual([restored.code, restored.stdout, restored.stderr], [2, '', NODES_SERVING('restore')]);
    assert.equal(await dump(store, dataDir), before, 'nothing was changed');
    assert.equal((await serving.as('alice').kms('list-keys', {})).status, 200, 'the node serves on');
  } finally {
    await serving.stop();
  }
  const next = keyFile(newKey());
  const ran = await kmsd(['rotate-root-key', '--store', store, '--new-root-key-file', next], { KMSD_ROOT_KEY: key });
  assert.equal(ran.code, 0, ran.stderr);
  const rotated = await startKmsd({ store, dataDir, identities, rootKey: readFileSync(next, 'utf8').trim(), users, env: ONE_LOOP });
  try {
    const again = await kmsd(['rotate-root-key', '--store', store, '--new-root-key-file', next], { KMSD_ROOT_KEY: key });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^the store is already sealed under the new root key in .*: nothing to do; start kmsd with the new root key/);
  } finally {
    await rotated.stop();
  }
});

test('PostgreSQL: a node whose lock connection is ended takes the lock again and serves on; if an offline tool changed the store meanwhile, it stops using it and says to restart', { skip: POSTGRES_SKIP }, async () => {
  const { store, dataDir } = await target('postgres');
  const serving = await startKmsd({ store, dataDir, identities, rootKey: newKey(), users, env: ONE_LOOP });
  const admin = new pg.Client({ connectionString: store });
  await admin.connect();
  const endNodeLock = async () => {
    const { rows } = await admin.query("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND mode = 'ShareLock' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())", [NODE_LOCK]);
    assert.equal(rows.length, 1, 'the node holds the lock on one connection');
    await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
  };
  try {
    await endNodeLock();
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    assert.equal((await serving.as('alice').kms('list-keys', {})).status, 200, 'held again: serves on');
    // An offline tool wins the lock while the node is without it, and changes the check value (as a rotation does).
    await endNodeLock();
    let held = false;
    while (!held) held = (await admin.query('SELECT pg_try_advisory_lock($1) AS held', [NODE_LOCK])).rows[0].held;
    await admin.query("UPDATE settings SET value = 'Y2hhbmdlZA==' WHERE name = $1", [CANARY_CONTEXT]);
    await admin.query('SELECT pg_advisory_unlock($1)', [NODE_LOCK]);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const refused = await serving.as('alice').kms('list-keys', {});
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error.error_code, 'KMS.0104');
  } finally {
    await admin.end();
    await serving.stop();
  }
});

test('the rotation locks every table it changes, in the order writers take them (a key first, then its material)', () => {
  assert.deepEqual([...ROTATION_LOCK_ORDER].sort(), [...new Set([...SEALED_COLUMNS, ...DERIVED_ROWS].map((c) => c.table))].sort());
  assert.ok(ROTATION_LOCK_ORDER.indexOf('keys') < ROTATION_LOCK_ORDER.indexOf('key_materials'));
});

/** A store sealed under `oldKey` with one key in it, no node serving, and a session to write with beside a rotation. */
async function rotationBesideAWriter(t: { after(fn: () => Promise<void>): void }) {
  const { store, dataDir } = await target('postgres');
  const oldKey = newKey();
  const next = newKey();
  const serving = await startKmsd({ store, dataDir, identities, rootKey: oldKey, users, env: ONE_LOOP });
  assert.equal((await serving.as('alice').kms('create-key', { key_alias: 'before-rotation' })).status, 200);
  await serving.stop();
  const writer = new pg.Client({ connectionString: store });
  await writer.connect();
  const db = await PostgresRawDb.connect(store);
  t.after(async () => {
    await writer.end().catch(() => {});
    await db.close();
  });
  const said: string[] = [];
  const rotate = () => rotateRootKey(db, new RootKey(Buffer.from(oldKey, 'base64')), new RootKey(Buffer.from(next, 'base64')), (line) => said.push(line));
  /** Resolves once the rotation waits for a lock the writer holds. */
  const rotationWaits = async () => {
    const pid = (await writer.query("SELECT pid FROM pg_stat_activity WHERE application_name = 'kmsd-offline' AND datname = current_database()")).rows[0].pid;
    for (let i = 0; ; i++) {
      if ((await writer.query('SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted', [pid])).rows.length > 0) return;
      assert.ok(i < 200, 'the rotation never waited for the table the writer holds');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  /** The writer's side of a cycle: it holds the last table the rotation locks... */
  const holdTheLastTable = async () => {
    await writer.query('BEGIN');
    await writer.query(`LOCK TABLE ${ROTATION_LOCK_ORDER[ROTATION_LOCK_ORDER.length - 1]} IN ROW EXCLUSIVE MODE`);
  };
  /**
   * ...and, once the rotation waits for it, asks for the first one (which the rotation holds), then
   * commits. The rotation waits first, so its deadlock check (deadlock_timeout, 1 s, after it began
   * to wait) finds the cycle first and ends its own side; 300 ms keep that order on a busy machine.
   */
  const closeTheCycle = async () => {
    await rotationWaits();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await writer.query(`LOCK TABLE ${ROTATION_LOCK_ORDER[0]} IN ROW EXCLUSIVE MODE`);
    await writer.query('COMMIT');
  };
  return { store, dataDir, oldKey, next, writer, said, rotate, rotationWaits, holdTheLastTable, closeTheCycle };
}

test('PostgreSQL: a write like create-key (its key, then its material) that holds its key when the rotation begins goes on, and the rotation waits for its COMMIT: no deadlock', { skip: POSTGRES_SKIP }, async (t) => {
  const { store, dataDir, oldKey, next, writer, said, rotate, rotationWaits } = await rotationBesideAWriter(t);
  await writer.query('BEGIN');
  await writer.query('LOCK TABLE keys IN ROW EXCLUSIVE MODE');
  const rotation = rotate();
  await rotationWaits();
  const started = performance.now();
  await writer.query('LOCK TABLE key_materials IN ROW EXCLUSIVE MODE');
  // Well under deadlock_timeout (1 s): the rotation held nothing the write needed.
  assert.ok(performance.now() - started < 900, `the write waited ${performance.now() - started} ms`);
  await writer.query('COMMIT');
  assert.equal((await rotation).already, false);
  assert.deepEqual(said.filter((line) => line.includes('deadlock')), []);
  assert.equal(await sealedUnder(store, dataDir, [oldKey, next]), 1);
});

test('PostgreSQL: a rotation that PostgreSQL ends for a deadlock with another session (each waiting for a table the other locked) asks for its table locks again and reseals the store', { skip: POSTGRES_SKIP }, async (t) => {
  const { store, dataDir, oldKey, next, said, rotate, holdTheLastTable, closeTheCycle } = await rotationBesideAWriter(t);
  await holdTheLastTable();
  const rotation = rotate();
  await closeTheCycle();
  assert.equal((await rotation).already, false);
  assert.deepEqual(said.filter((line) => line.includes('deadlock')), [
    "this rotation and another session each waited for a table the other had locked, and PostgreSQL ended the rotation's side (deadlock detected); nothing was changed; asking for the table locks again (2 of 5)",
  ]);
  assert.equal(await sealedUnder(store, dataDir, [oldKey, next]), 1);
});

test('PostgreSQL: a rotation deadlocked 5 times gives up with what to do, and the store is as it was', { skip: POSTGRES_SKIP }, async (t) => {
  const { store, dataDir, oldKey, next, said, rotate, holdTheLastTable, closeTheCycle } = await rotationBesideAWriter(t);
  const before = await dump(store, dataDir);
  await holdTheLastTable();
  const rotation = rotate().then(() => null, (error: Error) => error);
  for (let i = 0; i < 5; i++) {
    await closeTheCycle();
    // Taken again while the rotation waits before it asks again (100 ms and more).
    if (i < 4) await holdTheLastTable();
  }
  const error = await rotation;
  assert.deepEqual([error?.constructor.name, error?.message], [
    'RotationError',
    'another session kept writing to the tables the rotation changes and deadlocked it 5 times: nothing was changed; stop every kmsd node and every other writer of this database, then run rotate-root-key again',
  ]);
  assert.equal(said.filter((line) => line.includes('deadlock')).length, 4);
  assert.equal(await dump(store, dataDir), before);
  assert.equal(await sealedUnder(store, dataDir, [oldKey, next]), 0);
});

test('PostgreSQL: rotate-root-key that wins the node lock while a writing node takes its lock again (its lock session ended over and over): every key answered 200 opens under the new root key, and the old node answers 503 from then on', { skip: POSTGRES_SKIP }, async (t) => {
  const { store, dataDir } = await target('postgres');
  const key = newKey();
  const next = newKey();
  const serving = await startKmsd({ store, dataDir, identities, rootKey: key, users, env: ONE_LOOP });
  const admin = new pg.Client({ connectionString: store });
  await admin.connect();
  await serving.as('alice').getToken();
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  let killing = true;
  const killer = (async () => {
    while (killing) {
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND mode = 'ShareLock' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())", [NODE_LOCK]);
      await sleep(50);
    }
  })();
  const created: string[] = [];
  let writing = true;
  const writer = (async () => {
    while (writing) {
      const r = await serving.as('alice').kms('create-key', { key_alias: `w-${randomBytes(4).toString('hex')}` });
      if (r.status === 200) created.push(r.body.key_info.key_id);
      else assert.deepEqual([r.status, r.body.error.error_code], [503, 'KMS.0104'], r.text);
    }
  })();
  let rotated = null as Awaited<ReturnType<typeof startKmsd>> | null;
  try {
    await sleep(500);
    // The tool is refused while the node holds its lock; it wins in one of the gaps.
    let tries = 0;
    for (;;) {
      tries++;
      const ran = await kmsd(['rotate-root-key', '--store', store, '--new-root-key-file', keyFile(next)], { KMSD_ROOT_KEY: key });
      if (ran.code === 0) break;
      assert.deepEqual([ran.code, ran.stderr], [2, NODES_SERVING('rotate')]);
      assert.ok(tries < 40, 'the rotation never found the lock free');
    }
    killing = false;
    await killer;
    await sleep(1500);
    writing = false;
    await writer;
    const after = await serving.as('alice').kms('create-key', { key_alias: `after-${randomBytes(4).toString('hex')}` });
    assert.deepEqual([after.status, after.body], [503, { error: { error_code: 'KMS.0104', error_msg: 'A system exception occurred. Contact technical support.' } }]);
    await serving.stop();
    rotated = await startKmsd({ store, dataDir, identities, rootKey: next, users, env: ONE_LOOP });
    const unusable: string[] = [];
    for (const id of created) {
      const r = await rotated.as('alice').kms('encrypt-data', { key_id: id, plain_text: 'secret' });
      if (r.status !== 200) unusable.push(`${id}: ${r.status} ${r.text}`);
    }
    t.diagnostic(`${created.length} keys answered 200 around the rotation (${tries} tries)`);
    assert.ok(created.length > 0);
    // Before: 21-125 of them answered 500 KMS.0103 (sealed under the old root key after the rotation).
    assert.deepEqual(unusable, []);
  } finally {
    killing = false;
    writing = false;
    await killer;
    await writer.catch(() => undefined);
    await admin.end();
    await serving.stop();
    await rotated?.stop();
  }
});

test('PostgreSQL: a write that began while the node held its lock, still open when the lock is lost and rotate-root-key runs, is refused before it commits (nothing sealed under the old key lands after the rotation)', { skip: POSTGRES_SKIP }, async () => {
  const { store: url } = await target('postgres');
  const oldKey = newKey();
  const next = newKey();
  const old = new RootKey(Buffer.from(oldKey, 'base64'));
  const store = await PostgresStore.open(url, { deadlineMs: 30_000, holdNodeLock: true, rootKey: old });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  let resumeWrite: (() => void) | undefined;
  try {
    await checkRootKey(store, old);
    let resume!: () => void;
    const gate = new Promise<void>((resolve) => (resume = resolve));
    resumeWrite = resume;
    let began!: () => void;
    const inside = new Promise<void>((resolve) => (began = resolve));
    const keyId = randomUUID();
    const inflight = store.write(async (tx) => {
      // A plain read so far: it does not keep the tool from locking the tables.
      await tx.getSetting('anything');
      began();
      await gate;
      await tx.insertMaterial({ keyId, version: 1, sealed: old.seal(randomBytes(32), materialContext(keyId, 1)), createdAt: Date.now() });
      return 'committed';
    });
    await inside;
    // The node takes its lock again within a second: its lock session is ended until the tool has run.
    let killing = true;
    const killer = (async () => {
      while (killing) {
        await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'kmsd-node-lock' AND datname = current_database()");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    let ran = { code: -1, stderr: '' } as Awaited<ReturnType<typeof kmsd>>;
    for (let tries = 0; ran.code !== 0 && tries < 20; tries++) {
      ran = await kmsd(['rotate-root-key', '--store', url, '--new-root-key-file', keyFile(next)], { KMSD_ROOT_KEY: oldKey });
    }
    killing = false;
    await killer;
    resume();
    assert.equal(ran.code, 0, ran.stderr);
    await assert.rejects(inflight, (error: Error) => {
      assert.match(error.message, /changed by an offline tool/);
      return true;
    });
    const { rows } = await admin.query('SELECT count(*)::int AS n FROM key_materials WHERE key_id = $1', [keyId]);
    assert.equal(rows[0].n, 0, 'before: committed after the rotation, sealed under the old key');
    await assert.rejects(store.write((tx) => tx.getSetting('x')), /changed by an offline tool/);
  } finally {
    resumeWrite?.();
    await admin.end();
    await store.close();
  }
});

test('PostgreSQL: a database refusal (a role without the privileges) is one line, exit 2, for rotate-root-key and backup', { skip: POSTGRES_SKIP }, async () => {
  const { store, dataDir } = await target('postgres');
  const key = newKey();
  const opened = await PostgresStore.open(store);
  await checkRootKey(opened, new RootKey(Buffer.from(key, 'base64')));
  await opened.close();
  const role = `kmsd_reader_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: store });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE ${role} LOGIN`);
    // Reads every table but the audit trail, writes none.
    await admin.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
    await admin.query(`REVOKE SELECT ON audit_events FROM ${role}`);
    const reader = new URL(store);
    reader.username = role;
    const before = await dump(store, dataDir);
    const ran = await kmsd(['rotate-root-key', '--store', reader.toString(), '--new-root-key-file', keyFile(newKey())], { KMSD_ROOT_KEY: key });
    assert.deepEqual([ran.code, ran.stdout, ran.stderr], [2, '', 'kmsd: the database refused: permission denied for table keys (SQLSTATE 42501)\n']);
    const file = join(dir, `denied-${randomBytes(4).toString('hex')}.kmsdbak`);
    const backedUp = await kmsd(['backup', '--store', reader.toString(), '--out', file]);
    assert.deepEqual([backedUp.code, backedUp.stdout, backedUp.stderr], [2, '', 'kmsd: reading table audit_events after row 0: the database refused: permission denied for table audit_events (SQLSTATE 42501)\n']);
    assert.equal(existsSync(file) || existsSync(`${file}.partial`), false);
    assert.equal(await dump(store, dataDir), before);
  } finally {
    await admin.query(`DROP OWNED BY ${role}`).catch(() => {});
    await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
    await admin.end();
  }
});

test('PostgreSQL: a node started while an offline tool holds the node lock waits for it, then serves', { skip: POSTGRES_SKIP }, async () => {
  const { store, dataDir } = await target('postgres');
  const tool = new pg.Client({ connectionString: store });
  await tool.connect();
  try {
    assert.equal((await tool.query('SELECT pg_try_advisory_lock($1) AS held', [NODE_LOCK])).rows[0].held, true);
    let started = false;
    const starting = startKmsd({ store, dataDir, identities, rootKey: newKey(), users, env: ONE_LOOP }).then((node) => ((started = true), node));
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.equal(started, false, 'the node waits while the tool holds the lock');
    assert.deepEqual(await tool.query('SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()').then((r) => r.rows), [], 'and has not migrated anything');
    await tool.query('SELECT pg_advisory_unlock($1)', [NODE_LOCK]);
    const node = await starting;
    try {
      assert.equal((await node.as('alice').kms('list-keys', {})).status, 200);
    } finally {
      await node.stop();
    }
  } finally {
    await tool.end();
  }
});
