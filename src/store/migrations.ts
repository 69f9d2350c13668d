import { GENESIS } from '../audit/chain.ts';
import { newDataVersion } from './postgres-memo.ts';

/**
 * Versioned schema migrations, one list for both drivers. Each entry is applied once, in
 * order, inside the transaction that records it in schema_migrations. `dialect` fills the
 * few type names the two databases spell differently.
 */
export interface Dialect {
  name: 'sqlite' | 'postgres';
  blob: string;
  bigint: string;
  /** An increasing row number the database assigns. */
  serial: string;
}

export const SQLITE: Dialect = { name: 'sqlite', blob: 'BLOB', bigint: 'INTEGER', serial: 'INTEGER PRIMARY KEY AUTOINCREMENT' };
export const POSTGRES: Dialect = { name: 'postgres', blob: 'BYTEA', bigint: 'BIGINT', serial: 'BIGSERIAL PRIMARY KEY' };

/** Migration 10's one data version (replaced by migration 12): as that migration wrote it, for a database migrated from before it. */
const ONE_DATA_VERSION_AT_10 = 'INSERT INTO data_version (id, version) VALUES (1, gen_random_uuid()::text) ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version';
const DATA_CHANGED_FUNCTION_AT_10 = `CREATE FUNCTION kmsd_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('kmsd.moves_version', true) IS DISTINCT FROM 'on' THEN
    ${ONE_DATA_VERSION_AT_10};
  END IF;
  RETURN NULL;
END $$`;
/**
 * PostgreSQL (migration 12): gives the changed table's data version a new value (a random UUID,
 * never a counter: see newDataVersion in postgres-memo.ts) in any transaction that changed it,
 * unless the transaction is kmsd's own (it sets kmsd.moves_version and moves the versions of
 * the tables it changed once, with its COMMIT). Once per table and transaction (kmsd.moved_<table>
 * holds the transaction's id): the rows a transaction changes become visible together with that
 * one new value, and a load of many rows fired row by row (data_changed_replica) does not update
 * the version row once per row.
 */
const DATA_CHANGED_FUNCTION = `CREATE OR REPLACE FUNCTION kmsd_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('kmsd.moves_version', true) IS DISTINCT FROM 'on'
     AND current_setting('kmsd.moved_' || TG_TABLE_NAME, true) IS DISTINCT FROM txid_current()::text THEN
    ${newDataVersion('(VALUES (TG_TABLE_NAME::text)) AS changed (table_name)')};
    PERFORM set_config('kmsd.moved_' || TG_TABLE_NAME, txid_current()::text, true);
  END IF;
  RETURN NULL;
END $$`;
/**
 * The function finds data_version in the schema the migration ran in (kmsd's), whoever's change
 * fires it: an operator's role whose search_path starts with "$user", a logical replication apply
 * worker (it runs with an empty search_path).
 */
const DATA_CHANGED_FUNCTION_SCHEMA = `DO $$ BEGIN EXECUTE format('ALTER FUNCTION kmsd_data_changed() SET search_path = %I, pg_temp', current_schema()); END $$`;
/**
 * The triggers a migration that creates a table adds for it on PostgreSQL (dataChangedTriggers;
 * test/postgres-round-trips.test.ts checks every table has both). data_changed, for each
 * statement, ENABLE ALWAYS: it fires also in sessions with session_replication_role = replica (a
 * hand-made change, a tool loading rows that way), which skip ordinary triggers. DISABLE TRIGGER
 * (ALL) still stops it: docs/postgres-performance.md says to restart the nodes after changing rows so.
 */
const dataChangedTrigger = (table: string): string =>
  `CREATE TRIGGER data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION kmsd_data_changed(); ` +
  `ALTER TABLE ${table} ENABLE ALWAYS TRIGGER data_changed`;
/**
 * data_changed_replica (migration 12), for each row, ENABLE REPLICA: a logical replication
 * subscription's apply worker fires row triggers only, never statement triggers, so rows it applies
 * move the version through this one. It fires only under session_replication_role = replica.
 */
const dataChangedReplicaTrigger = (table: string): string =>
  `CREATE TRIGGER data_changed_replica AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION kmsd_data_changed(); ` +
  `ALTER TABLE ${table} ENABLE REPLICA TRIGGER data_changed_replica`;
