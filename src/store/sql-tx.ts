import type { Account, AccessKey, AuditEvent, AuditFilter, Grant, Key, KeyAlias, KeyMaterial, Keystore, Page, Project, Tag, TagFilter, Token, User } from '../core/model.ts';
import type { AuditListener, Census, KeyFilter, RetainedIdentities, Tx } from './store.ts';
import { NoChainHead, chainHash, chainHashParts, hashOfParts, wellFormed, type ChainHead, type StoredAuditEvent } from '../audit/chain.ts';
import {
  AUDIT_COLUMNS, GRANT_COLUMNS, accountFromRow, KEY_COLUMNS, accessKeyFromRow, auditFromRow, auditToParams, grantFromRow, grantToParams, keyFromRow, keyToParams,
  materialFromRow, optText, tokenFromRow, userFromRow, KEYSTORE_COLUMNS, keystoreFromRow, keystoreToParams, groupTagValues, placeholders, tagConditions,
} from './rows.ts';

import { SqlSecrets } from './secrets-sql.ts';

type Row = Record<string, unknown>;

/**
 * What a driver gives the shared SQL: run one statement (parameters written $1, $2, ...)
 * inside the current transaction. `forUpdate` is the driver's row-lock suffix ('' on SQLite,
 * whose writers are serialised anyway).
 */
export interface Executor {
  all(sql: string, params: unknown[]): Promise<Row[]>;
  run(sql: string, params: unknown[]): Promise<number>;
  readonly forUpdate: string;
  /** Whether one statement can insert into a table and update another (PostgreSQL's data-modifying WITH). */
  readonly writableCte: boolean;
  /** Whether writers of several processes run at once and lock with advisory locks (PostgreSQL); SQLite runs one writer at a time. */
  readonly advisoryLocks: boolean;
}


/** The advisory lock of identities applies (lockIdentities); the migrations' is MIGRATION_LOCK. */
export const IDENTITIES_LOCK = 0x6b6d7365;

const KEY_INSERT = `INSERT INTO keys (${KEY_COLUMNS}) VALUES (${placeholders(KEY_COLUMNS.split(', ').length)})`;
const KEY_UPDATE = `UPDATE keys SET ${KEY_COLUMNS.split(', ').slice(1).map((c, i) => `${c} = $${i + 2}`).join(', ')} WHERE key_id = $1`;
const AUDIT_FIELDS = AUDIT_COLUMNS.split(', ').length;
const AUDIT_INSERT = `INSERT INTO audit_events (${AUDIT_COLUMNS}, prev_hash, hash) VALUES (${placeholders(AUDIT_FIELDS + 2)}) RETURNING seq`;
// PostgreSQL: the records of a group of writes (postgres.ts commitGroup) in one statement, whatever
// their number (one prepared statement: arrays, a column each): the head read and locked, each
// record hashed onto the one before it (the bytes of chainHashParts around the previous hash: the
// same hash as chainHash), written, and the head moved to the last. The head row, which every
// writer of a record on every node waits for, is held from this statement to the COMMIT only.
const NOT_TEXT: Record<string, string> = { time: 'bigint', status: 'integer', count: 'integer' };
const AUDIT_ARRAY_TYPES = AUDIT_COLUMNS.split(', ').map((column) => NOT_TEXT[column] ?? 'text');
const columnsOfV = AUDIT_ARRAY_TYPES.map((_, i) => `v.c${i}`).join(', ');
export const AUDIT_APPEND_MANY = `WITH RECURSIVE head AS (SELECT head_hash FROM audit_chain WHERE id = 1 FOR UPDATE),
  v AS (SELECT * FROM unnest(${AUDIT_ARRAY_TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ')}, $${AUDIT_ARRAY_TYPES.length + 1}::bytea[], $${AUDIT_ARRAY_TYPES.length + 2}::bytea[])
    WITH ORDINALITY AS v(${AUDIT_ARRAY_TYPES.map((_, i) => `c${i}`).join(', ')}, before, after, n)),
  chain (n, prev_hash, hash) AS (SELECT 0::bigint, NULL::text, head_hash FROM head
    UNION ALL SELECT v.n, chain.hash, encode(sha256(v.before || convert_to(chain.hash, 'UTF8') || v.after), 'hex') FROM chain JOIN v ON v.n = chain.n + 1),
  record AS (INSERT INTO audit_events (${AUDIT_COLUMNS}, prev_hash, hash)
    SELECT ${columnsOfV}, chain.prev_hash, chain.hash FROM v JOIN chain ON chain.n = v.n ORDER BY v.n RETURNING seq, prev_hash, hash),
  moved AS (UPDATE audit_chain SET head_seq = (SELECT MAX(seq) FROM record), head_hash = (SELECT hash FROM chain ORDER BY n DESC LIMIT 1)
    WHERE id = 1 AND EXISTS (SELECT 1 FROM record))
  SELECT seq, prev_hash, hash FROM record`;
