// Plain data the core rules work on. No HTTP, no SQL.

/** key_state values of the wire contract (reference §4.1). */
export const KeyState = {
  pendingActivation: '1',
  enabled: '2',
  disabled: '3',
  pendingDeletion: '4',
  pendingImport: '5',
} as const;
export type KeyStateValue = (typeof KeyState)[keyof typeof KeyState];

export interface Key {
  keyId: string;
  accountId: string;
  region: string;
  alias: string;
  description: string;
  spec: string;
  usage: string;
  origin: 'kms' | 'external';
  state: KeyStateValue;
  creationDate: number;
  /** ms epoch when a pending deletion becomes final; null unless state is pending deletion. */
  scheduledDeletionDate: number | null;
  defaultKey: boolean;
  rotationEnabled: boolean;
  rotationInterval: number;
  lastRotationTime: number | null;
  /** ms epoch of the next automatic rotation; null unless rotation is enabled. */
  rotationDue: number | null;
  rotations: number;
  /** Version of the material new encryptions use (0 when the key has none, e.g. pending import). */
  materialVersion: number;
  /** The key store the key lives in: '0' for the default KMS key store. */
  keystoreId: string;
  /** ms epoch when imported material expires (import-key-material expiration_time); null: never. */
  materialExpires: number | null;
  /**
   * SHA-256 of the material first imported, sealed under the root key: a re-import must bring
   * the same material (KMS.2606). null until material is imported.
   */
  importDigest: Buffer | null;
}

export interface KeyMaterial {
  keyId: string;
  version: number;
  /** The material sealed under the root key (see core/sealing.ts); never the clear bytes. */
  sealed: Buffer;
  createdAt: number;
}

/** A tag on a key (reference §7): key unique per key, value possibly "". */
export interface Tag {
  key: string;
  value: string;
}

/** Resource-instance filter: every tag key must be present with one of its values (any value when none). */
export interface TagFilter {
  tags: Array<{ key: string; values: string[] }>;
  /** Case-insensitive part of the key's name (key_alias), from matches[resource_name]. */
  name?: string;
}

/** An alias of the aliases API (reference §2.6): unique per account and region, bound to one key. */
export interface KeyAlias {
  alias: string;
  keyId: string;
  accountId: string;
  region: string;
  createTime: number;
  updateTime: number;
}

export type GranteeType = 'user' | 'domain';

export interface Grant {
  grantId: string;
  keyId: string;
  granteePrincipal: string;
  granteeType: GranteeType;
  operations: string[];
  issuingPrincipal: string;
  retiringPrincipal: string | null;
  name: string | null;
  creationDate: number;
}

/**
 * Identities (accounts, users, access keys) are never deleted: one that the identities file
 * no longer lists is disabled, keeps its id, and comes back when the file lists it again.
 */
export interface Account {
  id: string;
  name: string;
  disabled: boolean;
}

export interface Project {
  id: string;
  accountId: string;
  name: string;
}

export interface User {
  id: string;
  accountId: string;
  name: string;
  /** scrypt hash (see auth/passwords.ts); null when the user has no password. */
  passwordHash: string | null;
  policies: Policy[];
  disabled: boolean;
}

export interface AccessKey {
  ak: string;
  userId: string;
  /** The secret key sealed under the root key. */
  skSealed: Buffer;
  disabled: boolean;
}

export interface Token {
  /** SHA-256 of the token string: the token itself is never stored. */
  hash: string;
  userId: string;
  /** null for a domain-scoped token. */
  projectId: string | null;
  issuedAt: number;
  expiresAt: number;
}

/**
 * One entry of a user's policies: an action pattern or system role name ("kms:cmk:*",
 * "KMS Administrator"), or a Huawei IAM policy document ({"Version": "5.0", "Statement": [...]},
 * checked by auth/policy.ts when the identities file is read).
 */
export type Policy = string | { Version: string; Statement: unknown[] };

/**
 * What an identity policy is evaluated against: the key an operation acts on (its URN is
 * kms:<region>:<account>:KeyId:<key id>) with the attributes the condition keys read.
 * `keyId` is null for create-key (the key does not exist yet).
 */
