import type { Page } from '../core/model.ts';
import type { Secret, SecretStage, SecretTag, SecretTagFilter, SecretVersion } from '../core/secrets/model.ts';

/**
 * The store's part for CSMS secrets (tx.secrets), run inside the same transactions as the rest
 * of Tx. Tables (migration 8): csms_secrets, csms_versions, csms_stages, csms_tags.
 * `lock` on getSecret/findSecret serialises the writers of that secret until commit, as getKey's.
 */
export interface SecretsTx {
  insertSecret(secret: Secret): Promise<void>;
  updateSecret(secret: Secret): Promise<void>;
  getSecret(secretId: string, options?: { lock?: boolean }): Promise<Secret | null>;
  findSecret(accountId: string, region: string, name: string, options?: { lock?: boolean }): Promise<Secret | null>;
  /**
   * Secrets of the account and region by name, after `after` (a name), at most `limit`; with
   * `liveAt`, only those whose scheduled deletion (if any) is after it (not yet gone).
   */
  listSecrets(accountId: string, region: string, after: string | undefined, limit: number, liveAt?: number): Promise<Secret[]>;
  countSecrets(accountId: string, region: string): Promise<number>;
  /** Deletes the secret with its versions, stages and tags. */
  deleteSecret(secretId: string): Promise<void>;
  /** Secrets whose scheduled deletion came at or before now. */
  secretsDueForDeletion(now: number, limit: number): Promise<string[]>;

  insertVersion(version: SecretVersion): Promise<void>;
  updateVersionExpiry(secretId: string, versionId: string, expireTime: number | null): Promise<void>;
  getVersion(secretId: string, versionId: string): Promise<SecretVersion | null>;
  /** Every version of the secret, oldest first. */
  listVersions(secretId: string): Promise<SecretVersion[]>;
  deleteVersion(secretId: string, versionId: string): Promise<void>;

  /** The secret's stages, by name. */
  stagesOf(secretId: string): Promise<SecretStage[]>;
  /** Puts the stage on a version (replacing where it was). */
  putStage(stage: SecretStage): Promise<void>;
  deleteStage(secretId: string, name: string): Promise<boolean>;

  tagsOfSecret(secretId: string): Promise<SecretTag[]>;
  putSecretTag(secretId: string, tag: SecretTag, now: number): Promise<void>;
  deleteSecretTag(secretId: string, key: string): Promise<boolean>;
  /** Every tag key used on the account's secrets in the region, with its distinct values, sorted. */
  projectSecretTags(accountId: string, region: string, liveAt?: number): Promise<Array<{ key: string; values: string[] }>>;
  /** Secrets of the account and region matching the filter, oldest first. */
  secretsByTags(accountId: string, region: string, filter: SecretTagFilter, offset: number, limit: number): Promise<Page<Secret>>;
}