// A key's grants are counted in its row (grant_count, migration 11), moved by the statements
// that insert and delete them, with its grants version: the limit is checked on that row, which
// every writer of a key's grants holds locked, so no concurrent insert can slip past it. Counting
// the grants themselves cost a walk over every grant the key had until a vacuum (0.23 ms an
// insert on a key whose grants come and go, against 0.05 ms).
const GRANT_INSERT = `INSERT INTO grants (${GRANT_COLUMNS}) VALUES (${placeholders(9)})`;
// SQLite (one statement each): the key's row moved only while under the limit ($2), then the insert.
const GRANT_COUNTED = 'UPDATE keys SET grants_version = grants_version + 1, grant_count = grant_count + 1 WHERE key_id = $1 AND grant_count < $2';
const GRANT_UNCOUNTED = 'UPDATE keys SET grants_version = grants_version + 1, grant_count = grant_count - 1 WHERE key_id = $1';
const GRANT_UNCOUNTED_BY_ID = GRANT_UNCOUNTED.replace('key_id = $1', 'key_id = (SELECT key_id FROM grants WHERE grant_id = $1)');
const GRANT_DELETE = 'DELETE FROM grants WHERE grant_id = $1';
// PostgreSQL: the key's row moved and the grant inserted (or deleted) in one statement, one round
// trip while the key's row is locked. The answer counts the grants inserted (deleted) themselves.
const GRANT_INSERT_COUNTED = `WITH counted AS (UPDATE keys SET grants_version = grants_version + 1, grant_count = grant_count + 1
    WHERE key_id = $2 AND grant_count < $10::bigint RETURNING key_id),
  inserted AS (INSERT INTO grants (${GRANT_COLUMNS}) SELECT ${placeholders(9)} FROM counted RETURNING key_id)
  SELECT COUNT(*) AS n FROM inserted`;
const GRANT_DELETE_UNCOUNTED = `WITH ended AS (${GRANT_DELETE} RETURNING key_id),
  moved AS (UPDATE keys SET grants_version = grants_version + 1, grant_count = grant_count - 1 WHERE key_id IN (SELECT key_id FROM ended))
  SELECT COUNT(*) AS n FROM ended`;
// A key's grant ended and returned as it was (the read of the grant rides on its delete).
const GRANT_OF_KEY = `${GRANT_COLUMNS} FROM grants WHERE grant_id = $1 AND key_id = $2`;
// The grant is found by its primary key only: `key_id || ''` is no column any index holds, so
// PostgreSQL cannot pick grants_by_key (key_id, creation_date, grant_id) instead. It did, with
// the statistics of a key whose grants come and go: that scan walks every index entry the key
// ever had until a vacuum, dead ones included, and made a retire 4–6 times slower (~53 µs by
// the primary key, 232–339 µs when half of the retires took grants_by_key; BENCHMARKS.md).
export const GRANT_OF_KEY_END_UNCOUNTED = `WITH ended AS (DELETE FROM grants WHERE grant_id = $1 AND key_id || '' = $2 RETURNING ${GRANT_COLUMNS}),
  moved AS (UPDATE keys SET grants_version = grants_version + 1, grant_count = grant_count - 1 WHERE key_id = $2 AND EXISTS (SELECT 1 FROM ended))
  SELECT ${GRANT_COLUMNS} FROM ended`;

// A caller's grants on a key (its user's and its account's). `grantee_principal IN ($2, $3)`
// says again what the OR says, so that both columns of grants_by_grantee (grantee_principal,
// key_id) are index conditions: without it, PostgreSQL's statistics of a key whose grants come
// and go made it scan that index by key_id alone, every entry of it, dead ones included (~300
// µs a read instead of ~50; the reads of every node after each grant write).
export const GRANTS_NAMING = `SELECT ${GRANT_COLUMNS} FROM grants WHERE key_id = $1 AND grantee_principal IN ($2, $3) AND (
         (grantee_type = 'user' AND grantee_principal = $2) OR (grantee_type = 'domain' AND grantee_principal = $3))
       ORDER BY creation_date, grant_id`;

/**
 * The data-modifying WITHs whose answer tells that they changed nothing: each writes only when
 * its first part matched a row, and answers how many did (or those rows). A PostgreSQL group
 * counts them as no change then (postgres.ts), so a create-grant refused at the limit
 * (KMS.2404) or a retire of a grant already gone (KMS.2501) answers alone, as a refusal on
 * what was read does, and does not undo its group.
 */
export const CHANGED_NOTHING: ReadonlyMap<string, (rows: Row[]) => boolean> = new Map([
  [GRANT_INSERT_COUNTED, (rows: Row[]) => Number(rows[0]?.n) === 0],
  [GRANT_DELETE_UNCOUNTED, (rows: Row[]) => Number(rows[0]?.n) === 0],
  [GRANT_OF_KEY_END_UNCOUNTED, (rows: Row[]) => rows.length === 0],
]);

// A grant the user may retire: it issued it, it is the retiring principal, or it (or its
// account, for domain grantees) is the grantee and the grant holds retire-grant.
const RETIRABLE = `FROM grants WHERE issuing_principal = $1 OR retiring_principal = $1
  OR (((grantee_type = 'user' AND grantee_principal = $1) OR (grantee_type = 'domain' AND grantee_principal = $2))
      AND operations LIKE '%"retire-grant"%')`;

const aliasFromRow = (r: Row): KeyAlias => ({
  alias: String(r.alias),
  keyId: String(r.key_id),
  accountId: String(r.account_id),
  region: String(r.region),
  createTime: Number(r.create_time),
  updateTime: Number(r.update_time),
});

