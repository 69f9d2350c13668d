import { kms } from '../errors.ts';
import { DECISIONS } from '../decisions.ts';
import type { Caller } from '../model.ts';
import type { RootKey } from '../sealing.ts';
import type { Tx } from '../../store/store.ts';
import { loadSecret, requireNotPendingDelete } from './access.ts';
import { SYSCURRENT, SYSPREVIOUS, SYSTEM_STAGES, type Secret, type SecretStage, type SecretVersion, type ValueKind } from './model.ts';
import { named } from './secrets.ts';
import { openValue, sealValue } from './values.ts';

// Versions (v1, v2, ...) and the stages that mark them. A version is made with the stages it
// should carry (SYSCURRENT when none is named); a stage marks one version, so putting it on a
// version takes it off the other; when SYSCURRENT moves, the version it leaves becomes
// SYSPREVIOUS. Versions without stages are deprecated: past 20 versions the oldest of them goes.

/** As secret names: not only periods (a stage's path segment must reach it). */
export const STAGE_NAME = /^(?![.]+$)[a-zA-Z0-9._-]{1,64}$/;
export const MAX_VERSIONS = 20;
/** Stages a secret may carry besides SYSCURRENT and SYSPREVIOUS (CSMS.0203 past that). */
export const MAX_CUSTOM_STAGES = 12;
export const LATEST = 'latest';

export interface VersionView {
  version: SecretVersion;
  stages: string[];
}

/** The stages marking each version of the secret. */
export function stagesByVersion(stages: readonly SecretStage[]): Map<string, string[]> {
  const byVersion = new Map<string, string[]>();
  for (const s of stages) byVersion.set(s.versionId, [...(byVersion.get(s.versionId) ?? []), s.name]);
  return byVersion;
}

/**
 * Puts stages on a version: each leaves the version it marked; SYSCURRENT's old version gets
 * SYSPREVIOUS. At most MAX_CUSTOM_STAGES custom stages on the secret (CSMS.0203).
 */
export async function markVersion(tx: Tx, secret: Secret, versionId: string, names: readonly string[], now: number): Promise<void> {
  const stages = await tx.secrets.stagesOf(secret.secretId);
  const custom = new Set(stages.filter((s) => !SYSTEM_STAGES.has(s.name)).map((s) => s.name));
  for (const name of names) if (!SYSTEM_STAGES.has(name)) custom.add(name);
  if (custom.size > MAX_CUSTOM_STAGES) throw kms('CSMS.0203');
  const current = stages.find((s) => s.name === SYSCURRENT);
  if (names.includes(SYSCURRENT) && current && current.versionId !== versionId && !names.includes(SYSPREVIOUS)) {
    await tx.secrets.putStage({ secretId: secret.secretId, name: SYSPREVIOUS, versionId: current.versionId, updateTime: now });
  }
  for (const name of names) await tx.secrets.putStage({ secretId: secret.secretId, name, versionId, updateTime: now });
}

export function checkStageNames(names: unknown): string[] {
  if (!Array.isArray(names) || names.length === 0 || names.length > MAX_CUSTOM_STAGES + SYSTEM_STAGES.size) throw kms('CSMS.0002');
  for (const n of names) if (typeof n !== 'string' || !STAGE_NAME.test(n)) throw kms('CSMS.0002');
  return [...new Set(names as string[])];
}

export interface NewVersion {
  value: { kind: ValueKind; bytes: Buffer };
  stages?: string[];
  expireTime?: number;
}

