import { digestContext } from '../core/import.ts';
import { CANARY_CONTEXT, materialContext, secretKeyContext } from '../core/sealing.ts';
import { PASSWORD_CHECKED } from '../identities.ts';

type Row = Record<string, unknown>;

/**
 * Every value the store keeps sealed under the root key (RootKey.seal), with the context it was
 * sealed for. rotate-root-key reseals exactly these; a new column sealed under the root key
 * adds ONE entry here (grep for `rootKey.seal(` to find them all), or it would stop opening
 * after a rotation (test/rotate-root-key.test.ts checks a store with one of each).
 *
 * Not here, because nothing of them is stored: import tokens (held by the caller; one issued
 * before a rotation no longer opens, see DECISIONS.importTokenAfterRootKeyRotation) and data-key
 * pairs' private keys (returned encrypted under a KMS key, never the root key).
 */
export interface SealedColumn {
  /** What the values are, for the command's summary. */
  what: string;
  table: string;
  /** The table's primary key: rows are visited in its order, a page at a time. */
  key: readonly string[];
  column: string;
  /** Bytes (a blob column) or their base64 (a text column). */
  encoding: 'blob' | 'base64';
  /** Rows that hold a sealed value; others are left alone. */
  where: string;
  context(row: Row): string;
}

export const SEALED_COLUMNS: readonly SealedColumn[] = [
  { what: 'key material versions', table: 'key_materials', key: ['key_id', 'version'], column: 'sealed', encoding: 'blob', where: 'TRUE',
    context: (r) => materialContext(String(r.key_id), Number(r.version)) },
  { what: 'secret keys of access keys', table: 'access_keys', key: ['ak'], column: 'sk_sealed', encoding: 'blob', where: 'TRUE',
    context: (r) => secretKeyContext(String(r.ak)) },
  { what: 'digests of imported material', table: 'keys', key: ['key_id'], column: 'import_digest', encoding: 'blob', where: 'import_digest IS NOT NULL',
    context: (r) => digestContext(String(r.key_id)) },
  // The check value that says which root key the store is sealed under (root-key.ts).
  { what: 'root key check value', table: 'settings', key: ['name'], column: 'value', encoding: 'base64', where: `name = '${CANARY_CONTEXT}'`,
    context: () => CANARY_CONTEXT },
];

/**
 * Rows derived from the root key without being sealed values (MACs under a key derived from
 * it): they mean nothing under a new root key, so the rotation deletes them. Each is a cache
 * that is rebuilt on its own (a remembered password match costs one scrypt at the next start).
 */
export const DERIVED_ROWS: ReadonlyArray<{ what: string; table: string; where: string }> = [
  { what: 'remembered password matches', table: 'settings', where: `substr(name, 1, ${PASSWORD_CHECKED.length}) = '${PASSWORD_CHECKED}'` },
];