/** How a SqlTx is run: see its constructor. */
export interface SqlTxOptions {
  /** Records wait for appendStagedAudit (PostgreSQL groups). */
  stageAudit?: boolean;
  /** The transaction is this object's alone, start to end (see lockedKeys). */
  keepLockedKeys?: boolean;
  /** The unit of work running now (a PostgreSQL group's units may overlap): its staged records are written in unit order. */
  unitOf?: () => number;
  /** Told by lastStatementNext (Tx). */
  onLastStatementNext?: () => void;
}

/** The one implementation of Tx, shared by the SQLite and PostgreSQL drivers. */
export class SqlTx implements Tx {
  private readonly db: Executor;
  private readonly onAudit: AuditListener | null;
  /** CSMS secrets' tables (store/secrets-sql.ts). */
  readonly secrets: SqlSecrets;
  /** A PostgreSQL group's records, staged by insertAudit until appendStagedAudit writes them (null: written at once). */
  private readonly staged: AuditEvent[] | null;
  /**
   * Keys this transaction read with their row locked, as it last saw them (null: not kept). A
   * row this transaction holds locked cannot change but by this transaction's own writes, which
   * drop it here (updateKey, insertKey, deleteKey); so a later unit of a PostgreSQL group that
   * locks the same key is answered from here, one round trip fewer under the lock. A unit rolled
   * back to its savepoint may have released the lock it took: forgetLockedKeys.
   */
  private readonly lockedKeys: Map<string, Key> | null;
  /** Each staged record's unit (SqlTxOptions.unitOf): the records are written in unit order. */
  private readonly stagedUnits: number[] = [];
  private readonly options: SqlTxOptions;
  /**
   * `onAudit` is told every record written, before its transaction commits; throwing rolls the
   * transaction back. `stageAudit`: records wait for appendStagedAudit (PostgreSQL groups).
   * `keepLockedKeys`: the transaction is this object's alone, start to end (see lockedKeys).
   */
  constructor(db: Executor, onAudit: AuditListener | null = null, options: SqlTxOptions = {}) {
    this.db = db;
    this.onAudit = onAudit;
    this.secrets = new SqlSecrets(db);
    this.staged = options.stageAudit ? [] : null;
    this.lockedKeys = options.keepLockedKeys ? new Map() : null;
    this.options = options;
  }

  lastStatementNext(): void {
    this.options.onLastStatementNext?.();
  }

  /** After a ROLLBACK TO SAVEPOINT: locks taken since the savepoint are released, and rows it wrote are as before. */
  forgetLockedKeys(): void {
    this.lockedKeys?.clear();
  }

  private async one(sql: string, params: unknown[]): Promise<Row | null> {
    const rows = await this.db.all(sql, params);
    return rows[0] ?? null;
  }

  private async count(sql: string, params: unknown[]): Promise<number> {
    const row = await this.one(sql, params);
    return Number(row?.n ?? 0);
  }

  async getSetting(name: string): Promise<string | null> {
    const row = await this.one('SELECT value FROM settings WHERE name = $1', [name]);
    return row ? String(row.value) : null;
  }

