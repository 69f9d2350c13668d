import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

/** The tables that hold what kmsd keeps; the audit trail is checked on its own. */
export const DOMAIN_TABLES = ['settings', 'accounts', 'projects', 'users', 'access_keys', 'tokens', 'keys', 'key_materials', 'grants'];

/**
 * A digest of every row of the domain tables of a SQLite store, read through its own
 * connection (committed data only): equal digests mean nothing was changed.
 */
export function storeDigest(dataDir: string): string {
  const db = new DatabaseSync(join(dataDir, 'kmsd.db'), { readOnly: true });
  try {
    const hash = createHash('sha256');
    for (const table of DOMAIN_TABLES) {
      const rows = db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).all();
      hash.update(`${table}:${JSON.stringify(rows, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))}\n`);
    }
    return hash.digest('hex');
  } finally {
    db.close();
  }
}

/** Rows of the audit trail so far. */
export function auditCount(dataDir: string): number {
  const db = new DatabaseSync(join(dataDir, 'kmsd.db'), { readOnly: true });
  try {
    return Number((db.prepare('SELECT COUNT(*) AS n FROM audit_events').get() as { n: number }).n);
  } finally {
    db.close();
  }
}
