import type { Account, AccessKey, AuditEvent, AuditOutcome, Grant, GranteeType, Key, KeyMaterial, KeyStateValue, Keystore, KeystoreStateValue, Policy, Token, User } from '../core/model.ts';

// Mapping between table rows and core records, shared by both drivers.
type Row = Record<string, unknown>;

const num = (v: unknown): number => Number(v);
const optNum = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const bytes = (v: unknown): Buffer => Buffer.from(v as Uint8Array);
export const optText = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export const KEY_COLUMNS =
  'key_id, account_id, region, alias, description, spec, usage, origin, state, creation_date, ' +
  'scheduled_deletion_date, default_key, rotation_enabled, rotation_interval, last_rotation_time, ' +
  'rotation_due, rotations, material_version, keystore_id, material_expires, import_digest';

export function keyFromRow(r: Row): Key {
  return {
    keyId: String(r.key_id),
    accountId: String(r.account_id),
    region: String(r.region),
    alias: String(r.alias),
    description: String(r.description),
    spec: String(r.spec),
    usage: String(r.usage),
    origin: r.origin === 'external' ? 'external' : 'kms',
    state: String(r.state) as KeyStateValue,
    creationDate: num(r.creation_date),
    scheduledDeletionDate: optNum(r.scheduled_deletion_date),
    defaultKey: num(r.default_key) === 1,
    rotationEnabled: num(r.rotation_enabled) === 1,
    rotationInterval: num(r.rotation_interval),
    lastRotationTime: optNum(r.last_rotation_time),
    rotationDue: optNum(r.rotation_due),
    rotations: num(r.rotations),
    materialVersion: num(r.material_version),
    keystoreId: r.keystore_id === null || r.keystore_id === undefined ? '0' : String(r.keystore_id),
    materialExpires: optNum(r.material_expires),
    importDigest: r.import_digest === null || r.import_digest === undefined ? null : bytes(r.import_digest),
  };
}

/** Values in KEY_COLUMNS order. */
export function keyToParams(k: Key): unknown[] {
  return [
    k.keyId, k.accountId, k.region, k.alias, k.description, k.spec, k.usage, k.origin, k.state,
    k.creationDate, k.scheduledDeletionDate, k.defaultKey ? 1 : 0, k.rotationEnabled ? 1 : 0,
    k.rotationInterval, k.lastRotationTime, k.rotationDue, k.rotations, k.materialVersion,
    k.keystoreId, k.materialExpires, k.importDigest,
  ];
}

export const GRANT_COLUMNS =
  'grant_id, key_id, grantee_principal, grantee_type, operations, issuing_principal, retiring_principal, name, creation_date';

export function grantFromRow(r: Row): Grant {
  return {
    grantId: String(r.grant_id),
    keyId: String(r.key_id),
    granteePrincipal: String(r.grantee_principal),
    granteeType: String(r.grantee_type) as GranteeType,
    operations: JSON.parse(String(r.operations)) as string[],
    issuingPrincipal: String(r.issuing_principal),
    retiringPrincipal: optText(r.retiring_principal),
    name: optText(r.name),
    creationDate: num(r.creation_date),
  };
}

export function grantToParams(g: Grant): unknown[] {
  return [
    g.grantId, g.keyId, g.granteePrincipal, g.granteeType, JSON.stringify(g.operations),
    g.issuingPrincipal, g.retiringPrincipal, g.name, g.creationDate,
  ];
}

export function userFromRow(r: Row): User {
  return {
    id: String(r.id),
    accountId: String(r.account_id),
    name: String(r.name),
    passwordHash: optText(r.password_hash),
    policies: JSON.parse(String(r.policies)) as Policy[],
    disabled: num(r.disabled) === 1,
  };
}

export function accountFromRow(r: Row): Account {
  return { id: String(r.id), name: String(r.name), disabled: num(r.disabled) === 1 };
}

export function accessKeyFromRow(r: Row): AccessKey {
  return { ak: String(r.ak), userId: String(r.user_id), skSealed: bytes(r.sk_sealed), disabled: num(r.disabled) === 1 };
}

export function tokenFromRow(r: Row): Token {
  return {
    hash: String(r.hash),
    userId: String(r.user_id),
    projectId: optText(r.project_id),
    issuedAt: num(r.issued_at),
    expiresAt: num(r.expires_at),
  };
}

