import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { materialContext, RootKey } from '../src/core/sealing.ts';
import { backupStore } from '../src/store/backup/backup.ts';
import { BackupError } from '../src/store/backup/file.ts';
import { PostgresRawDb, SqliteRawDb, type RawDb } from '../src/store/backup/raw-db.ts';
import { BACKUP_TABLES, isBookkeeping } from '../src/store/backup/tables.ts';
import { MIGRATIONS, SQLITE } from '../src/store/migrations.ts';
import { GRANT_COLUMNS, grantToParams, KEY_COLUMNS, keyToParams, placeholders } from '../src/store/rows.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import { PostgresStore } from '../src/store/postgres.ts';
import { worldIdentities, type TestUser } from './harness.ts';
import { startKmsd, type Node } from './support/cluster.ts';
import { kmsd } from './support/offline.ts';
import { freshDatabase, POSTGRES_SKIP } from './support/postgres.ts';
import { populate, replay, type SealedWorld } from './support/sealed-world.ts';

let dir: string;
let identities: string;
let users: Record<string, TestUser>;
const rootKey = randomBytes(32).toString('base64');
const dropped: Array<() => Promise<void>> = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kmsd-backup-'));
  ({ path: identities, users } = worldIdentities(dir));
});
after(async () => {
  for (const drop of dropped) await drop();
  rmSync(dir, { recursive: true, force: true });
});

/** A new data directory holding an empty, migrated SQLite store. */
async function emptyStore(name: string): Promise<string> {
  const dataDir = fresh(name);
  mkdirSync(dataDir, { recursive: true });
  await new SqliteStore(join(dataDir, 'kmsd.db')).close();
  return dataDir;
}
const fresh = (name: string) => join(dir, `${name}-${randomBytes(4).toString('hex')}`);
const node = (store: string, dataDir: string) =>
  startKmsd({ store, dataDir, identities, rootKey, users, env: { KMSD_MAX_GRANTS_PER_KEY: '100000', KMSD_WORKERS: '1' } });
const storeFlag = (store: string, dataDir: string) => (store === 'sqlite' ? ['--data-dir', dataDir] : ['--store', store]);
async function database(): Promise<string> {
  const db = await freshDatabase();
  dropped.push(db.drop);
  return db.url;
}
const raw = (store: string, dataDir: string): Promise<RawDb> =>
  store === 'sqlite' ? Promise.resolve(new SqliteRawDb(join(dataDir, 'kmsd.db'))) : PostgresRawDb.connect(store);
async function query(store: string, dataDir: string, sql: string): Promise<Array<Record<string, unknown>>> {
  const db = await raw(store, dataDir);
  try {
    return await db.all(sql);
  } finally {
    await db.close();
  }
}

interface Sent {
  sentAt: number;
  answeredAt: number | null;
  grantId: string | null;
}

/** create-grant after create-grant on one key, until stopped: the write load a backup runs under. */
function writeLoad(serving: Node, keyId: string, grantee: string) {
  const sent: Sent[] = [];
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      const s: Sent = { sentAt: performance.now(), answeredAt: null, grantId: null };
      sent.push(s);
      const r = await serving.as('alice').kms('create-grant', { key_id: keyId, grantee_principal: grantee, operations: ['describe-key'] });
      assert.equal(r.status, 200, r.text);
      s.answeredAt = performance.now();
      s.grantId = r.body.grant_id;
    }
  };
  const running = Promise.all([loop(), loop(), loop()]);
  return { sent, stop: async () => ((stopped = true), await running) };
}

/**
 * Makes a store full of sealed things on `source`, backs it up while three clients keep
 * creating grants, and checks the backup against what the clients were told: every grant
 * acknowledged before the backup began is in it, none asked for after it ended is, and each
 * grant in it has its audit record and each record its grant (one transaction, one snapshot).
 */
