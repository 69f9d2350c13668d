import { requireAction, requireOwnerSide } from './access.ts';
import { kms } from './errors.ts';
import { DECISIONS } from './decisions.ts';
import { isDefaultAlias, loadForChange } from './keys.ts';
import { KeyState, type Caller, type Key, type KeyAlias } from './model.ts';
import type { Tx } from '../store/store.ts';

// Aliases of the aliases API (reference §2.6): extra names of a key, unique per account and
// region, any number of them per key (up to 50), movable to another key. They are separate
// from a key's own key_alias (its name, set at creation and changed with update-key-alias):
// the two never clash and neither changes the other (docs/decisions.md).

/** The console's rule: letters, digits, _ - : / (as key_alias), never ending in /default. */
const ALIAS = /^[a-zA-Z0-9:/_-]{1,255}$/;

export function checkAlias(alias: unknown): string {
  if (typeof alias !== 'string' || !ALIAS.test(alias) || isDefaultAlias(alias)) throw kms('KMS.1101');
  return alias;
}

/** A key that gets an alias: its owner's, not a default key, not pending deletion; within the limit. */
async function loadForAlias(tx: Tx, caller: Caller, keyId: string, now: number): Promise<Key> {
  const key = await loadForChange(tx, caller, keyId, now);
  if (key.state === KeyState.pendingDeletion) throw kms('KMS.0210');
  if ((await tx.countAliasesOfKey(key.keyId)) >= DECISIONS.aliasesPerKey) throw kms(DECISIONS.badAlias);
  return key;
}

export async function createAlias(tx: Tx, caller: Caller, keyId: string, alias: unknown, now: number): Promise<KeyAlias> {
  const name = checkAlias(alias);
  const key = await loadForAlias(tx, caller, keyId, now);
  if (await tx.getAlias(key.accountId, key.region, name)) throw kms('KMS.1104');
  const created: KeyAlias = { alias: name, keyId: key.keyId, accountId: key.accountId, region: key.region, createTime: now, updateTime: now };
  await tx.insertAlias(created);
  return created;
}

/**
 * The caller's policies must allow the operation on a key an alias names: taking an alias
 * off a key (associate-alias) or listing a key's aliases is an alias operation on that key
 * too, so a Deny of kms:alias:* on it (by tag, Resource, ...) holds there as on create-alias.
 * A key already gone (its deletion due) protects nothing.
 */
async function requireAliasRightOn(tx: Tx, caller: Caller, keyId: string): Promise<void> {
  const key = await tx.getKey(keyId, { lock: false });
  if (key && key.accountId === caller.accountId) await requireOwnerSide(tx, caller, key);
}

/** Moves an existing alias of the account to another of its keys (both checked). */
export async function associateAlias(tx: Tx, caller: Caller, alias: unknown, targetKeyId: string, now: number): Promise<KeyAlias> {
  const name = checkAlias(alias);
  requireAction(caller);
  const existing = await tx.getAlias(caller.accountId, caller.region, name);
  if (!existing) throw kms(DECISIONS.badAlias);
  await requireAliasRightOn(tx, caller, existing.keyId);
  if (existing.keyId === targetKeyId) {
    await loadForChange(tx, caller, targetKeyId, now);
    return existing;
  }
  const key = await loadForAlias(tx, caller, targetKeyId, now);
  if (key.accountId !== existing.accountId || key.region !== existing.region) throw kms(DECISIONS.callerMayNot);
  const moved = { ...existing, keyId: key.keyId, updateTime: now };
  await tx.updateAlias(moved);
  return moved;
}

/**
 * Deletes aliases of one key. An alias that no longer exists is skipped (a repeated delete
 * succeeds); one bound to another key is refused, and then nothing is deleted.
 */
export async function deleteAliases(tx: Tx, caller: Caller, keyId: string, aliases: unknown, now: number): Promise<void> {
  if (!Array.isArray(aliases) || aliases.length === 0) throw kms(DECISIONS.badAlias);
  const names = aliases.map(checkAlias);
  const key = await loadForChange(tx, caller, keyId, now);
  const found: string[] = [];
  for (const name of new Set(names)) {
    const alias = await tx.getAlias(key.accountId, key.region, name);
    if (!alias) continue;
    if (alias.keyId !== key.keyId) throw kms(DECISIONS.badAlias);
    found.push(name);
  }
  for (const name of found) await tx.deleteAlias(key.accountId, key.region, name);
}

export interface AliasPage {
  aliases: KeyAlias[];
  /** The last alias of the page when more follow, else "". */
  nextMarker: string;
}

/**
 * The caller's aliases in the region (of one key with key_id), by name. `marker` is the last
 * alias of the previous page (the API page: "name of the last key on each page").
 */
export async function listAliases(tx: Tx, caller: Caller, keyId: string | undefined, limit: string | undefined, marker: string | undefined): Promise<AliasPage> {
  requireAction(caller);
  let size: number = DECISIONS.aliasListDefault;
  if (limit !== undefined) {
    size = /^\d{1,10}$/.test(limit) ? Number(limit) : NaN;
    if (!(size >= 1 && size <= DECISIONS.aliasListMax)) throw kms('KMS.1601');
  }
  if (marker !== undefined && !ALIAS.test(marker)) throw kms(DECISIONS.badAlias);
  if (keyId !== undefined) await requireAliasRightOn(tx, caller, keyId);
  const rows = await tx.listAliases(caller.accountId, caller.region, keyId, marker, size + 1);
  const aliases = rows.slice(0, size);
  return { aliases, nextMarker: rows.length > size ? (aliases.at(-1) as KeyAlias).alias : '' };
}
