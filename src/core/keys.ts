import { randomBytes } from 'node:crypto';
import { kms } from './errors.ts';
import type { KeyFilter, Tx } from '../store/store.ts';
import { requestTags, requireAction, requireKeyUse, requireOwnerSide } from './access.ts';
import { DECISIONS } from './decisions.ts';
import { KeyState, type Caller, type Key, type KeyStateValue, type Page, type RequestValues, type Tag } from './model.ts';
import type { PageRequest } from './paging.ts';
import { DAY_MS, newKeyId } from './runtime.ts';
import { RootKey, materialContext } from './sealing.ts';
import { isSymmetricSpec, newMaterial, usageFor } from './key-specs.ts';
import { unbounded, type Bounded } from './fair-gate.ts';
import { keystoreForNewKey } from './keystores.ts';

/** Symmetric specs kmsd serves, with their material length in bytes. */
export const KEY_SPECS: Readonly<Record<string, number>> = { AES_256: 32, SM4: 16 };
export const DEFAULT_ROTATION_INTERVAL_DAYS = 365;
const DEFAULT_SUFFIX = '/default';

export interface KeyLimits {
  maxKeys: number;
}

export function isDefaultAlias(alias: string): boolean {
  return alias.endsWith(DEFAULT_SUFFIX);
}

/**
 * Loads a key, or 404 KMS.0207. A key whose pending deletion has expired is already gone
 * for every caller, even before the sweeper removes its row.
 */
export async function loadKey(tx: Tx, keyId: string, now: number, lock = false): Promise<Key> {
  const key = await tx.getKey(keyId, { lock });
  if (!key || isDeletionDue(key, now)) throw kms(DECISIONS.noSuchKey);
  return withMaterialExpiry(key, now);
}

/**
 * A key whose imported material has expired is pending import again at once, for every
 * caller, even before the sweeper removes the material (see core/import.ts).
 */
export function withMaterialExpiry(key: Key, now: number): Key {
  const expired = key.materialExpires !== null && key.materialExpires <= now
    && (key.state === KeyState.enabled || key.state === KeyState.disabled);
  return expired ? { ...key, state: KeyState.pendingImport, materialVersion: 0 } : key;
}

export function isDeletionDue(key: Key, now: number): boolean {
  return key.state === KeyState.pendingDeletion && key.scheduledDeletionDate !== null && key.scheduledDeletionDate <= now;
}

/** Fresh material for a key, sealed under the root key with the key id bound to it. */
export async function addMaterial(tx: Tx, rootKey: RootKey, key: Key, version: number, now: number): Promise<void> {
  const clear = randomBytes(KEY_SPECS[key.spec]);
  try {
    await tx.insertMaterial({ keyId: key.keyId, version, sealed: rootKey.seal(clear, materialContext(key.keyId, version)), createdAt: now });
  } finally {
    clear.fill(0);
  }
}

export interface NewKey {
  alias: string;
  spec: string;
  /** undefined: the spec's default usage (see key-specs.ts). */
  usage?: string;
  description: string;
  origin: 'kms' | 'external';
  defaultKey?: boolean;
  /** Tags to add with the key, already checked (core/tags.ts checkTagList). */
  tags?: readonly Tag[];
  /** A key store of the caller's account ('0' or absent: the default KMS key store). */
  keystoreId?: string;
}

/**
 * May the caller's policies create this key? Huawei lists kms:cmk:create on the KeyId resource
 * with kms:KeySpec, kms:KeyUsage and kms:KeyOrigin (the key to be made, which has no id yet),
 * and g:RequestTag/<tag-key>, g:TagKeys for the tags it is created with.
 */
function requireCreation(caller: Caller, input: NewKey): void {
  let usage = input.usage ?? '';
  try {
    usage = usageFor(input.spec, input.usage, input.origin);
  } catch {
    // A spec and usage that do not go together are refused after the policy check.
  }
  const made = { keyId: null, accountId: caller.accountId, region: caller.region, spec: input.spec, usage, origin: input.origin, tags: {} };
  if (!caller.allows(made, requestTags(input.tags ?? []))) throw kms(DECISIONS.callerMayNot);
}

/**
 * Checks a create-key request that needs no store, and makes the material of an asymmetric or
 * HMAC key before the transaction (RSA generation takes long; it must hold no lock meanwhile).
 * Symmetric material is made inside createKey. Returns null when createKey makes it.
 */
export async function prepareKeyMaterial(caller: Caller, input: NewKey, generate: Bounded = unbounded): Promise<Buffer | null> {
  requireCreation(caller, input);
  if (isDefaultAlias(input.alias) && !input.defaultKey) throw kms('KMS.1101');
  usageFor(input.spec, input.usage, input.origin);
  if (isSymmetricSpec(input.spec) || input.origin === 'external') return null;
  return generate(() => newMaterial(input.spec));
}