export interface PolicyResource {
  keyId: string | null;
  accountId: string;
  region: string;
  spec: string;
  usage: string;
  origin: string;
  /** The key's tags (g:ResourceTag/<tag-key>); {} when no policy of the caller reads them. */
  tags: Record<string, string>;
  /** A CSMS secret instead of a key: its URN is csms:<region>:<account>:secret:<name>. */
  secretName?: string;
}

/** Request-level condition values (kms:GrantOperations, kms:GranteePrincipal, ...). */
export type RequestValues = Readonly<Record<string, string | readonly string[]>>;

/**
 * Who is calling, as the core sees it. The caller's own IAM policies are asked per operation
 * and per key (`resource` null for operations that name no key: list-keys, gen-random, ...);
 * grants are an authority of their own and are checked by the core rules (core/access.ts).
 */
export interface Caller {
  userId: string;
  accountId: string;
  region: string;
  /** Do the caller's policies allow the operation being served on this key? */
  allows(resource: PolicyResource | null, request?: RequestValues): boolean;
  /** Does a Deny statement of the caller's policies match it (a Deny stops grant use too)? */
  denies(resource: PolicyResource | null, request?: RequestValues): boolean;
  /** Whether evaluation reads the key's tags (some statement tests g:ResourceTag/...). */
  readonly readsTags: boolean;
  /** The same caller asking for other actions (an operation whose action depends on its input). */
  forActions(actions: readonly string[]): Caller;
  /**
   * Told the CSMS secret a request acts on once it is found (before any access check), so the
   * request's audit record names it by id even when it is refused (the edge's draft).
   */
  noteSecret?(secret: { secretId: string; name: string }): void;
}

export interface Page<T> {
  items: T[];
  total: number;
}

/** How a recorded request ended: done, refused for who the caller is, or refused for what it asked. */
export type AuditOutcome = 'allowed' | 'denied' | 'failed';

/**
 * One line of the audit trail. It names who did what to which key and grant and how it
 * ended; it never holds plaintext, key material, data keys, tokens or signatures.
 */
export interface AuditEvent {
  /** Assigned by the store, increasing. */
  seq?: number;
  time: number;
  requestId: string;
  accountId: string | null;
  userId: string | null;
  /** The access key that signed the request, once its signature checked out. */
  accessKeyId: string | null;
  /** The access key a refused request claimed (its signature never checked out): not proof of anything. */
  claimedAccessKeyId: string | null;
  /** The address the request came from. */
  source: string | null;
  operation: string;
  keyId: string | null;
  grantId: string | null;
  sequence: string | null;
  outcome: AuditOutcome;
  status: number;
  errorCode: string | null;
  /** How many requests the record stands for: 1, or more for a summary of refusals past the rate. */
  count: number;
  /** The CSMS secret the request acted on (its id and name), when it named one. */
  secretId?: string | null;
  secretName?: string | null;
}

/** Which events to list; every given condition must hold. `principal` matches user or account. */
export interface AuditFilter {
  keyId?: string;
  principal?: string;
  since?: number;
  /** Events at or before this time (ms). */
  until?: number;
  /** The operation recorded (create-key, retire-grant, ...). */
  operation?: string;
  /** Events that ended one of these ways. */
  outcomes?: AuditOutcome[];
  /**
   * What one account may see: its own callers' events and events about its keys (a use of
   * one of its keys from another account is recorded in both, as cloud trails do).
   */
  visibleTo?: string;
  /** Events with seq < before. */
  before?: number;
  /** Newest first (default: oldest first). */
  newestFirst?: boolean;
  /**
   * The service of the event: CSMS for events naming a secret or of a CSMS operation (a
   * refused create-secret may name none), KMS for the others.
   */
  service?: { name: 'KMS' | 'CSMS'; csmsOperations: readonly string[] };
}

/** keystore_state values (decision: the key_state strings, "2" enabled and "3" disabled). */
export const KeystoreState = { enabled: '2', disabled: '3' } as const;
export type KeystoreStateValue = (typeof KeystoreState)[keyof typeof KeystoreState];

/** A dedicated key store (emulated: no HSM behind it). */
export interface Keystore {
  keystoreId: string;
  accountId: string;
  region: string;
  alias: string;
  /** DEFAULT, DHSM or CDMS. */
  type: string;
  hsmClusterId: string;
  clusterId: string;
  state: KeystoreStateValue;
  createTime: number;
}
