import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';

/**
 * What a sealed store remembers of its shares (the `seal` setting, written by `kmsd seal
 * init`): how many were made, how many unseal it, and an HMAC-SHA256 of each under a random
 * salt. A share is 32 bytes drawn uniformly at random (with its x coordinate), so its HMAC
 * tells nothing of it; it lets a node refuse a mistyped share or another store's at once,
 * instead of after the threshold is reached. The root key itself is checked against the
 * store's canary (root-key.ts) once reconstructed.
 */
export const SEAL_SETTING = 'seal';

export interface SealSpec {
  version: 1;
  shares: number;
  threshold: number;
  /** base64 */
  salt: string;
  /** hex HMAC of each share, in share order */
  digests: string[];
}

const digest = (salt: string, share: Buffer): Buffer => createHmac('sha256', Buffer.from(salt, 'base64')).update(share).digest();

export function makeSealSpec(shares: readonly Buffer[], threshold: number): SealSpec {
  const salt = randomBytes(32).toString('base64');
  return { version: 1, shares: shares.length, threshold, salt, digests: shares.map((s) => digest(salt, s).toString('hex')) };
}

/** Which share (0-based) this is, or -1 when it is none of the store's. Compared in constant time. */
export function shareNumber(spec: SealSpec, share: Buffer): number {
  const mine = digest(spec.salt, share);
  let found = -1;
  spec.digests.forEach((d, i) => {
    if (timingSafeEqual(Buffer.from(d, 'hex'), mine)) found = i;
  });
  return found;
}

export function parseSealSpec(text: string): SealSpec {
  const spec = JSON.parse(text) as SealSpec;
  if (spec?.version !== 1 || !Number.isInteger(spec.threshold) || !Array.isArray(spec.digests) || spec.digests.length !== spec.shares) {
    throw new Error('the store\'s seal setting is not one this kmsd understands');
  }
  return spec;
}

/**
 * The seal of the configured store, read before anything is written (a start checks it
 * before it loads or generates a root key): null for a store that is not sealed or does not
 * exist yet. SQLite is read as an immutable file (no lock, no -wal/-shm file is made).
 */
export async function readSeal(config: Config): Promise<SealSpec | null> {
  let text: string | null;
  if (config.store === 'sqlite') {
    const path = join(config.dataDir, 'kmsd.db');
    if (!existsSync(path)) return null;
    const { DatabaseSync } = await import('node:sqlite');
    const db = new DatabaseSync(`file:${encodeURI(path)}?immutable=1`, { readOnly: true });
    try {
      const table = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'settings'`).get();
      text = table ? ((db.prepare('SELECT value FROM settings WHERE name = ?').get(SEAL_SETTING)?.value as string | undefined) ?? null) : null;
    } finally {
      db.close();
    }
  } else {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: config.store, connectionTimeoutMillis: 5000 });
    client.on('error', () => {});
    await client.connect();
    try {
      const table = await client.query(`SELECT to_regclass('settings') IS NOT NULL AS present`);
      text = table.rows[0]?.present ? ((await client.query('SELECT value FROM settings WHERE name = $1', [SEAL_SETTING])).rows[0]?.value ?? null) : null;
    } finally {
      await client.end().catch(() => {});
    }
  }
  return text === null ? null : parseSealSpec(text);
}
