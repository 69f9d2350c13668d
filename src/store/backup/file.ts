import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip, createGzip, type Gzip } from 'node:zlib';
import type { Column, ColumnKind } from './raw-db.ts';

/**
 * The backup file: gzip of JSON lines, so that a million grants stream through in constant
 * memory and the file reads the same whatever store wrote it.
 *
 *   {"kmsd_backup":1,"kmsd_version":"0.1.0","schema":7,"source":"sqlite","created":"…"}
 *   {"table":"grants","columns":[["grant_id","text"],…]}      one per table, in BACKUP_TABLES order
 *   ["0f3c…","…",1733000000000,…]                             its rows, values in column order
 *   {"rows":1000000}                                           the table's row count
 *   {"end":13,"sha256":"…"}                                    tables, and SHA-256 of every line above
 *
 * Blobs (sealed values) are base64; integers are JSON numbers; nothing is ever in the clear
 * that the store holds sealed. The end record makes a file cut short or corrupted refuse to
 * restore instead of restoring part of a store. It is a checksum, not a signature: whoever can
 * write the file can recompute it (DECISIONS.backupDigestIsNoSignature).
 */
export const FORMAT = 1;

export class BackupError extends Error {}

export interface BackupHeader {
  kmsd_backup: number;
  kmsd_version: string;
  schema: number;
  source: 'sqlite' | 'postgres';
  created: string;
}

export function encodeValue(kind: ColumnKind, value: unknown, where: string): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'int': {
      const n = Number(value);
      if (!Number.isSafeInteger(n)) throw new BackupError(`${where} holds ${String(value)}, not a whole number a backup can carry`);
      return n;
    }
    case 'text':
      return String(value);
    case 'blob':
      if (!(value instanceof Uint8Array)) throw new BackupError(`${where} holds a ${typeof value} where bytes were expected`);
      return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  }
}

export function decodeValue(kind: ColumnKind, value: unknown, where: string): unknown {
  if (value === null) return null;
  if (kind === 'int' && Number.isSafeInteger(value)) return value;
  if (kind === 'text' && typeof value === 'string') return value;
  if (kind === 'blob' && typeof value === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(value)) return Buffer.from(value, 'base64');
  throw new BackupError(`the backup file is damaged: ${where} holds ${JSON.stringify(value)?.slice(0, 40)} where ${kind} was expected`);
}

/** Writes the lines of one backup: gzip on the way out, SHA-256 over what goes in. */
export class BackupWriter {
  private readonly gzip: Gzip;
  private readonly file: WriteStream;
  private readonly hash: Hash = createHash('sha256');
  private readonly done: Promise<void>;
  private tables = 0;
  constructor(path: string) {
    // 0600 and a new file: a backup holds sealed key material, password hashes and the trail.
    this.file = createWriteStream(path, { mode: 0o600, flags: 'wx' });
    this.gzip = createGzip({ level: 3 });
    this.gzip.pipe(this.file);
    this.done = new Promise((resolve, reject) => {
      this.file.on('close', resolve);
      this.file.on('error', reject);
      this.gzip.on('error', reject);
    });
    this.done.catch(() => {});
  }
  private async line(value: unknown): Promise<void> {
    const text = `${JSON.stringify(value)}\n`;
    this.hash.update(text);
    // Waits for room; a file that failed (no directory, a full disk) ends the wait with its error.
    if (!this.gzip.write(text)) await Promise.race([new Promise((resolve) => this.gzip.once('drain', resolve)), this.done]);
  }
  header(header: BackupHeader): Promise<void> {
    return this.line(header);
  }
  table(name: string, columns: readonly Column[]): Promise<void> {
    this.tables++;
    return this.line({ table: name, columns: columns.map((c) => [c.name, c.kind]) });
  }
  row(values: unknown[]): Promise<void> {
    return this.line(values);
  }
  tableEnd(rows: number): Promise<void> {
    return this.line({ rows });
  }
  /** The end record, then the file is flushed and closed (fsync is the caller's, on the path). */
  async finish(): Promise<void> {
    const digest = this.hash.copy().digest('hex');
    await this.line({ end: this.tables, sha256: digest });
    this.gzip.end();
    await this.done;
  }
  async abort(): Promise<void> {
    this.gzip.destroy();
    this.file.destroy();
    await this.done.catch(() => {});
  }
}

