import { KmsError, kms } from '../errors.ts';
import { DECISIONS } from '../decisions.ts';
import { requireKeyUse, systemCaller } from '../access.ts';
import { decryptUnder, encryptUnder } from '../data.ts';
import { EnvelopeKind, parse } from '../envelope.ts';
import { createKey, loadKey } from '../keys.ts';
import { isSymmetricSpec } from '../key-specs.ts';
import { requireKeystoreEnabled } from '../keystores.ts';
import { KeyState, type Caller, type Key } from '../model.ts';
import type { RootKey } from '../sealing.ts';
import type { Tx } from '../../store/store.ts';
import type { SecretVersion, ValueKind } from './model.ts';

/**
 * Secret values under KMS keys. A value is sealed the way encrypt-data seals data (the key's
 * current material, AES-256-GCM or SM4, an envelope naming key and material version) but as an
 * envelope of its own kind (EnvelopeKind.secret), with the secret id, version id and value kind
 * as additional data: a secret value is no decrypt-data input (and the reverse), and a value
 * cannot be moved to another secret or version. The clear value exists only in memory.
 */

export const DEFAULT_CSMS_KEY = 'csms/default';
/** secret_string / secret_binary (decoded) are at most 32 KiB (the create-secret page). */
export const MAX_VALUE_BYTES = 32 * 1024;
/**
 * The body a request carrying a value may have: the value in the worst JSON escaping (a
 * control character is \u00XX, six characters a byte) and 64 KiB for the rest (name,
 * description, tags, stages, themselves escaped), whatever --body-limit says.
 */
export const VALUE_BODY_LIMIT = 6 * MAX_VALUE_BYTES + 64 * 1024;

/** The KMS rights Huawei lists as CSMS's dependencies: writing a value makes a data key, reading decrypts one. */
const KMS_RIGHTS = {
  write: { actions: ['kms:dek:create', 'kms:cmk:createDataKey'], operation: 'create-datakey' },
  read: { actions: ['kms:dek:crypto', 'kms:dek:decrypt', 'kms:cmk:decryptDataKey'], operation: 'decrypt-datakey' },
} as const;

const valueAad = (secretId: string, versionId: string, kind: ValueKind): Buffer => Buffer.from(`csms:${secretId}:${versionId}:${kind}`, 'utf8');

/**
 * The key values are sealed under: the one named (a symmetric ENCRYPT_DECRYPT key of the
 * caller's account, else CSMS.0002), or the account's csms/default in this region, made on
 * first use (concurrent first uses all end with the one key). Checked for state (CSMS.0401) but not for the caller's KMS rights (usable()).
 */
export async function keyForSecret(tx: Tx, caller: Caller, rootKey: RootKey, kmsKeyId: string | undefined, now: number): Promise<Key> {
  if (kmsKeyId === undefined) {
    const found = await tx.findKeyByAlias(caller.accountId, caller.region, DEFAULT_CSMS_KEY);
    if (found) return found;
    const system = systemCaller(caller.userId, caller.accountId, caller.region);
    const input = { alias: DEFAULT_CSMS_KEY, spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', description: 'Default key for CSMS', origin: 'kms' as const, defaultKey: true };
    try {
      return await createKey(tx, system, input, rootKey, { maxKeys: Infinity }, now);
    } catch (error) {
      // A concurrent first use made it and committed between our lookup and createKey's
      // (PostgreSQL, READ COMMITTED): take that one. (Both missing it and both inserting ends
      // in a unique violation, which the driver retries from the start.)
      if (!(error instanceof KmsError && error.code === 'KMS.1104')) throw error;
      const made = await tx.findKeyByAlias(caller.accountId, caller.region, DEFAULT_CSMS_KEY);
      if (!made) throw error;
      return made;
    }
  }
  const key = await tx.getKey(kmsKeyId);
  if (!key || key.accountId !== caller.accountId || key.region !== caller.region) throw kms('CSMS.0002');
  if (!isSymmetricSpec(key.spec) || key.usage !== 'ENCRYPT_DECRYPT') throw kms('CSMS.0002');
  // update-secret seals nothing now: without this it would accept a key no later version can use.
  if (key.state !== KeyState.enabled) throw kms(DECISIONS.secretKeyUnusable);
  return key;
}

/**
 * The key, ready for reading or writing values: enabled (else CSMS.0401: a disabled or
 * pending-deletion key makes its secrets' values unreadable until it is enabled again), and,
 * unless it is the account's csms/default, allowed to the caller by its KMS rights (CSMS.0401).
 */
async function usable(tx: Tx, caller: Caller, keyId: string, use: keyof typeof KMS_RIGHTS, now: number): Promise<Key> {
  let key: Key;
  try {
    key = await loadKey(tx, keyId, now);
    if (key.state !== KeyState.enabled || key.materialVersion === 0) throw kms(DECISIONS.secretKeyUnusable);
    await requireKeystoreEnabled(tx, key);
    if (!(key.defaultKey && key.alias === DEFAULT_CSMS_KEY)) {
      const rights = KMS_RIGHTS[use];
      await requireKeyUse(tx, caller.forActions(rights.actions), key, rights.operation);
    }
  } catch (error) {
    if (error instanceof KmsError) throw kms(DECISIONS.secretKeyUnusable);
    throw error;
  }
  return key;
}

export interface SealedValue {
  kind: ValueKind;
  sealed: Buffer;
  kmsKeyId: string;
}

/** Seals a value for one version of one secret. */
export async function sealValue(
  tx: Tx, caller: Caller, rootKey: RootKey, keyId: string, at: { secretId: string; versionId: string }, value: { kind: ValueKind; bytes: Buffer }, now: number,
): Promise<SealedValue> {
  const key = await usable(tx, caller, keyId, 'write', now);
  const sealed = await encryptUnder(tx, rootKey, key, EnvelopeKind.secret, value.bytes, valueAad(at.secretId, at.versionId, value.kind));
  return { kind: value.kind, sealed, kmsKeyId: key.keyId };
}

/** Opens a version's value, or CSMS.0401 when its key is unusable or the envelope does not open. */
export async function openValue(tx: Tx, caller: Caller, rootKey: RootKey, version: SecretVersion, now: number): Promise<Buffer> {
  const envelope = parse(version.sealed);
  if (!envelope || envelope.keyId !== version.kmsKeyId) throw kms(DECISIONS.secretKeyUnusable);
  const key = await usable(tx, caller, version.kmsKeyId, 'read', now);
  try {
    return await decryptUnder(tx, rootKey, key, envelope, valueAad(version.secretId, version.versionId, version.kind), { kind: EnvelopeKind.secret, legacy: false });
  } catch (error) {
    if (error instanceof KmsError) throw kms(DECISIONS.secretKeyUnusable);
    throw error;
  }
}

/**
 * The value a request gives: exactly one of secret_string / secret_binary (base64), at most
 * 32 KiB, else CSMS.0002.
 */
export function valueOf(input: { secret_string?: unknown; secret_binary?: unknown }): { kind: ValueKind; bytes: Buffer } {
  const { secret_string: text, secret_binary: binary } = input;
  if ((text === undefined) === (binary === undefined)) throw kms('CSMS.0002');
  if (typeof text === 'string') {
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length > MAX_VALUE_BYTES) throw kms('CSMS.0002');
    return { kind: 'string', bytes };
  }
  if (typeof binary !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(binary) || binary.length % 4 !== 0) throw kms('CSMS.0002');
  const bytes = Buffer.from(binary, 'base64');
  if (bytes.length > MAX_VALUE_BYTES) throw kms('CSMS.0002');
  return { kind: 'binary', bytes };
}
