import { CANARY_CONTEXT, type RootKey } from '../core/sealing.ts';
import { schemaVersion } from '../store/backup/backup.ts';
import { naming } from '../store/backup/errors.ts';
import { quoteName, type RawDb } from '../store/backup/raw-db.ts';
import { NODES_SERVING } from '../store/node-lock.ts';
import { MIGRATIONS } from '../store/migrations.ts';
import { DERIVED_ROWS, SEALED_COLUMNS, type SealedColumn } from './sealed-values.ts';

type Row = Record<string, unknown>;

const PAGE = 1000;
/** How often progress is told, in values. */
const PROGRESS_EVERY = 10_000;

export class RotationError extends Error {}

const bytesOf = (column: SealedColumn, value: unknown): Buffer =>
  column.encoding === 'base64' ? Buffer.from(String(value), 'base64') : Buffer.from(value as Uint8Array);
const stored = (column: SealedColumn, sealed: Buffer): unknown => (column.encoding === 'base64' ? sealed.toString('base64') : sealed);

/** The rows of one sealed column, a page at a time in primary-key order (keyset paging: rows may be updated between pages). */
export async function* sealedRows(db: RawDb, column: SealedColumn): AsyncIterable<Row[]> {
  const keys = column.key.map(quoteName);
  const select = `SELECT ${[...keys, quoteName(column.column)].join(', ')} FROM ${quoteName(column.table)}`;
  let after: unknown[] | null = null;
  for (;;) {
    const cursor: string = after === null ? '' : ` AND (${keys.join(', ')}) > (${keys.map((_, i) => `$${i + 1}`).join(', ')})`;
    const rows: Row[] = await db.all(`${select} WHERE (${column.where})${cursor} ORDER BY ${keys.join(', ')} LIMIT ${PAGE}`, after ?? []);
    if (rows.length > 0) yield rows;
    if (rows.length < PAGE) return;
    const last = rows[rows.length - 1];
    after = column.key.map((k) => last[k]);
  }
}

/**
 * Writes a page of resealed values ([sealed, ...key] each): one UPDATE a row on SQLite (a
 * prepared statement in the same process), one UPDATE a page on PostgreSQL (a round trip saved
 * per row, typed from the table's own columns).
 */
async function writerOf(db: RawDb, column: SealedColumn): Promise<(values: unknown[][]) => Promise<void>> {
  const table = quoteName(column.table);
  const keys = column.key.map(quoteName);
  if (db.driver === 'sqlite') {
    const update = `UPDATE ${table} SET ${quoteName(column.column)} = $1 WHERE ${keys.map((k, i) => `${k} = $${i + 2}`).join(' AND ')}`;
    return async (values) => {
      for (const v of values) await db.run(update, v);
    };
  }
  const types = new Map((await db.columns(column.table)).map((c) => [c.name, c.kind === 'blob' ? 'bytea' : c.kind === 'int' ? 'bigint' : 'text']));
  const names = [column.column, ...column.key];
  return async (values) => {
    const tuples = values.map((_, r) => `(${names.map((n, c) => `$${r * names.length + c + 1}::${types.get(n)}`).join(', ')})`);
    await db.run(
      `UPDATE ${table} SET ${quoteName(column.column)} = v.sealed FROM (VALUES ${tuples.join(', ')}) AS v(sealed, ${keys.join(', ')})
         WHERE ${keys.map((k) => `${table}.${k} = v.${k}`).join(' AND ')}`,
      values.flat(),
    );
  };
}

/** Whether the store's check value opens under `key` (false when there is none). */
async function checkOpens(db: RawDb, key: RootKey): Promise<boolean | null> {
  const rows = await db.all('SELECT value FROM settings WHERE name = $1', [CANARY_CONTEXT]);
  if (rows.length === 0) return null;
  try {
    key.open(Buffer.from(String(rows[0].value), 'base64'), CANARY_CONTEXT);
    return true;
  } catch {
    return false;
  }
}

/** How many times the table locks are asked for when PostgreSQL ends the asking for a deadlock. */
const LOCK_ATTEMPTS = 5;

/**
 * The tables the rotation changes, in the order it locks them: the order kmsd's own writers
 * take them in (a key's row first, then its material; the identities' rows; settings last), so
 * that a write of a node that lost its node lock, still running when the rotation wins that lock,
 * waits for the rotation or the rotation for it, never each for the other. LOCK TABLE takes its
 * tables one by one in the order given; in the order of SEALED_COLUMNS (key_materials first) it
 * deadlocked with create-key (keys, then key_materials) in CI. Every table of SEALED_COLUMNS
 * and DERIVED_ROWS is in it (test/rotate-root-key.test.ts checks).
 */
export const ROTATION_LOCK_ORDER = ['keys', 'key_materials', 'access_keys', 'settings'] as const;

/**
 * Begins the rotation's transaction and, on PostgreSQL, locks every table it changes. Another
 * session (psql, a script) that holds a row of one of them and then asks for one locked already
 * can still close a cycle: PostgreSQL then ends one side with 40P01. This side has changed
 * nothing by then, so it rolls back and asks again, keeping the node lock (session level).
 * READ COMMITTED whatever the database's default: under REPEATABLE READ a commit of another
 * session between two of the rotation's statements would fail it with 40001.
 */