async function backupUnderLoad(sourceStore: string, sourceDir: string): Promise<{ file: string; world: SealedWorld; trail: AuditRow[] }> {
  const serving = await node(sourceStore, sourceDir);
  try {
    const world = await populate(serving, users);
    const loaded = (await serving.as('alice').kms('create-key', { key_alias: `load-${randomBytes(3).toString('hex')}` })).body.key_info.key_id;
    const load = writeLoad(serving, loaded, users.greg.id);
    await new Promise((r) => setTimeout(r, 300));
    const file = join(dir, `backup-${randomBytes(4).toString('hex')}.kmsdbak`);
    const began = performance.now();
    const ran = await kmsd(['backup', ...storeFlag(sourceStore, sourceDir), '--out', file]);
    const ended = performance.now();
    await new Promise((r) => setTimeout(r, 200));
    await load.stop();
    assert.equal(ran.code, 0, ran.stderr);
    assert.match(ran.stdout, new RegExp(`^backed up \\d+ keys, \\d+ grants, \\d+ audit records; \\d+ rows in ${BACKUP_TABLES.length} tables \\(schema ${MIGRATIONS.length}\\) to .*\\n$`));

    const restored = fresh('check');
    const check = await kmsd(['restore', '--in', file, '--data-dir', restored]);
    assert.equal(check.code, 0, check.stderr);
    const grants = new Set((await query('sqlite', restored, 'SELECT grant_id FROM grants')).map((r) => String(r.grant_id)));
    const audited = new Set(
      (await query('sqlite', restored, "SELECT grant_id FROM audit_events WHERE operation = 'create-grant' AND outcome = 'allowed'")).map((r) => String(r.grant_id)),
    );
    const ackedBefore = load.sent.filter((s) => s.answeredAt !== null && s.answeredAt < began);
    const sentAfter = load.sent.filter((s) => s.sentAt > ended && s.grantId !== null);
    assert.ok(ackedBefore.length > 0 && sentAfter.length > 0, `load around the backup: ${ackedBefore.length} before, ${sentAfter.length} after`);
    for (const s of ackedBefore) assert.ok(grants.has(s.grantId as string), 'a grant acknowledged before the backup began is in it');
    for (const s of sentAfter) assert.ok(!grants.has(s.grantId as string), 'a grant asked for after the backup ended is not in it');
    // The revoked grant is in neither; every other created grant is in both.
    assert.equal(audited.size, grants.size + 1);
    for (const g of grants) assert.ok(audited.has(g), 'each grant has its audit record');
    // Every audit record in the backup is the source's own, unchanged.
    const trail = await auditTrail('sqlite', restored);
    const source = new Map((await auditTrail(sourceStore, sourceDir)).map((r) => [r.seq, JSON.stringify(r)]));
    for (const r of trail) assert.equal(source.get(r.seq), JSON.stringify(r));
    return { file, world, trail };
  } finally {
    await serving.stop();
  }
}

type AuditRow = Record<string, unknown> & { seq: number };
/** Every audit record, every column, numbers as numbers (the two drivers type BIGINT differently). */
async function auditTrail(store: string, dataDir: string): Promise<AuditRow[]> {
  const rows = await query(store, dataDir, 'SELECT * FROM audit_events ORDER BY seq');
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^\d+$/.test(v) && k !== 'request_id' ? Number(v) : v])) as AuditRow);
}

/** Restores `file` into the target, starts kmsd there with the same root key, and checks it serves everything. */
async function restoreAndServe(file: string, world: SealedWorld, backedUp: AuditRow[], target: string, targetDir: string): Promise<void> {
  const ran = await kmsd(['restore', '--in', file, ...storeFlag(target, targetDir)]);
  assert.equal(ran.code, 0, ran.stderr);
  assert.match(ran.stdout, /^restored \d+ keys, \d+ grants, \d+ audit records; .* start kmsd on it with the root key of the store it came from\n$/);
  // The trail is whole: every record of the backup, every column, the same sequence numbers.
  assert.deepEqual(await auditTrail(target, targetDir), backedUp);
  const serving = await node(target, targetDir);
  try {
    await replay(serving, world);
    // New records continue after the restored ones.
    const last = backedUp[backedUp.length - 1].seq;
    const now = await auditTrail(target, targetDir);
    const newer = now.filter((r) => r.seq > last);
    assert.ok(newer.length > 0 && newer.length === now.length - backedUp.length, 'new records continue after the restored ones');
  } finally {
    await serving.stop();
  }
}