  async initSetting(name: string, value: string): Promise<string> {
    await this.db.run('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, value]);
    return (await this.getSetting(name)) as string;
  }

  async deleteSettings(prefix: string): Promise<number> {
    return this.db.run('DELETE FROM settings WHERE substr(name, 1, $2) = $1', [prefix, prefix.length]);
  }

  async getAccount(id: string): Promise<Account | null> {
    const r = await this.one('SELECT id, name, disabled FROM accounts WHERE id = $1', [id]);
    return r ? accountFromRow(r) : null;
  }
  async findAccountByName(name: string): Promise<Account | null> {
    const r = await this.one('SELECT id, name, disabled FROM accounts WHERE name = $1', [name]);
    return r ? accountFromRow(r) : null;
  }
  async insertAccount(a: Account): Promise<void> {
    await this.db.run('INSERT INTO accounts (id, name, disabled) VALUES ($1, $2, $3)', [a.id, a.name, a.disabled ? 1 : 0]);
  }
  async getProject(id: string): Promise<Project | null> {
    const r = await this.one('SELECT id, account_id, name FROM projects WHERE id = $1', [id]);
    return r ? { id: String(r.id), accountId: String(r.account_id), name: String(r.name) } : null;
  }
  async projectsOfAccount(accountId: string): Promise<Project[]> {
    const rows = await this.db.all('SELECT id, account_id, name FROM projects WHERE account_id = $1 ORDER BY name', [accountId]);
    return rows.map((r) => ({ id: String(r.id), accountId: String(r.account_id), name: String(r.name) }));
  }
  async insertProject(p: Project): Promise<void> {
    await this.db.run('INSERT INTO projects (id, account_id, name) VALUES ($1, $2, $3)', [p.id, p.accountId, p.name]);
  }
  async getUser(id: string): Promise<User | null> {
    const r = await this.one('SELECT * FROM users WHERE id = $1', [id]);
    return r ? userFromRow(r) : null;
  }
  async getUserAndAccount(id: string): Promise<{ user: User; account: Account } | null> {
    const r = await this.one(
      `SELECT u.*, a.name AS account_name, a.disabled AS account_disabled FROM users u JOIN accounts a ON a.id = u.account_id WHERE u.id = $1`,
      [id],
    );
    return r ? { user: userFromRow(r), account: accountFromRow({ id: r.account_id, name: r.account_name, disabled: r.account_disabled }) } : null;
  }
  async findUser(accountId: string, name: string): Promise<User | null> {
    const r = await this.one('SELECT * FROM users WHERE account_id = $1 AND name = $2', [accountId, name]);
    return r ? userFromRow(r) : null;
  }
  async usersOfAccount(accountId: string): Promise<User[]> {
    const rows = await this.db.all('SELECT * FROM users WHERE account_id = $1 ORDER BY name, id', [accountId]);
    return rows.map(userFromRow);
  }
  async insertUser(u: User): Promise<void> {
    await this.db.run('INSERT INTO users (id, account_id, name, password_hash, policies, disabled) VALUES ($1, $2, $3, $4, $5, $6)', [
      u.id, u.accountId, u.name, u.passwordHash, JSON.stringify(u.policies), u.disabled ? 1 : 0,
    ]);
  }
  async updateUser(u: User): Promise<void> {
    await this.db.run('UPDATE users SET name = $2, password_hash = $3, policies = $4 WHERE id = $1', [
      u.id, u.name, u.passwordHash, JSON.stringify(u.policies),
    ]);
  }
  async getAccessKey(ak: string): Promise<AccessKey | null> {
    const r = await this.one('SELECT ak, user_id, sk_sealed, disabled FROM access_keys WHERE ak = $1', [ak]);
    return r ? accessKeyFromRow(r) : null;
  }
  async accessKeysOfUser(userId: string): Promise<AccessKey[]> {
    const rows = await this.db.all('SELECT ak, user_id, sk_sealed, disabled FROM access_keys WHERE user_id = $1 ORDER BY ak', [userId]);
    return rows.map(accessKeyFromRow);
  }
  async insertAccessKey(k: AccessKey): Promise<void> {
    await this.db.run('INSERT INTO access_keys (ak, user_id, sk_sealed, disabled) VALUES ($1, $2, $3, $4)', [k.ak, k.userId, k.skSealed, k.disabled ? 1 : 0]);
  }
  async updateAccessKeySecret(ak: string, skSealed: Buffer): Promise<void> {
    await this.db.run('UPDATE access_keys SET sk_sealed = $2 WHERE ak = $1', [ak, skSealed]);
  }
  async lockIdentities(): Promise<void> {
    // SQLite: writers are one at a time already.
    if (this.db.advisoryLocks) await this.db.all('SELECT pg_advisory_xact_lock($1)', [IDENTITIES_LOCK]);
  }
  async retainIdentities(keep: RetainedIdentities): Promise<void> {
    const tables: Array<[string, string, ReadonlySet<string>]> = [
      ['accounts', 'id', keep.accountIds], ['users', 'id', keep.userIds], ['access_keys', 'ak', keep.accessKeys],
    ];
    for (const [table, id, kept] of tables) {
      for (const row of await this.db.all(`SELECT ${id} AS id, disabled FROM ${table}`, [])) {
        const disabled = kept.has(String(row.id)) ? 0 : 1;
        if (Number(row.disabled) !== disabled) await this.db.run(`UPDATE ${table} SET disabled = $2 WHERE ${id} = $1`, [row.id, disabled]);
      }
    }
  }
  async getToken(hash: string): Promise<Token | null> {
    const r = await this.one('SELECT * FROM tokens WHERE hash = $1', [hash]);
    return r ? tokenFromRow(r) : null;
  }
  async insertToken(t: Token): Promise<void> {
    await this.db.run('INSERT INTO tokens (hash, user_id, project_id, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [
      t.hash, t.userId, t.projectId, t.issuedAt, t.expiresAt,
    ]);
  }
  async deleteExpiredTokens(now: number): Promise<number> {
    return this.db.run('DELETE FROM tokens WHERE expires_at <= $1', [now]);
  }

