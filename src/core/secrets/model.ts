// The records of CSMS (Cloud Secret Management Service) secrets, as the core sees them.
// Times are ms since the epoch (DECISIONS.csmsTimestamps). No HTTP, no SQL.

export const SecretState = { enabled: 'ENABLED', pendingDelete: 'PENDING_DELETE' } as const;
export type SecretStateValue = (typeof SecretState)[keyof typeof SecretState];

/** The two stages CSMS moves itself; neither can be deleted (CSMS.0105). */
export const SYSCURRENT = 'SYSCURRENT';
export const SYSPREVIOUS = 'SYSPREVIOUS';
export const SYSTEM_STAGES: ReadonlySet<string> = new Set([SYSCURRENT, SYSPREVIOUS]);

export interface Secret {
  secretId: string;
  accountId: string;
  /** The project's region: secrets live per account and project, like keys. */
  region: string;
  name: string;
  /** The KMS key new versions are sealed under. */
  kmsKeyId: string;
  description: string;
  secretType: string;
  state: SecretStateValue;
  createTime: number;
  updateTime: number;
  /** When a scheduled deletion becomes final; null unless PENDING_DELETE. */
  scheduledDeleteTime: number | null;
  /** The number of the last version made (v1, v2, ...): version ids are never reused. */
  versionCount: number;
}

export type ValueKind = 'string' | 'binary';

export interface SecretVersion {
  secretId: string;
  /** v1, v2, ... */
  versionId: string;
  /** The KMS key this version's value is sealed under (a later kms_key_id change leaves it). */
  kmsKeyId: string;
  kind: ValueKind;
  /** The value in a KMS envelope of kind secret (core/envelope.ts); never the clear value. */
  sealed: Buffer;
  createTime: number;
  expireTime: number | null;
}

export interface SecretStage {
  secretId: string;
  name: string;
  versionId: string;
  updateTime: number;
}

export interface SecretTag {
  key: string;
  value: string;
}

/** Filter of the secrets' resource_instances/action: every tag key with one of its values; a part of the name. */
export interface SecretTagFilter {
  tags: Array<{ key: string; values: string[] }>;
  /** Only secrets whose scheduled deletion (if any) is after this time (ms). */
  liveAt?: number;
  name?: string;
}