describe('kmsd backup and restore', () => {
  test('a SQLite store backed up under write load restores into SQLite and into PostgreSQL, and both serve everything', { skip: POSTGRES_SKIP }, async () => {
    const source = fresh('sqlite-source');
    const { file, world, trail } = await backupUnderLoad('sqlite', source);
    await restoreAndServe(file, world, trail, 'sqlite', fresh('sqlite-restored'));
    await restoreAndServe(file, world, trail, await database(), fresh('pg-node'));
  });

  test('a PostgreSQL store backed up under write load restores into SQLite and into PostgreSQL, and both serve everything', { skip: POSTGRES_SKIP }, async () => {
    const { file, world, trail } = await backupUnderLoad(await database(), fresh('pg-node'));
    await restoreAndServe(file, world, trail, 'sqlite', fresh('sqlite-restored'));
    await restoreAndServe(file, world, trail, await database(), fresh('pg-node'));
  });

  test('the backup file is private and holds sealed material only: no root key, no clear key material, no secret key', async () => {
    const source = fresh('private');
    const serving = await node('sqlite', source);
    let keyId: string;
    try {
      keyId = (await serving.as('alice').kms('create-key', { key_alias: `k-${randomBytes(3).toString('hex')}` })).body.key_info.key_id;
    } finally {
      await serving.stop();
    }
    const file = join(dir, 'private.kmsdbak');
    assert.equal((await kmsd(['backup', '--data-dir', source, '--out', file])).code, 0);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const text = gunzipSync(readFileSync(file)).toString('utf8');
    const store = new SqliteStore(join(source, 'kmsd.db'));
    const sealed = await store.read((tx) => tx.getMaterial(keyId, 1));
    await store.close();
    const clear = new RootKey(Buffer.from(rootKey, 'base64')).open(sealed?.sealed as Buffer, materialContext(keyId, 1));
    assert.ok(text.includes((sealed?.sealed as Buffer).toString('base64')), 'the sealed material is in the backup');
    for (const secret of [rootKey, clear.toString('base64'), clear.toString('hex'), users.alice.sk, users.alice.password]) {
      assert.ok(!text.includes(secret), 'no secret in the clear');
    }
    assert.deepEqual(JSON.parse(text.split('\n')[0]), { ...JSON.parse(text.split('\n')[0]), kmsd_backup: 1, kmsd_version: '0.1.0', schema: MIGRATIONS.length, source: 'sqlite' });
  });

  test('the table list names every table the migrations create, and a backup refuses a store with a table it does not list', async () => {
    const source = await emptyStore('tables');
    const db = new SqliteRawDb(join(source, 'kmsd.db'));
    try {
      assert.deepEqual((await db.tables()).filter((t) => !isBookkeeping(t)).sort(), [...BACKUP_TABLES].sort());
      await db.run('CREATE TABLE secrets_of_tomorrow (id TEXT PRIMARY KEY)');
    } finally {
      await db.close();
    }
    const file = join(dir, 'unlisted.kmsdbak');
    const ran = await kmsd(['backup', '--data-dir', source, '--out', file]);
    assert.deepEqual([ran.code, ran.stderr, existsSync(file), existsSync(`${file}.partial`)], [
      2, "kmsd: table secrets_of_tomorrow is not in the backup's table list (src/store/backup/tables.ts): refusing to write a backup without it\n", false, false,
    ]);
  });

  test('the table list matches PostgreSQL too', { skip: POSTGRES_SKIP }, async () => {
    const url = await database();
    const store = await PostgresStore.open(url);
    await store.close();
    const tables = (await query(url, '', "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")).map((r) => String(r.table_name));
    assert.deepEqual(tables.filter((t) => !isBookkeeping(t)).sort(), [...BACKUP_TABLES].sort());
  });

  describe('restore refuses, with one line and exit 2, leaving the target as it was', () => {
    let file: string;
    before(async () => {
      const source = await emptyStore('refusals');
      const store = new SqliteStore(join(source, 'kmsd.db'));
      await store.write((tx) => tx.initSetting('restore-me', 'as written'));
      await store.close();
      file = join(dir, 'refusals.kmsdbak');
      assert.equal((await kmsd(['backup', '--data-dir', source, '--out', file])).code, 0);
    });
    const variant = (name: string, change: (lines: string[]) => string[]): string => {
      const lines = gunzipSync(readFileSync(file)).toString('utf8').split('\n');
      const path = join(dir, `${name}.kmsdbak`);
      writeFileSync(path, gzipSync(change(lines).join('\n')));
      return path;
    };

    test('a data directory that already holds a store', async () => {
      const target = await emptyStore('taken');
      const ran = await kmsd(['restore', '--in', file, '--data-dir', target]);
      assert.deepEqual([ran.code, ran.stdout, ran.stderr], [2, '', `kmsd: ${target} already holds a kmsd store (${join(target, 'kmsd.db')}): restore only into an empty target\n`]);
    });

    test('a PostgreSQL database that holds tables', { skip: POSTGRES_SKIP }, async () => {
      const url = await database();
      await (await PostgresStore.open(url)).close();
      const ran = await kmsd(['restore', '--in', file, '--store', url]);
      assert.deepEqual([ran.code, ran.stdout, ran.stderr], [2, '', 'kmsd: the PostgreSQL database already holds tables (access_keys, accounts, audit_chain): restore only into an empty database\n']);
    });

    const refusals: Array<[string, (lines: string[]) => string[], (path: string) => string]> = [
      ['a backup of a newer schema', (l) => [JSON.stringify({ ...JSON.parse(l[0]), schema: 99, kmsd_version: '9.0.0' }), ...l.slice(1)],
        () => `kmsd: the backup is of schema 99 (kmsd 9.0.0), newer than this kmsd knows (${MIGRATIONS.length}): restore it with kmsd 9.0.0 or later\n`],
      ['a file cut short', (l) => l.slice(0, -3), (p) => `kmsd: ${p} ends before its end record: the backup was cut short\n`],
      ['a changed row', (l) => l.map((line) => line.replace('"as written"', '"as changed"')),
        (p) => `kmsd: ${p} is damaged or was changed: its end record does not match its contents\n`],
    ];
    for (const [name, change, message] of refusals) {
      test(`${name} (SQLite target, and PostgreSQL)`, async (t) => {
        const path = variant(name.replace(/ /g, '-'), change);
        const target = fresh('refused');
        const ran = await kmsd(['restore', '--in', path, '--data-dir', target]);
        assert.deepEqual([ran.code, ran.stdout, ran.stderr], [2, '', message(path)]);
        assert.equal(existsSync(join(target, 'kmsd.db')), false);
        if (POSTGRES_SKIP) return t.diagnostic('PostgreSQL target skipped');
        const url = await database();
        const onPg = await kmsd(['restore', '--in', path, '--store', url]);
        assert.deepEqual([onPg.code, onPg.stderr], [2, message(path)]);
        assert.deepEqual(await query(url, '', 'SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()'), []);
      });
    }

    /** A variant whose counts and end record are made to match again: only the database can refuse it. */
    const resigned = (name: string, change: (lines: string[]) => string[]): string =>
      variant(name, (l) => {
        const body = change(l.slice(0, -2));
        let rows = 0;
        for (let i = 1; i < body.length; i++) {
          if (body[i].startsWith('{"table"')) rows = 0;
          else if (body[i].startsWith('[')) rows++;
          else if (body[i].startsWith('{"rows"')) body[i] = JSON.stringify({ rows });
        }
        const sha256 = createHash('sha256').update(body.map((line) => `${line}\n`).join('')).digest('hex');
        return [...body, JSON.stringify({ ...JSON.parse(l[l.length - 2]), sha256 }), ''];
      });
    const settingsRow = (lines: string[]) => lines.findIndex((line) => line.includes('"restore-me"'));
    const rowNumber = (lines: string[]) => settingsRow(lines) - lines.findIndex((line) => line.startsWith('{"table":"settings"'));

    test('a row the database refuses (one primary key twice): one line naming the table and row, exit 2, on both kinds of target', async (t) => {
      let number = 0;
      const path = resigned('twice', (l) => {
        const at = settingsRow(l);
        number = rowNumber(l) + 1;
        return [...l.slice(0, at + 1), l[at], ...l.slice(at + 1)];
      });
      const target = fresh('twice');
      const ran = await kmsd(['restore', '--in', path, '--data-dir', target]);
      assert.deepEqual([ran.code, ran.stdout, ran.stderr],
        [2, '', `kmsd: table settings, row ${number} of the backup (name "restore-me"): the database refused: UNIQUE constraint failed: settings.name\n`]);
      assert.equal(existsSync(join(target, 'kmsd.db')), false);
      if (POSTGRES_SKIP) return t.diagnostic('PostgreSQL target skipped');
      const url = await database();
      const onPg = await kmsd(['restore', '--in', path, '--store', url]);
      assert.deepEqual([onPg.code, onPg.stdout, onPg.stderr],
        [2, '', `kmsd: table settings, row ${number} of the backup (name "restore-me"): the database refused: duplicate key value violates unique constraint "settings_pkey" (SQLSTATE 23505)\n`]);
      assert.deepEqual(await query(url, '', 'SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()'), []);
    });

    test('text holding U+0000 (a SQLite store takes it, PostgreSQL cannot): one line naming the table and row, exit 2, on PostgreSQL', { skip: POSTGRES_SKIP }, async () => {
      let number = 0;
      const path = resigned('nul', (l) => {
        number = rowNumber(l);
        return l.map((line) => line.replace('"as written"', '"as\\u0000written"'));
      });
      const target = fresh('nul');
      assert.equal((await kmsd(['restore', '--in', path, '--data-dir', target])).code, 0, 'SQLite holds it');
      const url = await database();
      const onPg = await kmsd(['restore', '--in', path, '--store', url]);
      assert.deepEqual([onPg.code, onPg.stdout, onPg.stderr],
        [2, '', `kmsd: table settings, row ${number} of the backup (name "restore-me"): the database refused: invalid byte sequence for encoding "UTF8": 0x00 (SQLSTATE 22021)\n`]);
      assert.deepEqual(await query(url, '', 'SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()'), []);
    });

    test('not a backup at all', async () => {
      const path = join(dir, 'not-a-backup');
      writeFileSync(path, 'hello');
      const ran = await kmsd(['restore', '--in', path, '--data-dir', fresh('nothing')]);
      assert.deepEqual([ran.code, ran.stderr], [2, `kmsd: ${path} is not a kmsd backup, or it is damaged (not gzip data)\n`]);
    });
  });

  test('backup never overwrites a file', async () => {
    const source = await emptyStore('overwrite');
    const file = join(dir, 'exists.kmsdbak');
    writeFileSync(file, 'precious');
    const ran = await kmsd(['backup', '--data-dir', source, '--out', file]);
    assert.deepEqual([ran.code, ran.stderr, readFileSync(file, 'utf8')], [2, `kmsd: ${file} already exists: choose a new file name (a backup never overwrites one)\n`, 'precious']);
  });

  // Schema 10: before migration 11, which counts a key's grants into its row; the schema just
  // before this kmsd's: the usual upgrade (migration 12 gives PostgreSQL a data version per table).
  for (const OLDER of [10, MIGRATIONS.length - 1]) test(`a backup of an older schema (${OLDER}) restores at its schema and is brought up to this kmsd's, into SQLite and PostgreSQL`, async (t) => {
    const source = fresh(`older-schema-${OLDER}`);
    mkdirSync(source);
    const older = new SqliteRawDb(join(source, 'kmsd.db'));
    await older.run('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    for (let version = 1; version <= OLDER; version++) {
      for (const sql of MIGRATIONS[version - 1](SQLITE)) await older.run(sql);
      await older.run('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, Date.now()]);
    }
    await older.run("INSERT INTO settings (name, value) VALUES ('restore-me', 'from an older kmsd')");
    // A key with two grants, one without: migration 11 counts them into the key's row.
    const keyIds = ['1', '2'].map((n) => `${n}`.repeat(8) + '-0000-4000-8000-000000000000');
    for (const keyId of keyIds) {
      await older.run(`INSERT INTO keys (${KEY_COLUMNS}) VALUES (${placeholders(KEY_COLUMNS.split(', ').length)})`, keyToParams({
        keyId, accountId: 'acct', region: 'cn-north-4', alias: `older-${keyId}`, description: '', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', origin: 'kms',
        state: '2', creationDate: 1000, scheduledDeletionDate: null, defaultKey: false, rotationEnabled: false, rotationInterval: 365, lastRotationTime: null,
        rotationDue: null, rotations: 0, materialVersion: 1, keystoreId: '0', materialExpires: null, importDigest: null,
      }));
    }
    for (const grantId of ['a', 'b']) {
      await older.run(`INSERT INTO grants (${GRANT_COLUMNS}) VALUES (${placeholders(9)})`, grantToParams({
        grantId: grantId.repeat(64), keyId: keyIds[0], granteePrincipal: 'gus', granteeType: 'user', operations: ['describe-key'],
        issuingPrincipal: 'alice', retiringPrincipal: null, name: null, creationDate: 1000,
      }));
    }
    await older.close();
    const file = join(dir, `older-${randomBytes(4).toString('hex')}.kmsdbak`);
    const backedUp = await kmsd(['backup', '--data-dir', source, '--out', file]);
    assert.equal(backedUp.code, 0, backedUp.stderr);
    assert.match(backedUp.stdout, new RegExp(`\\(schema ${OLDER}\\)`));
    const check = async (store: string, dataDir: string) => {
      assert.deepEqual((await query(store, dataDir, 'SELECT MAX(version) AS v FROM schema_migrations')).map((r) => Number(r.v)), [MIGRATIONS.length]);
      assert.deepEqual((await query(store, dataDir, "SELECT value FROM settings WHERE name = 'restore-me'")).map((r) => r.value), ['from an older kmsd']);
      if (OLDER < 11) assert.deepEqual((await query(store, dataDir, 'SELECT grant_count FROM keys ORDER BY key_id')).map((r) => Number(r.grant_count)), [2, 0], 'the newer migration ran');
      if (store !== 'sqlite') assert.deepEqual((await query(store, dataDir, 'SELECT table_name FROM data_version ORDER BY table_name')).map((r) => r.table_name), [...BACKUP_TABLES].sort());
    };
    const target = fresh(`older-restored-${OLDER}`);
    const ran = await kmsd(['restore', '--in', file, '--data-dir', target]);
    assert.equal(ran.code, 0, ran.stderr);
    await check('sqlite', target);
    if (POSTGRES_SKIP) return t.diagnostic('PostgreSQL target skipped');
    const url = await database();
    const onPg = await kmsd(['restore', '--in', file, '--store', url]);
    assert.equal(onPg.code, 0, onPg.stderr);
    await check(url, '');
  });

  test('two backups to one --out at once: one publishes a whole backup, the other refuses and overwrites nothing; no partial file is left', async () => {
    const source = await emptyStore('twice-at-once');
    const store = new SqliteStore(join(source, 'kmsd.db'));
    await store.write((tx) => tx.initSetting('restore-me', 'as written'));
    await store.close();
    const folder = fresh('same-out');
    mkdirSync(folder);
    const file = join(folder, 'same.kmsdbak');
    const dbs = [new SqliteRawDb(join(source, 'kmsd.db')), new SqliteRawDb(join(source, 'kmsd.db'))];
    // Both start before either ends (each passes the "already exists" check, each writes its own partial file).
    const results = await Promise.allSettled(dbs.map((db) => backupStore(db, file, '0.0.0')));
    for (const db of dbs) await db.close();
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.ok(refused.reason instanceof BackupError);
    assert.equal(refused.reason.message, `${file} already exists: choose a new file name (a backup never overwrites one)`);
    assert.deepEqual(readdirSync(folder), ['same.kmsdbak']);
    const restored = fresh('same-out-restored');
    const ran = await kmsd(['restore', '--in', file, '--data-dir', restored]);
    assert.equal(ran.code, 0, ran.stderr);
    assert.deepEqual((await query('sqlite', restored, "SELECT value FROM settings WHERE name = 'restore-me'")).map((r) => r.value), ['as written']);
  });

  test('a backup that cannot be written (no such directory) is one line, exit 2, and leaves no file', async () => {
    const source = await emptyStore('unwritable');
    const file = join(dir, 'missing-dir', 'x.kmsdbak');
    const ran = await kmsd(['backup', '--data-dir', source, '--out', file]);
    assert.equal(ran.code, 2);
    // The partial file's name is the run's own: <out>.<pid>-<8 hex>.partial.
    assert.equal(ran.stderr.replace(/\.\d+-[0-9a-f]{8}\.partial'/, ".RUN.partial'"), `kmsd: cannot write ${file}: ENOENT: no such file or directory, open '${file}.RUN.partial'\n`);
  });
});
