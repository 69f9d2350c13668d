import { kms } from './errors.ts';
import { DECISIONS } from './decisions.ts';
import type { Tx } from '../store/store.ts';
import { requireOwnerSide } from './access.ts';
import { addMaterial, loadForChange, loadKey } from './keys.ts';
import { KeyState, type Caller, type Key } from './model.ts';
import { DAY_MS } from './runtime.ts';
import { DEFAULT_KEYSTORE } from './keystores.ts';
import type { RootKey } from './sealing.ts';
import { kindOf } from './key-specs.ts';

/**
 * Automatic rotation (reference §4.7). When rotation is enabled a key is due for new
 * material `rotation_interval` days after it was enabled or last rotated. Rotation adds a
 * material version: new encryptions use it, every older ciphertext still opens with the
 * version its envelope names.
 */
export const ROTATION_INTERVAL_DAYS = { min: 30, max: 365 } as const;

function rotatable(key: Key): void {
  if (key.origin === 'external') throw kms('KMS.0312');
  // Only symmetric keys rotate: asymmetric keys KMS.0324 (reference §4.7), HMAC keys KMS.0341.
  const kind = kindOf(key.spec);
  if (kind === 'hmac') throw kms(DECISIONS.hmacRotation);
  if (kind !== 'symmetric') throw kms('KMS.0324');
  if (key.keystoreId !== DEFAULT_KEYSTORE) throw kms('KMS.0338');
  if (key.state === KeyState.disabled) throw kms('KMS.0209');
  if (key.state === KeyState.pendingDeletion) throw kms('KMS.0210');
}

export async function enableRotation(tx: Tx, caller: Caller, keyId: string, now: number): Promise<void> {
  const key = await loadForChange(tx, caller, keyId, now);
  rotatable(key);
  if (key.rotationEnabled) throw kms('KMS.2901');
  await tx.updateKey({ ...key, rotationEnabled: true, rotationDue: now + key.rotationInterval * DAY_MS });
}

export async function disableRotation(tx: Tx, caller: Caller, keyId: string, now: number): Promise<void> {
  const key = await loadForChange(tx, caller, keyId, now);
  if (!key.rotationEnabled) throw kms('KMS.0313');
  await tx.updateKey({ ...key, rotationEnabled: false, rotationDue: null });
}

/** The interval may change with rotation on or off; when on, the next rotation moves with it. */
export async function updateRotationInterval(tx: Tx, caller: Caller, keyId: string, days: number, now: number): Promise<void> {
  if (!Number.isInteger(days) || days < ROTATION_INTERVAL_DAYS.min || days > ROTATION_INTERVAL_DAYS.max) throw kms('KMS.3001');
  const key = await loadForChange(tx, caller, keyId, now);
  rotatable(key);
  const due = key.rotationDue === null ? null : key.rotationDue - key.rotationInterval * DAY_MS + days * DAY_MS;
  await tx.updateKey({ ...key, rotationInterval: days, rotationDue: due });
}

export async function rotationStatus(tx: Tx, caller: Caller, keyId: string, now: number): Promise<Key> {
  const key = await loadKey(tx, keyId, now);
  await requireOwnerSide(tx, caller, key);
  return key;
}

/** Rotates one key if it is still due (another node may have done it first). */
async function rotateIfDue(tx: Tx, rootKey: RootKey, keyId: string, now: number): Promise<boolean> {
  const key = await tx.getKey(keyId, { lock: true });
  if (!key || key.state !== KeyState.enabled || key.rotationDue === null || key.rotationDue > now) return false;
  const version = key.materialVersion + 1;
  await addMaterial(tx, rootKey, key, version, now);
  await tx.updateKey({
    ...key, materialVersion: version, rotations: key.rotations + 1, lastRotationTime: now,
    rotationDue: now + key.rotationInterval * DAY_MS,
  });
  return true;
}

export async function rotateDueKeys(tx: Tx, rootKey: RootKey, now: number, batch = 200): Promise<number> {
  let rotated = 0;
  for (const keyId of await tx.keysDueForRotation(now, batch)) if (await rotateIfDue(tx, rootKey, keyId, now)) rotated++;
  return rotated;
}