async function beginLockingTables(db: RawDb, say: (line: string) => void): Promise<void> {
  if (db.driver !== 'postgres') {
    await db.run('BEGIN IMMEDIATE');
    return;
  }
  const lock = `LOCK TABLE ${ROTATION_LOCK_ORDER.map(quoteName).join(', ')} IN EXCLUSIVE MODE`;
  for (let attempt = 1; ; attempt++) {
    await db.run('BEGIN ISOLATION LEVEL READ COMMITTED');
    try {
      await db.run(lock);
      return;
    } catch (error) {
      await db.run('ROLLBACK').catch(() => {});
      if ((error as { code?: unknown }).code !== '40P01') throw error;
      if (attempt === LOCK_ATTEMPTS) {
        throw new RotationError(`another session kept writing to the tables the rotation changes and deadlocked it ${LOCK_ATTEMPTS} times: nothing was changed; stop every kmsd node and every other writer of this database, then run rotate-root-key again`);
      }
      say(`this rotation and another session each waited for a table the other had locked, and PostgreSQL ended the rotation's side (deadlock detected); nothing was changed; asking for the table locks again (${attempt + 1} of ${LOCK_ATTEMPTS})`);
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

export interface RotationSummary {
  /** true: the store was already sealed under the new key (a rotation that finished before), nothing was done. */
  already: boolean;
  resealed: Record<string, number>;
  dropped: Record<string, number>;
}

/**
 * Reseals every sealed value of the store (SEALED_COLUMNS) from `from` to `to`, and drops what
 * was derived from `from` (DERIVED_ROWS), in ONE transaction: a rotation killed at any point
 * leaves the store wholly under one of the two keys, never a mix; the check value moves in the
 * same transaction, so a kmsd started with the other key refuses to start. 100,000 keys take
 * a few seconds on either driver (BENCHMARKS.md), which is why one transaction is enough.
 *
 * Run it on a stopped store: kmsd sealing new values under the old key meanwhile would leave them
 * unreadable. On PostgreSQL it refuses while a kmsd node serves the database (every serving
 * node holds the node lock shared, src/store/node-lock.ts; this takes it exclusive), and it
 * locks the tables it changes until it commits. A store already under the new key is "nothing
 * to do" even while nodes serve it (a rerun after a rotation that finished).
 */
export async function rotateRootKey(db: RawDb, from: RootKey, to: RootKey, say: (line: string) => void): Promise<RotationSummary> {
  const schema = await schemaVersion(db);
  if (schema !== MIGRATIONS.length) {
    throw new RotationError(`the store is at schema ${schema} and this kmsd at ${MIGRATIONS.length}: start this kmsd on the store once (it brings the schema up to date), stop it, then rotate`);
  }
  if ((await checkOpens(db, to)) === true) return { already: true, resealed: {}, dropped: {} };
  if (!(await db.lockOutNodes())) throw new RotationError(NODES_SERVING('rotate'));
  await beginLockingTables(db, say);
  try {
    if ((await checkOpens(db, to)) === true) {
      await db.run('ROLLBACK');
      return { already: true, resealed: {}, dropped: {} };
    }
    const opens = await checkOpens(db, from);
    if (opens === null) throw new RotationError('the store has no root key check value yet: start kmsd on it once before rotating its root key');
    if (!opens) throw new RotationError('neither the current nor the new root key is the one this store is sealed under: nothing was changed');
    let total = 0;
    for (const c of SEALED_COLUMNS) total += Number((await db.all(`SELECT COUNT(*) AS n FROM ${quoteName(c.table)} WHERE ${c.where}`))[0].n);
    say(`resealing ${total} values under the new root key, in one transaction`);
    const resealed: Record<string, number> = {};
    let done = 0;
    for (const column of SEALED_COLUMNS) {
      resealed[column.what] = 0;
      const write = await writerOf(db, column);
      for await (const rows of sealedRows(db, column)) {
        const values = rows.map((row) => {
          const context = column.context(row);
          let clear: Buffer;
          try {
            clear = from.open(bytesOf(column, row[column.column]), context);
          } catch {
            throw new RotationError(`${column.table} ${column.key.map((k) => row[k]).join('/')} does not open under the current root key: the store is damaged; nothing was changed`);
          }
          const sealed = to.seal(clear, context);
          clear.fill(0);
          return [stored(column, sealed), ...column.key.map((k) => row[k])];
        });
        await naming(() => `table ${column.table}, writing the resealed ${column.what} from ${column.key.map((k) => rows[0][k]).join('/')} on`, () => write(values));
        resealed[column.what] += rows.length;
        if (Math.floor((done + rows.length) / PROGRESS_EVERY) > Math.floor(done / PROGRESS_EVERY)) say(`resealed ${Math.floor((done + rows.length) / PROGRESS_EVERY) * PROGRESS_EVERY} of ${total}`);
        done += rows.length;
      }
    }
    const dropped: Record<string, number> = {};
    for (const d of DERIVED_ROWS) {
      dropped[d.what] = Number((await db.all(`SELECT COUNT(*) AS n FROM ${quoteName(d.table)} WHERE ${d.where}`))[0].n);
      await naming(`table ${d.table}, deleting the ${d.what}`, () => db.run(`DELETE FROM ${quoteName(d.table)} WHERE ${d.where}`));
    }
    say(`resealed ${done} of ${total}; committing`);
    await naming('committing the rotation', () => db.run('COMMIT'));
    return { already: false, resealed, dropped };
  } catch (error) {
    await db.run('ROLLBACK').catch(() => {});
    throw error;
  }
}