export type BackupItem =
  | { type: 'table'; name: string; columns: Column[] }
  | { type: 'row'; values: unknown[] }
  | { type: 'tableEnd'; rows: number };

const KINDS = new Set(['int', 'text', 'blob']);
const isColumns = (v: unknown): v is Array<[string, ColumnKind]> =>
  Array.isArray(v) && v.every((c) => Array.isArray(c) && c.length === 2 && typeof c[0] === 'string' && KINDS.has(c[1]));

/**
 * Reads a backup file: its header at once, then its items. The iteration throws BackupError
 * when the file is damaged, cut short or changed, and ends normally only once the end record's
 * digest checked out: a restore that commits after the loop commits a whole, unchanged file.
 */
export async function openBackup(path: string): Promise<{ header: BackupHeader; items: AsyncIterable<BackupItem> }> {
  const gunzip = createGunzip();
  const source = createReadStream(path);
  const failure = new Promise<never>((_, reject) => {
    source.on('error', (e) => reject(new BackupError(`cannot read ${path}: ${e.message}`)));
    gunzip.on('error', () => reject(new BackupError(`${path} is not a kmsd backup, or it is damaged (not gzip data)`)));
  });
  failure.catch(() => {});
  const lines = createInterface({ input: source.pipe(gunzip), crlfDelay: Infinity })[Symbol.asyncIterator]();
  const hash = createHash('sha256');
  // The digest of every line before the current one (what the end record states).
  let digestBefore = '';
  const next = async (): Promise<unknown> => {
    const { value, done } = await Promise.race([lines.next(), failure]);
    if (done) throw new BackupError(`${path} ends before its end record: the backup was cut short`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new BackupError(`${path} is damaged (a line is not JSON)`);
    }
    if (parsed !== null && typeof parsed === 'object' && 'end' in parsed) digestBefore = hash.copy().digest('hex');
    hash.update(`${value}\n`);
    return parsed;
  };
  const first = (await next()) as Partial<BackupHeader> | null;
  if (first === null || typeof first !== 'object' || first.kmsd_backup === undefined) throw new BackupError(`${path} is not a kmsd backup`);
  if (first.kmsd_backup !== FORMAT) throw new BackupError(`${path} is a kmsd backup of format ${String(first.kmsd_backup)}; this kmsd reads format ${FORMAT}`);
  if (!Number.isSafeInteger(first.schema) || typeof first.kmsd_version !== 'string') throw new BackupError(`${path} is damaged (its header)`);
  async function* items(): AsyncIterable<BackupItem> {
    let tables = 0;
    for (;;) {
      const item = (await next()) as Record<string, unknown> | unknown[];
      if (Array.isArray(item)) {
        yield { type: 'row', values: item };
      } else if (item !== null && typeof item === 'object' && typeof item.table === 'string' && isColumns(item.columns)) {
        tables++;
        yield { type: 'table', name: item.table, columns: item.columns.map(([name, kind]) => ({ name, kind })) };
      } else if (item !== null && typeof item === 'object' && Number.isSafeInteger(item.rows)) {
        yield { type: 'tableEnd', rows: item.rows as number };
      } else if (item !== null && typeof item === 'object' && 'end' in item) {
        if (item.end !== tables || item.sha256 !== digestBefore) throw new BackupError(`${path} is damaged or was changed: its end record does not match its contents`);
        const extra = await Promise.race([lines.next(), failure]);
        if (!extra.done) throw new BackupError(`${path} has data after its end record`);
        return;
      } else {
        throw new BackupError(`${path} is damaged (an unknown record)`);
      }
    }
  }
  return { header: first as BackupHeader, items: items() };
}
