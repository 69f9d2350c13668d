import { randomUUID } from 'node:crypto';
import { kms } from '../errors.ts';
import { DECISIONS } from '../decisions.ts';
import type { Caller, RequestValues } from '../model.ts';
import type { RootKey } from '../sealing.ts';
import type { Tx } from '../../store/store.ts';
import { isDeletionDue, loadSecret, requireCsmsAction, requireNotPendingDelete, secretResource } from './access.ts';
import { SYSCURRENT, SecretState, type Secret, type SecretTag, type SecretVersion } from './model.ts';
import { keyForSecret, sealValue, valueOf } from './values.ts';

// The secrets' lifecycle: create (with its first version v1, SYSCURRENT), show, list by name,
// update metadata, delete at once, schedule deletion (7-30 days) and restore, housekeeping.

/** What a write on a secret returns: the secret, and its id and name for the audit record. */
export const named = <T extends object>(secret: Secret, rest: T): T & { secret: Secret; secretId: string; secretName: string } =>
  ({ ...rest, secret, secretId: secret.secretId, secretName: secret.name });

export const SECRET_NAME = /^(?![.]+$)[a-zA-Z0-9._-]{1,64}$/;
export const MAX_DESCRIPTION_BYTES = 2048;

export interface NewSecret {
  name: string;
  kmsKeyId?: string;
  description?: string;
  secretString?: string;
  secretBinary?: string;
  secretType?: string;
  tags?: SecretTag[];
}

function checkDescription(description: string | undefined): string {
  if (description !== undefined && Buffer.byteLength(description, 'utf8') > MAX_DESCRIPTION_BYTES) throw kms('CSMS.0002');
  return description ?? '';
}

export async function createSecret(tx: Tx, caller: Caller, rootKey: RootKey, input: NewSecret, request: RequestValues, now: number, limit: number) {
  const candidate = { secretId: '', name: input.name, accountId: caller.accountId, region: caller.region };
  if (!caller.allows(await secretResource(tx, caller, candidate), request)) throw kms(DECISIONS.csmsCallerMayNot);
  if (input.secretType !== undefined && input.secretType !== 'COMMON') throw kms('CSMS.0002');
  const description = checkDescription(input.description);
  const value = valueOf({ secret_string: input.secretString, secret_binary: input.secretBinary });
  const existing = await tx.secrets.findSecret(caller.accountId, caller.region, input.name, { lock: true });
  if (existing && !isDeletionDue(existing, now)) throw kms(DECISIONS.secretNameTaken);
  if (existing) await tx.secrets.deleteSecret(existing.secretId);
  if ((await tx.secrets.countSecrets(caller.accountId, caller.region)) >= limit) throw kms('CSMS.0202');
  const key = await keyForSecret(tx, caller, rootKey, input.kmsKeyId, now);
  const secret: Secret = {
    secretId: randomUUID(), accountId: caller.accountId, region: caller.region, name: input.name, kmsKeyId: key.keyId,
    description, secretType: 'COMMON', state: SecretState.enabled, createTime: now, updateTime: now,
    scheduledDeleteTime: null, versionCount: 1,
  };
  const sealed = await sealValue(tx, caller, rootKey, key.keyId, { secretId: secret.secretId, versionId: 'v1' }, value, now);
  await tx.secrets.insertSecret(secret);
  const version: SecretVersion = { secretId: secret.secretId, versionId: 'v1', ...sealed, createTime: now, expireTime: null };
  await tx.secrets.insertVersion(version);
  await tx.secrets.putStage({ secretId: secret.secretId, name: SYSCURRENT, versionId: 'v1', updateTime: now });
  for (const tag of input.tags ?? []) await tx.secrets.putSecretTag(secret.secretId, tag, now);
  return named(secret, {});
}

export async function showSecret(tx: Tx, caller: Caller, name: string, now: number): Promise<Secret> {
  return loadSecret(tx, caller, name, now);
}

/** A page of the account's secrets in the region, by name after `marker` (a name). */
export async function listSecrets(tx: Tx, caller: Caller, marker: string | undefined, limit: number, now: number) {
  requireCsmsAction(caller);
  // Secrets past their deletion time are gone, even before housekeeping removes them: the
  // store leaves them out, so a page is full whenever more secrets follow.
  const rows = await tx.secrets.listSecrets(caller.accountId, caller.region, marker, limit + 1, now);
  const page = rows.slice(0, limit);
  return { secrets: page, nextMarker: rows.length > limit && page.length > 0 ? page[page.length - 1].name : null };
}

export async function updateSecret(
  tx: Tx, caller: Caller, rootKey: RootKey, name: string, change: { kmsKeyId?: string; description?: string }, now: number,
) {
  const secret = await loadSecret(tx, caller, name, now, { lock: true });
  requireNotPendingDelete(secret);
  const description = change.description === undefined ? secret.description : checkDescription(change.description);
  let kmsKeyId = secret.kmsKeyId;
  if (change.kmsKeyId !== undefined && change.kmsKeyId !== secret.kmsKeyId) {
    // Later versions are sealed under the new key; earlier ones stay under theirs.
    kmsKeyId = (await keyForSecret(tx, caller, rootKey, change.kmsKeyId, now)).keyId;
  }
  const next: Secret = { ...secret, kmsKeyId, description, updateTime: now };
  await tx.secrets.updateSecret(next);
  return named(next, {});
}

/** Immediate deletion, with every version, stage and tag. */
export async function deleteSecret(tx: Tx, caller: Caller, name: string, now: number) {
  const secret = await loadSecret(tx, caller, name, now, { lock: true });
  await tx.secrets.deleteSecret(secret.secretId);
  return named(secret, {});
}

export const RECOVERY_WINDOW_DAYS = { min: 7, max: 30 } as const;
const DAY_MS = 86_400_000;

export async function scheduleDeletion(tx: Tx, caller: Caller, name: string, days: number, now: number) {
  if (!Number.isInteger(days) || days < RECOVERY_WINDOW_DAYS.min || days > RECOVERY_WINDOW_DAYS.max) throw kms('CSMS.0002');
  const secret = await loadSecret(tx, caller, name, now, { lock: true });
  if (secret.state === SecretState.pendingDelete) throw kms('CSMS.0107');
  const next: Secret = { ...secret, state: SecretState.pendingDelete, scheduledDeleteTime: now + days * DAY_MS, updateTime: now };
  await tx.secrets.updateSecret(next);
  return named(next, {});
}

export async function restoreSecret(tx: Tx, caller: Caller, name: string, now: number) {
  const secret = await loadSecret(tx, caller, name, now, { lock: true });
  if (secret.state !== SecretState.pendingDelete) throw kms('CSMS.0108');
  const next: Secret = { ...secret, state: SecretState.enabled, scheduledDeleteTime: null, updateTime: now };
  await tx.secrets.updateSecret(next);
  return named(next, {});
}

/** Removes secrets whose recovery window has ended (every node runs it; idempotent). */
export async function deleteDueSecrets(tx: Tx, now: number, batch = 500): Promise<number> {
  const due = await tx.secrets.secretsDueForDeletion(now, batch);
  for (const secretId of due) await tx.secrets.deleteSecret(secretId);
  return due.length;
}