export async function createKey(
  tx: Tx, caller: Caller, input: NewKey, rootKey: RootKey, limits: KeyLimits, now: number, material: Buffer | null = null,
): Promise<Key> {
  requireCreation(caller, input);
  if (isDefaultAlias(input.alias) && !input.defaultKey) throw kms('KMS.1101');
  const usage = usageFor(input.spec, input.usage, input.origin);
  // Callers other than create-key (which prepares it outside the transaction) get it made here.
  const made = !isSymmetricSpec(input.spec) && input.origin !== 'external' && material === null;
  if (made) material = await newMaterial(input.spec);
  if (await tx.findKeyByAlias(caller.accountId, caller.region, input.alias)) throw kms('KMS.1104');
  if (!input.defaultKey && (await tx.countCustomerKeys(caller.accountId, caller.region)) >= limits.maxKeys) throw kms('KMS.1105');
  const external = input.origin === 'external';
  const keystoreId = await keystoreForNewKey(tx, caller, input.keystoreId, external);
  const key: Key = {
    keyId: newKeyId(),
    accountId: caller.accountId,
    region: caller.region,
    alias: input.alias,
    description: input.description,
    spec: input.spec,
    usage,
    origin: input.origin,
    state: external ? KeyState.pendingImport : KeyState.enabled,
    creationDate: now,
    scheduledDeletionDate: null,
    defaultKey: input.defaultKey === true,
    rotationEnabled: false,
    rotationInterval: DEFAULT_ROTATION_INTERVAL_DAYS,
    lastRotationTime: null,
    rotationDue: null,
    rotations: 0,
    materialVersion: external ? 0 : 1,
    keystoreId,
    materialExpires: null,
    importDigest: null,
  };
  await tx.insertKey(key);
  for (const tag of input.tags ?? []) await tx.putTag(key.keyId, tag, now);
  // The caller owns `material` (a write may be retried) and wipes it after the write.
  if (material !== null) {
    await tx.insertMaterial({ keyId: key.keyId, version: 1, sealed: rootKey.seal(material, materialContext(key.keyId, 1)), createdAt: now });
    if (made) material.fill(0);
  } else if (!external) await addMaterial(tx, rootKey, key, 1, now);
  return key;
}

export async function describeKey(tx: Tx, caller: Caller, keyId: string, now: number): Promise<Key> {
  const key = await loadKey(tx, keyId, now);
  await requireKeyUse(tx, caller, key, 'describe-key');
  return key;
}

export async function listKeys(tx: Tx, caller: Caller, filter: KeyFilter, page: PageRequest, now: number): Promise<Page<Key>> {
  requireAction(caller);
  const found = await tx.listKeys(caller.accountId, caller.region, filter, page.offset, page.limit);
  return { ...found, items: found.items.map((key) => withMaterialExpiry(key, now)) };
}

/**
 * Loads a key for a change by its owner: locked for the rest of the transaction, owner-side
 * caller only, and never a default key.
 */
export async function loadForChange(tx: Tx, caller: Caller, keyId: string, now: number, request?: RequestValues): Promise<Key> {
  const key = await loadKey(tx, keyId, now, true);
  await requireOwnerSide(tx, caller, key, request);
  if (key.defaultKey) throw kms(DECISIONS.defaultKey);
  return key;
}

async function moveState(tx: Tx, key: Key, state: KeyStateValue, scheduledDeletionDate: number | null): Promise<Key> {
  const next = { ...key, state, scheduledDeletionDate };
  await tx.updateKey(next);
  return next;
}

export async function enableKey(tx: Tx, caller: Caller, keyId: string, now: number): Promise<Key> {
  const key = await loadForChange(tx, caller, keyId, now);
  if (key.state !== KeyState.disabled) throw kms('KMS.1201');
  return moveState(tx, key, KeyState.enabled, null);
}

export async function disableKey(tx: Tx, caller: Caller, keyId: string, now: number): Promise<Key> {
  const key = await loadForChange(tx, caller, keyId, now);
  if (key.state !== KeyState.enabled) throw kms('KMS.1301');
  return moveState(tx, key, KeyState.disabled, null);
}

export const PENDING_DAYS = { min: 7, max: 1096 } as const;

export async function scheduleKeyDeletion(tx: Tx, caller: Caller, keyId: string, pendingDays: string, now: number): Promise<Key> {
  const days = /^\d{1,5}$/.test(pendingDays) ? Number(pendingDays) : NaN;
  if (!(days >= PENDING_DAYS.min && days <= PENDING_DAYS.max)) throw kms('KMS.1401');
  const key = await loadForChange(tx, caller, keyId, now);
  if (key.state === KeyState.pendingDeletion) throw kms('KMS.1402');
  return moveState(tx, key, KeyState.pendingDeletion, now + days * DAY_MS);
}

/** A cancelled deletion leaves the key disabled, as the official example shows. */
export async function cancelKeyDeletion(tx: Tx, caller: Caller, keyId: string, now: number): Promise<Key> {
  const key = await loadForChange(tx, caller, keyId, now);
  if (key.state !== KeyState.pendingDeletion) throw kms('KMS.1501');
  return moveState(tx, key, KeyState.disabled, null);
}

export async function updateKeyAlias(tx: Tx, caller: Caller, keyId: string, alias: string, now: number): Promise<Key> {
  if (isDefaultAlias(alias)) throw kms('KMS.1101');
  const key = await loadForChange(tx, caller, keyId, now);
  if (key.state === KeyState.pendingDeletion) throw kms('KMS.0210');
  const holder = await tx.findKeyByAlias(key.accountId, key.region, alias);
  if (holder && holder.keyId !== key.keyId) throw kms('KMS.1104');
  const next = { ...key, alias };
  await tx.updateKey(next);
  return next;
}

export async function updateKeyDescription(tx: Tx, caller: Caller, keyId: string, description: string, now: number): Promise<Key> {
  const key = await loadForChange(tx, caller, keyId, now);
  if (key.state === KeyState.pendingDeletion) throw kms('KMS.0210');
  const next = { ...key, description };
  await tx.updateKey(next);
  return next;
}

/** Removes keys whose pending deletion has expired, with their material and grants. */
export async function deleteDueKeys(tx: Tx, now: number, batch = 500): Promise<number> {
  const due = await tx.keysDueForDeletion(now, batch);
  for (const keyId of due) await tx.deleteKey(keyId);
  return due.length;
}
