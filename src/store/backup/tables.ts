/**
 * Every table a backup carries, in dependency order (a table comes after the tables it
 * references), so a restore inserts them in this order. Columns are not listed: they are read
 * from the database itself, so a column a migration adds travels without a change here.
 *
 * A migration that creates a table adds ONE line here. Until it does, `kmsd backup` refuses
 * to run (it never leaves a table out silently) and test/backup.test.ts fails.
 *
 * schema_migrations is not copied: the backup records the schema version instead, and a
 * restore creates the schema from the migrations up to that version.
 */
export const BACKUP_TABLES: readonly string[] = [
  'settings',
  'accounts',
  'projects',
  'users',
  'access_keys',
  'tokens',
  'keystores',
  'keys',
  'key_materials',
  'grants',
  'key_tags',
  'key_aliases',
  // CSMS secrets (core/secrets/): each sealed under a KMS key above.
  'csms_secrets',
  'csms_versions',
  'csms_stages',
  'csms_tags',
  'audit_events',
  // The audit trail's chain head (src/audit/chain.ts): restored with the records it ends, so
  // `kmsd audit verify` passes on a restored store.
  'audit_chain',
];

/**
 * Tables of the store that are not data: the migrations' own record, the data version of
 * PostgreSQL nodes' memos (a restore starts it afresh), SQLite's internal tables.
 */
export const isBookkeeping = (table: string): boolean => table === 'schema_migrations' || table === 'data_version' || table.startsWith('sqlite_');
