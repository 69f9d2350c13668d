import { requireAction } from './access.ts';
import { randomUUID } from 'node:crypto';
import { kms } from './errors.ts';
import type { Tx } from '../store/store.ts';
import { DECISIONS } from './decisions.ts';
import { KeystoreState, type Caller, type Key, type Keystore, type Page } from './model.ts';

/**
 * Dedicated key stores (reference §2.7), emulated: there is no HSM behind them, but their
 * lifecycle, limits and errors are the service's. A key created in a key store carries its id;
 * while the key store is disabled its keys refuse every cryptographic use (KMS.0317), and a key
 * store that still holds keys cannot be deleted.
 *
 * The error codes are the "partition" codes of the error table: key stores were called CMK
 * partitions before (the IAM actions are still kms:partition:*).
 */
export const DEFAULT_KEYSTORE = '0';
export const KEYSTORE_TYPES = ['DEFAULT', 'DHSM', 'CDMS'] as const;
/** keystore_type as the API page writes it ("0" KMS, "1" Dedicated HSM, "2" CDMS) → the SDK enum. */
const TYPE_NUMBERS: Readonly<Record<string, string>> = { 0: 'DEFAULT', 1: 'DHSM', 2: 'CDMS' };

export interface NewKeystore {
  alias: string;
  type?: string;
  hsmClusterId?: string;
  clusterId?: string;
}

// Key stores name no key: the caller's policies must allow the action on "*".
const requireCaller = requireAction;

/** A key store of the caller's account and region, or 404 KMS.0316 / 403 KMS.0322. */
export async function loadKeystore(tx: Tx, caller: Caller, keystoreId: string, lock = false): Promise<Keystore> {
  const keystore = await tx.getKeystore(keystoreId, { lock });
  if (!keystore || keystore.region !== caller.region) throw kms(DECISIONS.noSuchKeystore);
  if (keystore.accountId !== caller.accountId) throw kms(DECISIONS.keystoreOfAnotherAccount);
  return keystore;
}

export async function createKeystore(tx: Tx, caller: Caller, input: NewKeystore, now: number): Promise<Keystore> {
  requireCaller(caller);
  const type = input.type === undefined ? 'DHSM' : (TYPE_NUMBERS[input.type] ?? input.type);
  if (!(KEYSTORE_TYPES as readonly string[]).includes(type)) throw kms('KMS.0308');
  if (await tx.findKeystoreByAlias(caller.accountId, caller.region, input.alias)) throw kms('KMS.0318');
  if ((await tx.countKeystores(caller.accountId, caller.region)) >= DECISIONS.keystoresPerAccount) throw kms(DECISIONS.tooManyKeystores);
  // "If a Dedicated HSM is used, the cluster_id is hsm_cluster_id"; a cluster holds one key store.
  const clusterId = input.clusterId ?? input.hsmClusterId ?? '';
  if (clusterId !== '' && (await tx.findKeystoreByCluster(caller.accountId, caller.region, clusterId))) throw kms(DECISIONS.clusterInUse);
  const keystore: Keystore = {
    keystoreId: randomUUID(),
    accountId: caller.accountId,
    region: caller.region,
    alias: input.alias,
    type,
    hsmClusterId: input.hsmClusterId ?? (type === 'DHSM' ? clusterId : ''),
    clusterId,
    state: KeystoreState.enabled,
    createTime: now,
  };
  await tx.insertKeystore(keystore);
  return keystore;
}

export async function listKeystores(tx: Tx, caller: Caller, offset: number, limit: number): Promise<Page<Keystore>> {
  requireCaller(caller);
  return tx.listKeystores(caller.accountId, caller.region, offset, limit);
}

export async function showKeystore(tx: Tx, caller: Caller, keystoreId: string): Promise<Keystore> {
  requireCaller(caller);
  return loadKeystore(tx, caller, keystoreId);
}

/** Enabling an enabled key store (or disabling a disabled one) changes nothing and succeeds. */
export async function setKeystoreState(tx: Tx, caller: Caller, keystoreId: string, enabled: boolean): Promise<Keystore> {
  requireCaller(caller);
  const keystore = await loadKeystore(tx, caller, keystoreId, true);
  const next = { ...keystore, state: enabled ? KeystoreState.enabled : KeystoreState.disabled };
  if (next.state !== keystore.state) await tx.updateKeystore(next);
  return next;
}

export async function deleteKeystore(tx: Tx, caller: Caller, keystoreId: string): Promise<void> {
  requireCaller(caller);
  // Locked: a create-key into this key store waits, then finds it gone (KMS.0316).
  const keystore = await loadKeystore(tx, caller, keystoreId, true);
  if ((await tx.countKeysInKeystore(keystore.keystoreId)) > 0) throw kms(DECISIONS.keystoreHoldsKeys);
  await tx.deleteKeystore(keystore.keystoreId);
}

/**
 * The key store a new key goes into: the default one, or an enabled key store of the
 * caller's account. Keys with imported material cannot live in a dedicated key store
 * (KMS.0339, "The custom keystore do not support import key.").
 */
export async function keystoreForNewKey(tx: Tx, caller: Caller, keystoreId: string | undefined, external: boolean): Promise<string> {
  if (keystoreId === undefined || keystoreId === DEFAULT_KEYSTORE) return DEFAULT_KEYSTORE;
  const keystore = await loadKeystore(tx, caller, keystoreId, true);
  if (keystore.state !== KeystoreState.enabled) throw kms('KMS.0317');
  if (external) throw kms('KMS.0339');
  return keystore.keystoreId;
}

/** A key in a disabled key store refuses cryptographic use (KMS.0317). */
export async function requireKeystoreEnabled(tx: Tx, key: Key): Promise<void> {
  if (key.keystoreId === DEFAULT_KEYSTORE) return;
  const keystore = await tx.getKeystore(key.keystoreId);
  if (!keystore || keystore.state !== KeystoreState.enabled) throw kms('KMS.0317');
}