  async getKey(keyId: string, options?: { lock?: boolean }): Promise<Key | null> {
    const locked = options?.lock === true ? this.lockedKeys : null;
    const kept = locked?.get(keyId);
    // A copy: a caller may change what it was given without writing it.
    if (kept !== undefined) return { ...kept };
    const lock = options?.lock ? this.db.forUpdate : '';
    const r = await this.one(`SELECT ${KEY_COLUMNS} FROM keys WHERE key_id = $1${lock}`, [keyId]);
    if (!r) return null;
    // A missing key locks no row (another session could insert it): never kept.
    locked?.set(keyId, keyFromRow(r));
    return keyFromRow(r);
  }
  async findKeyByAlias(accountId: string, region: string, alias: string): Promise<Key | null> {
    const r = await this.one(`SELECT ${KEY_COLUMNS} FROM keys WHERE account_id = $1 AND region = $2 AND alias = $3`, [
      accountId, region, alias,
    ]);
    return r ? keyFromRow(r) : null;
  }
  async listKeys(accountId: string, region: string, filter: KeyFilter, offset: number, limit: number): Promise<Page<Key>> {
    const where = ['account_id = $1', 'region = $2'];
    const params: unknown[] = [accountId, region];
    if (filter.state !== undefined) {
      params.push(filter.state);
      where.push(`state = $${params.length}`);
    }
    if (filter.spec !== undefined && filter.spec !== 'ALL') {
      params.push(filter.spec);
      where.push(`spec = $${params.length}`);
    }
    const cond = where.join(' AND ');
    const total = await this.count(`SELECT COUNT(*) AS n FROM keys WHERE ${cond}`, params);
    const rows = await this.db.all(
      `SELECT ${KEY_COLUMNS} FROM keys WHERE ${cond} ORDER BY creation_date, key_id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, limit, offset],
    );
    return { items: rows.map(keyFromRow), total };
  }
  async countCustomerKeys(accountId: string, region: string): Promise<number> {
    return this.count('SELECT COUNT(*) AS n FROM keys WHERE account_id = $1 AND region = $2 AND default_key = 0', [accountId, region]);
  }
  async insertKey(k: Key): Promise<void> {
    this.lockedKeys?.delete(k.keyId);
    await this.db.run(KEY_INSERT, keyToParams(k));
  }
  async updateKey(k: Key): Promise<void> {
    this.lockedKeys?.delete(k.keyId);
    await this.db.run(KEY_UPDATE, keyToParams(k));
  }
  async deleteKey(keyId: string): Promise<void> {
    this.lockedKeys?.delete(keyId);
    await this.db.run('DELETE FROM grants WHERE key_id = $1', [keyId]);
    await this.db.run('DELETE FROM key_tags WHERE key_id = $1', [keyId]);
    await this.db.run('DELETE FROM key_aliases WHERE key_id = $1', [keyId]);
    await this.db.run('DELETE FROM key_materials WHERE key_id = $1', [keyId]);
    await this.db.run('DELETE FROM keys WHERE key_id = $1', [keyId]);
  }
  async keysDueForDeletion(now: number, limit: number): Promise<string[]> {
    const rows = await this.db.all(
      'SELECT key_id FROM keys WHERE scheduled_deletion_date IS NOT NULL AND scheduled_deletion_date <= $1 ORDER BY scheduled_deletion_date LIMIT $2',
      [now, limit],
    );
    return rows.map((r) => String(r.key_id));
  }
  async keysDueForRotation(now: number, limit: number): Promise<string[]> {
    const rows = await this.db.all(
      `SELECT key_id FROM keys WHERE rotation_due IS NOT NULL AND rotation_due <= $1 AND state = '2'
         ORDER BY rotation_due LIMIT $2`,
      [now, limit],
    );
    return rows.map((r) => String(r.key_id));
  }

  async insertMaterial(m: KeyMaterial): Promise<void> {
    await this.db.run('INSERT INTO key_materials (key_id, version, sealed, created_at) VALUES ($1, $2, $3, $4)', [
      m.keyId, m.version, m.sealed, m.createdAt,
    ]);
  }
  async getMaterial(keyId: string, version: number): Promise<KeyMaterial | null> {
    const r = await this.one('SELECT * FROM key_materials WHERE key_id = $1 AND version = $2', [keyId, version]);
    return r ? materialFromRow(r) : null;
  }

  async deleteMaterials(keyId: string): Promise<void> {
    await this.db.run('DELETE FROM key_materials WHERE key_id = $1', [keyId]);
  }
  async keysWithExpiredMaterial(now: number, limit: number): Promise<string[]> {
    const rows = await this.db.all(
      `SELECT key_id FROM keys WHERE material_expires IS NOT NULL AND material_expires <= $1 AND state IN ('2', '3')
         ORDER BY material_expires LIMIT $2`,
      [now, limit],
    );
    return rows.map((r) => String(r.key_id));
  }

  async insertKeystore(k: Keystore): Promise<void> {
    await this.db.run(`INSERT INTO keystores (${KEYSTORE_COLUMNS}) VALUES (${placeholders(9)})`, keystoreToParams(k));
  }
  async getKeystore(keystoreId: string, options?: { lock?: boolean }): Promise<Keystore | null> {
    const lock = options?.lock ? this.db.forUpdate : '';
    const r = await this.one(`SELECT ${KEYSTORE_COLUMNS} FROM keystores WHERE keystore_id = $1${lock}`, [keystoreId]);
    return r ? keystoreFromRow(r) : null;
  }
  async findKeystoreByAlias(accountId: string, region: string, alias: string): Promise<Keystore | null> {
    const r = await this.one(`SELECT ${KEYSTORE_COLUMNS} FROM keystores WHERE account_id = $1 AND region = $2 AND alias = $3`, [
      accountId, region, alias,
    ]);
    return r ? keystoreFromRow(r) : null;
  }
  async findKeystoreByCluster(accountId: string, region: string, clusterId: string): Promise<Keystore | null> {
    const r = await this.one(`SELECT ${KEYSTORE_COLUMNS} FROM keystores WHERE account_id = $1 AND region = $2 AND cluster_id = $3`, [
      accountId, region, clusterId,
    ]);
    return r ? keystoreFromRow(r) : null;
  }
  async listKeystores(accountId: string, region: string, offset: number, limit: number): Promise<Page<Keystore>> {
    const total = await this.countKeystores(accountId, region);
    const rows = await this.db.all(
      `SELECT ${KEYSTORE_COLUMNS} FROM keystores WHERE account_id = $1 AND region = $2 ORDER BY create_time, keystore_id LIMIT $3 OFFSET $4`,
      [accountId, region, limit, offset],
    );
    return { items: rows.map(keystoreFromRow), total };
  }
  async countKeystores(accountId: string, region: string): Promise<number> {
    return this.count('SELECT COUNT(*) AS n FROM keystores WHERE account_id = $1 AND region = $2', [accountId, region]);
  }
  async updateKeystore(k: Keystore): Promise<void> {
    await this.db.run('UPDATE keystores SET alias = $2, state = $3 WHERE keystore_id = $1', [k.keystoreId, k.alias, k.state]);
  }
  async deleteKeystore(keystoreId: string): Promise<void> {
    await this.db.run('DELETE FROM keystores WHERE keystore_id = $1', [keystoreId]);
  }
  async countKeysInKeystore(keystoreId: string): Promise<number> {
    return this.count('SELECT COUNT(*) AS n FROM keys WHERE keystore_id = $1', [keystoreId]);
  }

  async insertGrant(g: Grant, limit = Number.MAX_SAFE_INTEGER): Promise<boolean> {
    if (this.db.writableCte) return (await this.count(GRANT_INSERT_COUNTED, [...grantToParams(g), limit])) === 1;
    if ((await this.db.run(GRANT_COUNTED, [g.keyId, limit])) === 0) return false;
    await this.db.run(GRANT_INSERT, grantToParams(g));
    return true;
  }
  async grantsVersion(keyId: string): Promise<number> {
    return this.count('SELECT grants_version AS n FROM keys WHERE key_id = $1', [keyId]);
  }
  async getGrant(grantId: string): Promise<Grant | null> {
    const r = await this.one(`SELECT ${GRANT_COLUMNS} FROM grants WHERE grant_id = $1`, [grantId]);
    return r ? grantFromRow(r) : null;
  }
  async deleteGrant(grantId: string): Promise<boolean> {
    if (this.db.writableCte) return (await this.count(GRANT_DELETE_UNCOUNTED, [grantId])) === 1;
    await this.db.run(GRANT_UNCOUNTED_BY_ID, [grantId]);
    return (await this.db.run(GRANT_DELETE, [grantId])) === 1;
  }
  async endGrantOfKey(keyId: string, grantId: string): Promise<Grant | null> {
    if (this.db.writableCte) {
      const ended = await this.one(GRANT_OF_KEY_END_UNCOUNTED, [grantId, keyId]);
      return ended ? grantFromRow(ended) : null;
    }
    const r = await this.one(`SELECT ${GRANT_OF_KEY}`, [grantId, keyId]);
    if (!r) return null;
    await this.db.run(GRANT_UNCOUNTED, [keyId]);
    await this.db.run(GRANT_DELETE, [grantId]);
    return grantFromRow(r);
  }
  async countGrants(keyId: string): Promise<number> {
    return this.count('SELECT COUNT(*) AS n FROM grants WHERE key_id = $1', [keyId]);
  }
  async maxGrantsOnOneKey(accountId: string, region: string): Promise<number> {
    return this.count(
      `SELECT COALESCE(MAX(c), 0) AS n FROM (SELECT COUNT(*) AS c FROM grants g JOIN keys k ON k.key_id = g.key_id
         WHERE k.account_id = $1 AND k.region = $2 GROUP BY g.key_id) per_key`,
      [accountId, region],
    );
  }
  async listGrants(keyId: string, offset: number, limit: number): Promise<Page<Grant>> {
    const total = await this.countGrants(keyId);
    const rows = await this.db.all(
      `SELECT ${GRANT_COLUMNS} FROM grants WHERE key_id = $1 ORDER BY creation_date, grant_id LIMIT $2 OFFSET $3`,
      [keyId, limit, offset],
    );
    return { items: rows.map(grantFromRow), total };
  }
  async grantsNaming(keyId: string, userId: string, accountId: string): Promise<Grant[]> {
    const rows = await this.db.all(GRANTS_NAMING, [keyId, userId, accountId]);
    return rows.map(grantFromRow);
  }
  async listRetirableGrants(userId: string, accountId: string, offset: number, limit: number): Promise<Page<Grant>> {
    const total = await this.count(`SELECT COUNT(*) AS n ${RETIRABLE}`, [userId, accountId]);
    const rows = await this.db.all(
      `SELECT ${GRANT_COLUMNS} ${RETIRABLE} ORDER BY creation_date, grant_id LIMIT $3 OFFSET $4`,
      [userId, accountId, limit, offset],
    );
    return { items: rows.map(grantFromRow), total };
  }

  async tagsOfKey(keyId: string): Promise<Tag[]> {
    const rows = await this.db.all('SELECT tag_key, tag_value FROM key_tags WHERE key_id = $1 ORDER BY tag_key', [keyId]);
    return rows.map((r) => ({ key: String(r.tag_key), value: String(r.tag_value) }));
  }
  async tagsOfKeys(keyIds: readonly string[]): Promise<Map<string, Tag[]>> {
    const tags = new Map<string, Tag[]>(keyIds.map((id) => [id, []]));
    if (keyIds.length === 0) return tags;
    const rows = await this.db.all(
      `SELECT key_id, tag_key, tag_value FROM key_tags WHERE key_id IN (${placeholders(keyIds.length)}) ORDER BY key_id, tag_key`,
      [...keyIds],
    );
    for (const r of rows) tags.get(String(r.key_id))?.push({ key: String(r.tag_key), value: String(r.tag_value) });
    return tags;
  }
  async putTag(keyId: string, tag: Tag, now: number): Promise<void> {
    await this.db.run(
      `INSERT INTO key_tags (key_id, tag_key, tag_value, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value`,
      [keyId, tag.key, tag.value, now],
    );
  }
  async deleteTag(keyId: string, tagKey: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM key_tags WHERE key_id = $1 AND tag_key = $2', [keyId, tagKey])) === 1;
  }
  async projectTags(accountId: string, region: string): Promise<Array<{ key: string; values: string[] }>> {
    const rows = await this.db.all(
      `SELECT DISTINCT t.tag_key, t.tag_value FROM key_tags t JOIN keys k ON k.key_id = t.key_id
         WHERE k.account_id = $1 AND k.region = $2 ORDER BY t.tag_key, t.tag_value`,
      [accountId, region],
    );
    return groupTagValues(rows);
  }
  async keysByTags(accountId: string, region: string, filter: TagFilter, offset: number, limit: number): Promise<Page<Key>> {
    const params: unknown[] = [accountId, region];
    const where = ['account_id = $1', 'region = $2', 'default_key = 0'];
    tagConditions(filter.tags, 'key_tags', 'keys', 'key_id', params, where);
    if (filter.name !== undefined && filter.name !== '') {
      params.push(`%${filter.name.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.push(`LOWER(alias) LIKE $${params.length} ESCAPE '\\'`);
    }
    const cond = where.join(' AND ');
    const total = await this.count(`SELECT COUNT(*) AS n FROM keys WHERE ${cond}`, params);
    if (limit === 0) return { items: [], total };
    const rows = await this.db.all(
      `SELECT ${KEY_COLUMNS} FROM keys WHERE ${cond} ORDER BY creation_date, key_id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, limit, offset],
    );
    return { items: rows.map(keyFromRow), total };
  }

  async getAlias(accountId: string, region: string, alias: string): Promise<KeyAlias | null> {
    const r = await this.one('SELECT * FROM key_aliases WHERE account_id = $1 AND region = $2 AND alias = $3', [accountId, region, alias]);
    return r ? aliasFromRow(r) : null;
  }
  async insertAlias(a: KeyAlias): Promise<void> {
    await this.db.run(
      'INSERT INTO key_aliases (account_id, region, alias, key_id, create_time, update_time) VALUES ($1, $2, $3, $4, $5, $6)',
      [a.accountId, a.region, a.alias, a.keyId, a.createTime, a.updateTime],
    );
  }
  async updateAlias(a: KeyAlias): Promise<void> {
    await this.db.run('UPDATE key_aliases SET key_id = $4, update_time = $5 WHERE account_id = $1 AND region = $2 AND alias = $3', [
      a.accountId, a.region, a.alias, a.keyId, a.updateTime,
    ]);
  }
  async deleteAlias(accountId: string, region: string, alias: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM key_aliases WHERE account_id = $1 AND region = $2 AND alias = $3', [accountId, region, alias])) === 1;
  }
  async countAliasesOfKey(keyId: string): Promise<number> {
    return this.count('SELECT COUNT(*) AS n FROM key_aliases WHERE key_id = $1', [keyId]);
  }
  async listAliases(accountId: string, region: string, keyId: string | undefined, after: string | undefined, limit: number): Promise<KeyAlias[]> {
    const params: unknown[] = [accountId, region];
    const where = ['account_id = $1', 'region = $2'];
    if (keyId !== undefined) {
      params.push(keyId);
      where.push(`key_id = $${params.length}`);
    }
    if (after !== undefined) {
      params.push(after);
      where.push(`alias > $${params.length}`);
    }
    params.push(limit);
    const rows = await this.db.all(`SELECT * FROM key_aliases WHERE ${where.join(' AND ')} ORDER BY alias LIMIT $${params.length}`, params);
    return rows.map(aliasFromRow);
  }

  async insertAudit(sent: AuditEvent): Promise<void> {
    const e = wellFormed(sent);
    if (this.staged !== null) {
      this.staged.push(e);
      this.stagedUnits.push(this.options.unitOf?.() ?? 0);
      return;
    }
    // SQLite, whose writers are serialised: the head read, the record written, the head moved.
    const head = await this.auditChainHead(true);
    const prevHash = head.headHash;
    const hash = chainHash(prevHash, e);
    const params = [...auditToParams(e), prevHash, hash];
    const seq = Number((await this.db.all(AUDIT_INSERT, params))[0].seq);
    await this.db.run('UPDATE audit_chain SET head_seq = $1, head_hash = $2 WHERE id = 1', [seq, hash]);
    this.onAudit?.({ ...e, seq, prevHash, hash });
  }
  /** How many records are staged (a unit that fails drops what it staged: dropStagedAudit). */
  get stagedAudit(): number {
    return this.staged?.length ?? 0;
  }
  /** Drops what unit `unit` staged (SqlTxOptions.unitOf): a unit that failed. */
  dropStagedAudit(unit: number): void {
    if (this.staged === null) return;
    for (let k = this.staged.length - 1; k >= 0; k--) {
      if (this.stagedUnits[k] !== unit) continue;
      this.staged.splice(k, 1);
      this.stagedUnits.splice(k, 1);
    }
  }
  /**
   * Writes the staged records (a PostgreSQL group's, in the order its units ran) in one statement
   * (AUDIT_APPEND_MANY) and tells each to onAudit. It waits for the chain's head while another
   * group commits: the caller lifts any bound on lock waits first. The hashes the database made
   * and the sequence numbers it gave are checked against chainHash and the chain's order: records
   * the trail's verifier would reject are never committed.
   */
  async appendStagedAudit(): Promise<void> {
    if (this.staged === null || this.staged.length === 0) return;
    // In unit order: units whose statements overlapped may have staged theirs in another order.
    const order = this.staged.map((_, i) => i).sort((a, b) => this.stagedUnits[a] - this.stagedUnits[b] || a - b);
    const staged = order.map((i) => (this.staged as AuditEvent[])[i]);
    const parts = staged.map(chainHashParts);
    const rows = staged.map((e) => auditToParams(e));
    const columns = AUDIT_ARRAY_TYPES.map((_, c) => rows.map((row) => row[c]));
    const written = await this.db.all(AUDIT_APPEND_MANY, [...columns, parts.map((p) => p[0]), parts.map((p) => p[1])]);
    if (written.length === 0) throw new NoChainHead();
    written.sort((a, b) => Number(a.seq) - Number(b.seq));
    if (written.length !== staged.length) throw new Error('the database wrote another number of audit records than the group staged');
    let prevHash = String(written[0].prev_hash);
    staged.forEach((e, i) => {
      const row = written[i];
      const hash = hashOfParts(parts[i], prevHash);
      if (String(row.prev_hash) !== prevHash || String(row.hash) !== hash) throw new Error('the database chained an audit record otherwise than kmsd does');
      this.onAudit?.({ ...e, seq: Number(row.seq), prevHash, hash });
      prevHash = hash;
    });
    this.staged.length = 0;
    this.stagedUnits.length = 0;
  }
  async listAuditChain(afterSeq: number, limit: number): Promise<StoredAuditEvent[]> {
    const rows = await this.db.all(`SELECT seq, ${AUDIT_COLUMNS}, prev_hash, hash FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, limit]);
    return rows.map((r) => ({ ...auditFromRow(r), seq: Number(r.seq), prevHash: optText(r.prev_hash), hash: optText(r.hash) }));
  }
  async auditChainHead(lock = false): Promise<ChainHead> {
    // Unlocked (verification): the newest record in the same statement, so the same snapshot.
    const r = await this.one(
      lock
        ? `SELECT start_seq, head_seq, head_hash, head_seq AS last_seq FROM audit_chain WHERE id = 1${this.db.forUpdate}`
        : 'SELECT start_seq, head_seq, head_hash, (SELECT MAX(seq) FROM audit_events) AS last_seq FROM audit_chain WHERE id = 1',
      [],
    );
    if (!r) throw new NoChainHead();
    const headSeq = Number(r.head_seq);
    return { startSeq: Number(r.start_seq), headSeq, headHash: String(r.head_hash), lastSeq: Math.max(headSeq, Number(r.last_seq ?? 0)) };
  }
  async putSetting(name: string, value: string): Promise<void> {
    await this.db.run('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value', [name, value]);
  }
  async listAudit(filter: AuditFilter, afterSeq: number, limit: number): Promise<AuditEvent[]> {
    const params: unknown[] = [afterSeq];
    const where = ['seq > $1'];
    const add = (condition: (n: string) => string, value: unknown) => {
      params.push(value);
      where.push(condition(`$${params.length}`));
    };
    // A resource id: a key's, or a secret's (CSMS).
    if (filter.keyId !== undefined) add((p) => `(key_id = ${p} OR secret_id = ${p})`, filter.keyId);
    if (filter.principal !== undefined) add((p) => `(user_id = ${p} OR account_id = ${p})`, filter.principal);
    if (filter.since !== undefined) add((p) => `time >= ${p}`, filter.since);
    if (filter.until !== undefined) add((p) => `time <= ${p}`, filter.until);
    if (filter.operation !== undefined) add((p) => `operation = ${p}`, filter.operation);
    if (filter.before !== undefined) add((p) => `seq < ${p}`, filter.before);
    if (filter.outcomes !== undefined) {
      const names = filter.outcomes.map((outcome) => {
        params.push(outcome);
        return `$${params.length}`;
      });
      where.push(names.length === 0 ? 'FALSE' : `outcome IN (${names.join(', ')})`);
    }
    if (filter.service !== undefined) {
      const names = filter.service.csmsOperations.map((operation) => {
        params.push(operation);
        return `$${params.length}`;
      });
      const csms = `(secret_id IS NOT NULL OR secret_name IS NOT NULL${names.length === 0 ? '' : ` OR operation IN (${names.join(', ')})`})`;
      where.push(filter.service.name === 'CSMS' ? csms : `NOT ${csms}`);
    }
    if (filter.visibleTo !== undefined) {
      add((p) => `(account_id = ${p} OR key_id IN (SELECT key_id FROM keys WHERE account_id = ${p}))`, filter.visibleTo);
    }
    params.push(limit);
    const rows = await this.db.all(
      `SELECT seq, ${AUDIT_COLUMNS} FROM audit_events WHERE ${where.join(' AND ')} ORDER BY seq${filter.newestFirst ? ' DESC' : ''} LIMIT $${params.length}`,
      params,
    );
    return rows.map(auditFromRow);
  }

  async census(): Promise<Census> {
    const rows = await this.db.all('SELECT state, COUNT(*) AS n FROM keys GROUP BY state', []);
    const keysByState: Record<string, number> = {};
    for (const r of rows) keysByState[String(r.state)] = Number(r.n);
    return { keysByState, grants: await this.count('SELECT COUNT(*) AS n FROM grants', []) };
  }
}