/** Both triggers, for a table a migration after 12 creates. */
export const dataChangedTriggers = (table: string): string[] => [dataChangedTrigger(table), dataChangedReplicaTrigger(table)];
/** The data tables as of migration 10 (and 12: migration 11 added none). */
const DATA_TABLES_AT_10 = [
  'settings', 'accounts', 'projects', 'users', 'access_keys', 'tokens', 'keystores', 'keys', 'key_materials', 'grants', 'key_tags',
  'key_aliases', 'csms_secrets', 'csms_versions', 'csms_stages', 'csms_tags', 'audit_events', 'audit_chain',
];

/** Any constant shared by every kmsd node: the PostgreSQL advisory lock that serialises migrations (and restores). */
export const MIGRATION_LOCK = 0x6b6d7364;

export const MIGRATIONS: ReadonlyArray<(d: Dialect) => string[]> = [
  // 1: identities, keys, key material, grants.
  (d) => [
    `CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)`,
    `CREATE TABLE accounts (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE)`,
    `CREATE TABLE projects (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
       name TEXT NOT NULL, UNIQUE (account_id, name))`,
    `CREATE TABLE users (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id),
       name TEXT NOT NULL, password_hash TEXT, policies TEXT NOT NULL, UNIQUE (account_id, name))`,
    `CREATE TABLE access_keys (ak TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id),
       sk_sealed ${d.blob} NOT NULL)`,
    `CREATE INDEX access_keys_by_user ON access_keys (user_id)`,
    `CREATE TABLE tokens (hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id),
       project_id TEXT, issued_at ${d.bigint} NOT NULL, expires_at ${d.bigint} NOT NULL)`,
    `CREATE INDEX tokens_by_expiry ON tokens (expires_at)`,
    `CREATE TABLE keys (key_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, region TEXT NOT NULL,
       alias TEXT NOT NULL, description TEXT NOT NULL, spec TEXT NOT NULL, usage TEXT NOT NULL,
       origin TEXT NOT NULL, state TEXT NOT NULL, creation_date ${d.bigint} NOT NULL,
       scheduled_deletion_date ${d.bigint}, default_key INTEGER NOT NULL,
       rotation_enabled INTEGER NOT NULL, rotation_interval INTEGER NOT NULL,
       last_rotation_time ${d.bigint}, rotations INTEGER NOT NULL, material_version INTEGER NOT NULL,
       UNIQUE (account_id, region, alias))`,
    `CREATE INDEX keys_by_account ON keys (account_id, region, creation_date, key_id)`,
    `CREATE INDEX keys_by_deletion ON keys (scheduled_deletion_date)`,
    `CREATE TABLE key_materials (key_id TEXT NOT NULL, version INTEGER NOT NULL,
       sealed ${d.blob} NOT NULL, created_at ${d.bigint} NOT NULL, PRIMARY KEY (key_id, version))`,
    `CREATE TABLE grants (grant_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, grantee_principal TEXT NOT NULL,
       grantee_type TEXT NOT NULL, operations TEXT NOT NULL, issuing_principal TEXT NOT NULL,
       retiring_principal TEXT, name TEXT, creation_date ${d.bigint} NOT NULL)`,
    `CREATE INDEX grants_by_key ON grants (key_id, creation_date, grant_id)`,
    `CREATE INDEX grants_by_grantee ON grants (grantee_principal, key_id)`,
    `CREATE INDEX grants_by_retiring ON grants (retiring_principal)`,
    `CREATE INDEX grants_by_issuer ON grants (issuing_principal)`,
  ],
  // 2: when a key with rotation enabled is next due for new material.
  (d) => [
    `ALTER TABLE keys ADD COLUMN rotation_due ${d.bigint}`,
    `CREATE INDEX keys_by_rotation_due ON keys (rotation_due)`,
  ],
  // 3: the audit trail. Append-only; never holds plaintext, key material, tokens or signatures.
  (d) => [
    `CREATE TABLE audit_events (seq ${d.serial}, time ${d.bigint} NOT NULL, request_id TEXT NOT NULL,
       account_id TEXT, user_id TEXT, access_key_id TEXT, operation TEXT NOT NULL, key_id TEXT,
       grant_id TEXT, sequence TEXT, outcome TEXT NOT NULL, status INTEGER NOT NULL, error_code TEXT)`,
    `CREATE INDEX audit_by_key ON audit_events (key_id, seq)`,
    `CREATE INDEX audit_by_user ON audit_events (user_id, seq)`,
    `CREATE INDEX audit_by_account ON audit_events (account_id, seq)`,
    `CREATE INDEX audit_by_time ON audit_events (time, seq)`,
  ],
  // 4: a counter every change to a key's grants moves, so a rendered grant list can be reused
  // exactly as long as the counter it was made under is current (on every node).
  (d) => [`ALTER TABLE keys ADD COLUMN grants_version ${d.bigint} NOT NULL DEFAULT 0`],
  // 5: identities the identities file no longer lists are disabled, never deleted (their ids
  // stay reserved); the trail keeps a refused request's claimed access key apart from an
  // authenticated one, where it came from, and how many refusals one summary record stands for.
  () => [
    `ALTER TABLE accounts ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0`,
    `ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0`,
    `ALTER TABLE access_keys ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0`,
    `ALTER TABLE audit_events ADD COLUMN claimed_access_key_id TEXT`,
    `ALTER TABLE audit_events ADD COLUMN source TEXT`,
    `ALTER TABLE audit_events ADD COLUMN count INTEGER NOT NULL DEFAULT 1`,
  ],
  // 6: key tags (reference §7) and aliases of the aliases API (§2.6).
  (d) => [
    `CREATE TABLE key_tags (key_id TEXT NOT NULL, tag_key TEXT NOT NULL, tag_value TEXT NOT NULL,
       created_at ${d.bigint} NOT NULL, PRIMARY KEY (key_id, tag_key))`,
    `CREATE INDEX key_tags_by_tag ON key_tags (tag_key, tag_value)`,
    `CREATE TABLE key_aliases (account_id TEXT NOT NULL, region TEXT NOT NULL, alias TEXT NOT NULL,
       key_id TEXT NOT NULL, create_time ${d.bigint} NOT NULL, update_time ${d.bigint} NOT NULL,
       PRIMARY KEY (account_id, region, alias))`,
    `CREATE INDEX key_aliases_by_key ON key_aliases (key_id, alias)`,
  ],
  // 7: key stores; a key's key store, the expiry of its imported material and the sealed digest
  // a re-import of that material must match.
  (d) => [
    `CREATE TABLE keystores (keystore_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, region TEXT NOT NULL,
       alias TEXT NOT NULL, keystore_type TEXT NOT NULL, hsm_cluster_id TEXT NOT NULL, cluster_id TEXT NOT NULL,
       state TEXT NOT NULL, create_time ${d.bigint} NOT NULL, UNIQUE (account_id, region, alias))`,
    `CREATE INDEX keystores_by_account ON keystores (account_id, region, create_time, keystore_id)`,
    `ALTER TABLE keys ADD COLUMN keystore_id TEXT NOT NULL DEFAULT '0'`,
    `ALTER TABLE keys ADD COLUMN material_expires ${d.bigint}`,
    `ALTER TABLE keys ADD COLUMN import_digest ${d.blob}`,
    `CREATE INDEX keys_by_keystore ON keys (keystore_id)`,
    `CREATE INDEX keys_by_material_expiry ON keys (material_expires)`,
  ],
  // 8: the audit trail's hash chain (src/audit/chain.ts). Records written before this
  // migration stay as they were: the chain starts after them, at start_seq. The head row is
  // what every writer of a record locks, so the chain follows the order of commits.
  (d) => [
    `ALTER TABLE audit_events ADD COLUMN prev_hash TEXT`,
    `ALTER TABLE audit_events ADD COLUMN hash TEXT`,
    `CREATE TABLE audit_chain (id INTEGER PRIMARY KEY, start_seq ${d.bigint} NOT NULL, head_seq ${d.bigint} NOT NULL,
       head_hash TEXT NOT NULL)`,
    `INSERT INTO audit_chain (id, start_seq, head_seq, head_hash)
       SELECT 1, COALESCE(MAX(seq), 0), COALESCE(MAX(seq), 0), '${GENESIS}' FROM audit_events`,
  ],
  // 9: CSMS secrets (core/secrets/): a secret per account, region and name; its versions, each
  // value sealed under a KMS key (an envelope of kind secret, never the clear value); its stages
  // (one version each) and tags. The trail names the secret a request acted on.
  (d) => [
    `CREATE TABLE csms_secrets (secret_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, region TEXT NOT NULL,
       name TEXT NOT NULL, kms_key_id TEXT NOT NULL, description TEXT NOT NULL, secret_type TEXT NOT NULL,
       state TEXT NOT NULL, create_time ${d.bigint} NOT NULL, update_time ${d.bigint} NOT NULL,
       scheduled_delete_time ${d.bigint}, version_count INTEGER NOT NULL, UNIQUE (account_id, region, name))`,
    `CREATE INDEX csms_secrets_by_deletion ON csms_secrets (scheduled_delete_time)`,
    `CREATE TABLE csms_versions (secret_id TEXT NOT NULL, version_id TEXT NOT NULL, version_number INTEGER NOT NULL,
       kms_key_id TEXT NOT NULL, value_kind TEXT NOT NULL, sealed ${d.blob} NOT NULL, create_time ${d.bigint} NOT NULL,
       expire_time ${d.bigint}, PRIMARY KEY (secret_id, version_id))`,
    `CREATE TABLE csms_stages (secret_id TEXT NOT NULL, stage_name TEXT NOT NULL, version_id TEXT NOT NULL,
       update_time ${d.bigint} NOT NULL, PRIMARY KEY (secret_id, stage_name))`,
    `CREATE TABLE csms_tags (secret_id TEXT NOT NULL, tag_key TEXT NOT NULL, tag_value TEXT NOT NULL,
       created_at ${d.bigint} NOT NULL, PRIMARY KEY (secret_id, tag_key))`,
    `CREATE INDEX csms_tags_by_tag ON csms_tags (tag_key, tag_value)`,
    `ALTER TABLE audit_events ADD COLUMN secret_id TEXT`,
    `ALTER TABLE audit_events ADD COLUMN secret_name TEXT`,
    `CREATE INDEX audit_by_secret ON audit_events (secret_id, seq)`,
  ],
  // 10: the data version every write transaction of a PostgreSQL node moves, and every read
  // compares with the one its node's remembered rows were read at (store/postgres-memo.ts).
  // kmsd moves it with its COMMIT; a change made any other way (psql, a tool) moves it through
  // a trigger on every table. SQLite has its own (PRAGMA data_version) and leaves the row as it is.
  (d) => [
    `CREATE TABLE data_version (id INTEGER PRIMARY KEY, version TEXT NOT NULL)`,
    d.name === 'postgres' ? ONE_DATA_VERSION_AT_10 : `INSERT INTO data_version (id, version) VALUES (1, '')`,
    ...(d.name === 'postgres' ? [DATA_CHANGED_FUNCTION_AT_10, ...DATA_TABLES_AT_10.map(dataChangedTrigger)] : []),
  ],
  // 11: a key's grants counted in its row, moved by the statements that insert and delete them
  // (store/sql-tx.ts): the per-key limit is checked on the row every writer of the key's grants
  // locks, not by counting grants (a walk over every grant the key had until a vacuum).
  () => [
    'ALTER TABLE keys ADD COLUMN grant_count INTEGER NOT NULL DEFAULT 0',
    'UPDATE keys SET grant_count = (SELECT COUNT(*) FROM grants WHERE grants.key_id = keys.key_id)',
  ],
  // 12: a data version per data table (store/postgres-memo.ts): a write moves only the versions of
  // the tables it changed, so what a node remembers of the others (the callers' users and
  // accounts, beside a stream of grant writes) stays valid. SQLite keeps PRAGMA data_version.
  // PostgreSQL's table is changed in place: what was granted on it (a read-only role's SELECT,
  // docs/audit.md) stays granted.
  (d) => d.name === 'postgres' ? [
    'DELETE FROM data_version',
    'ALTER TABLE data_version DROP COLUMN id, ADD COLUMN table_name TEXT PRIMARY KEY',
    newDataVersion(`unnest(ARRAY[${DATA_TABLES_AT_10.map((table) => `'${table}'`).join(', ')}]::text[]) AS data (table_name)`),
    DATA_CHANGED_FUNCTION,
    DATA_CHANGED_FUNCTION_SCHEMA,
    ...DATA_TABLES_AT_10.map(dataChangedReplicaTrigger),
  ] : [
    'DROP TABLE data_version',
    'CREATE TABLE data_version (table_name TEXT PRIMARY KEY, version TEXT NOT NULL)',
  ],
];