export function materialFromRow(r: Row): KeyMaterial {
  return { keyId: String(r.key_id), version: num(r.version), sealed: bytes(r.sealed), createdAt: num(r.created_at) };
}

export const AUDIT_COLUMNS =
  'time, request_id, account_id, user_id, access_key_id, operation, key_id, grant_id, sequence, outcome, status, error_code, ' +
  'claimed_access_key_id, source, count, secret_id, secret_name';

export function auditToParams(e: AuditEvent): unknown[] {
  return [
    e.time, e.requestId, e.accountId, e.userId, e.accessKeyId, e.operation, e.keyId, e.grantId, e.sequence,
    e.outcome, e.status, e.errorCode, e.claimedAccessKeyId, e.source, e.count, e.secretId ?? null, e.secretName ?? null,
  ];
}

export function auditFromRow(r: Row): AuditEvent {
  return {
    seq: num(r.seq),
    time: num(r.time),
    requestId: String(r.request_id),
    accountId: optText(r.account_id),
    userId: optText(r.user_id),
    accessKeyId: optText(r.access_key_id),
    claimedAccessKeyId: optText(r.claimed_access_key_id),
    source: optText(r.source),
    operation: String(r.operation),
    keyId: optText(r.key_id),
    grantId: optText(r.grant_id),
    sequence: optText(r.sequence),
    outcome: String(r.outcome) as AuditOutcome,
    status: num(r.status),
    errorCode: optText(r.error_code),
    count: num(r.count),
    // Only records that name a secret carry these (the KMS records stay as they were).
    ...(r.secret_id !== null && r.secret_id !== undefined && { secretId: String(r.secret_id) }),
    ...(r.secret_name !== null && r.secret_name !== undefined && { secretName: String(r.secret_name) }),
  };
}

export const KEYSTORE_COLUMNS = 'keystore_id, account_id, region, alias, keystore_type, hsm_cluster_id, cluster_id, state, create_time';

export function keystoreFromRow(r: Row): Keystore {
  return {
    keystoreId: String(r.keystore_id),
    accountId: String(r.account_id),
    region: String(r.region),
    alias: String(r.alias),
    type: String(r.keystore_type),
    hsmClusterId: String(r.hsm_cluster_id),
    clusterId: String(r.cluster_id),
    state: String(r.state) as KeystoreStateValue,
    createTime: num(r.create_time),
  };
}

/** Values in KEYSTORE_COLUMNS order. */
export function keystoreToParams(k: Keystore): unknown[] {
  return [k.keystoreId, k.accountId, k.region, k.alias, k.type, k.hsmClusterId, k.clusterId, k.state, k.createTime];
}

/** Rows of (tag_key, tag_value), sorted by both, as [{key, values}] (a project's tags, keys' or secrets'). */
export function groupTagValues(rows: Row[]): Array<{ key: string; values: string[] }> {
  const tags: Array<{ key: string; values: string[] }> = [];
  for (const r of rows) {
    const key = String(r.tag_key);
    if (tags.at(-1)?.key !== key) tags.push({ key, values: [] });
    (tags.at(-1) as { values: string[] }).values.push(String(r.tag_value));
  }
  return tags;
}

/** SQL placeholders $from, $from+1, … for n parameters. */
export const placeholders = (n: number, from = 1): string => Array.from({ length: n }, (_, i) => `$${i + from}`).join(', ');

/**
 * The conditions that a row of `owner` carries every tag asked for (each with one of the values
 * asked for, when any are): EXISTS subqueries on its tag table, appended to `where`, their
 * parameters to `params`. Keys (key_tags) and secrets (csms_tags) are filtered alike.
 */
export function tagConditions(
  tags: ReadonlyArray<{ key: string; values: readonly string[] }>, tagTable: string, owner: string, idColumn: string,
  params: unknown[], where: string[],
): void {
  for (const tag of tags) {
    params.push(tag.key);
    let cond = `t.tag_key = $${params.length}`;
    if (tag.values.length > 0) {
      const first = params.length + 1;
      params.push(...tag.values);
      cond += ` AND t.tag_value IN (${placeholders(tag.values.length, first)})`;
    }
    where.push(`EXISTS (SELECT 1 FROM ${tagTable} t WHERE t.${idColumn} = ${owner}.${idColumn} AND ${cond})`);
  }
}

