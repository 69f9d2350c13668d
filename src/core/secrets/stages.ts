import { kms } from '../errors.ts';
import { DECISIONS } from '../decisions.ts';
import type { Caller } from '../model.ts';
import type { Tx } from '../../store/store.ts';
import { loadSecret, requireNotPendingDelete } from './access.ts';
import { SYSTEM_STAGES, type Secret, type SecretStage } from './model.ts';
import { named } from './secrets.ts';
import { STAGE_NAME, markVersion } from './versions.ts';

// Stages by name: put one on a version (it leaves the version it marked), show, delete.

export async function updateStage(tx: Tx, caller: Caller, name: string, stageName: string, versionId: string, now: number) {
  if (!STAGE_NAME.test(stageName)) throw kms('CSMS.0002');
  const secret = await loadSecret(tx, caller, name, now, { lock: true });
  requireNotPendingDelete(secret);
  if (!(await tx.secrets.getVersion(secret.secretId, versionId))) throw kms(DECISIONS.noSuchSecret);
  await markVersion(tx, secret, versionId, [stageName], now);
  const next: Secret = { ...secret, updateTime: now };
  await tx.secrets.updateSecret(next);
  return named(next, { stage: { secretId: secret.secretId, name: stageName, versionId, updateTime: now } satisfies SecretStage });
}

export async function showStage(tx: Tx, caller: Caller, name: string, stageName: string, now: number) {
  const secret = await loadSecret(tx, caller, name, now);
  const stage = (await tx.secrets.stagesOf(secret.secretId)).find((s) => s.name === stageName);
  if (!stage) throw kms(DECISIONS.noSuchSecret);
  return { secret, stage };
}

/** SYSCURRENT and SYSPREVIOUS cannot be deleted (CSMS.0105). */
export async function deleteStage(tx: Tx, caller: Caller, name: string, stageName: string, now: number) {
  const secret = await loadSecret(tx, caller, name, now, { lock: true });
  requireNotPendingDelete(secret);
  if (SYSTEM_STAGES.has(stageName)) throw kms('CSMS.0105');
  if (!(await tx.secrets.deleteStage(secret.secretId, stageName))) throw kms(DECISIONS.noSuchSecret);
  return named(secret, {});
}