export async function createVersion(tx: Tx, caller: Caller, rootKey: RootKey, name: string, input: NewVersion, now: number) {
  const secret = await loadSecret(tx, caller, name, now, { lock: true });
  requireNotPendingDelete(secret);
  const versionId = `v${secret.versionCount + 1}`;
  const sealed = await sealValue(tx, caller, rootKey, secret.kmsKeyId, { secretId: secret.secretId, versionId }, input.value, now);
  const versions = await tx.secrets.listVersions(secret.secretId);
  if (versions.length >= MAX_VERSIONS) {
    const marked = new Set((await tx.secrets.stagesOf(secret.secretId)).map((s) => s.versionId));
    const deprecated = versions.find((v) => !marked.has(v.versionId));
    if (!deprecated) throw kms(DECISIONS.tooManyVersions);
    await tx.secrets.deleteVersion(secret.secretId, deprecated.versionId);
  }
  // Clients pick the newest version by create_time (the Terraform provider sorts on it): a
  // version made in the same millisecond as the one before still sorts after it.
  const createTime = Math.max(now, (versions.at(-1)?.createTime ?? 0) + 1);
  const version: SecretVersion = { secretId: secret.secretId, versionId, ...sealed, createTime, expireTime: input.expireTime ?? null };
  await tx.secrets.insertVersion(version);
  const stages = input.stages ?? [SYSCURRENT];
  await markVersion(tx, secret, versionId, stages, now);
  const next: Secret = { ...secret, versionCount: secret.versionCount + 1, updateTime: now };
  await tx.secrets.updateSecret(next);
  return named(next, { version, stages: [...stages].sort() });
}

/** The version a version_id names: vN, or `latest`, the version SYSCURRENT marks (DECISIONS.csmsLatest). */
async function findVersion(tx: Tx, secret: Secret, versionId: string): Promise<SecretVersion> {
  let id = versionId;
  if (versionId === LATEST) {
    const current = (await tx.secrets.stagesOf(secret.secretId)).find((s) => s.name === SYSCURRENT);
    if (!current) throw kms(DECISIONS.noSuchSecret);
    id = current.versionId;
  }
  const version = await tx.secrets.getVersion(secret.secretId, id);
  if (!version) throw kms(DECISIONS.noSuchSecret);
  return version;
}

/** A version with its value (CSMS.0103 while the secret is pending deletion: metadata only then). */
export async function showVersion(tx: Tx, caller: Caller, rootKey: RootKey, name: string, versionId: string, now: number) {
  const secret = await loadSecret(tx, caller, name, now);
  requireNotPendingDelete(secret);
  const version = await findVersion(tx, secret, versionId);
  const stages = stagesByVersion(await tx.secrets.stagesOf(secret.secretId)).get(version.versionId) ?? [];
  const value = await openValue(tx, caller, rootKey, version, now);
  return { secret, version, stages, value };
}

/** Versions' metadata, oldest first, after `marker` (a version id), at most `limit`. */
export async function listVersions(tx: Tx, caller: Caller, name: string, marker: string | undefined, limit: number, now: number) {
  const secret = await loadSecret(tx, caller, name, now);
  const all = await tx.secrets.listVersions(secret.secretId);
  const byVersion = stagesByVersion(await tx.secrets.stagesOf(secret.secretId));
  const from = marker === undefined ? 0 : all.findIndex((v) => v.versionId === marker) + 1;
  if (marker !== undefined && from === 0) throw kms('CSMS.0002');
  const page = all.slice(from, from + limit);
  return {
    secret,
    versions: page.map((version) => ({ version, stages: byVersion.get(version.versionId) ?? [] })),
    nextMarker: from + limit < all.length && page.length > 0 ? page[page.length - 1].versionId : null,
    previousMarker: from > 0 ? all[from - 1].versionId : null,
  };
}

/** Sets (or, with null, clears) a version's expiry time. */
export async function updateVersion(tx: Tx, caller: Caller, name: string, versionId: string, expireTime: number | null, now: number) {
  const secret = await loadSecret(tx, caller, name, now, { lock: true });
  requireNotPendingDelete(secret);
  const version = await findVersion(tx, secret, versionId);
  await tx.secrets.updateVersionExpiry(secret.secretId, version.versionId, expireTime);
  const stages = stagesByVersion(await tx.secrets.stagesOf(secret.secretId)).get(version.versionId) ?? [];
  return named(secret, { version: { ...version, expireTime }, stages });
}
