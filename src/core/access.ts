import { kms } from './errors.ts';
import { DECISIONS } from './decisions.ts';
import type { Caller, Grant, Key, PolicyResource, RequestValues, Tag } from './model.ts';
import type { Tx } from '../store/store.ts';

export { GRANT_OPERATIONS, type GrantOperation } from './grant-operations.ts';
import type { GrantOperation } from './grant-operations.ts';

/**
 * The key as identity policies see it. Its tags are read (in the operation's transaction)
 * only when some policy of the caller tests g:ResourceTag/...
 */
export async function policyResource(tx: Tx, caller: Caller, key: Key): Promise<PolicyResource> {
  return {
    keyId: key.keyId, accountId: key.accountId, region: key.region, spec: key.spec, usage: key.usage, origin: key.origin,
    tags: caller.readsTags ? Object.fromEntries((await tx.tagsOfKey(key.keyId)).map((t) => [t.key, t.value])) : {},
  };
}

/** The request-level tag condition keys of a call that writes tags: g:RequestTag/<tag-key> and g:TagKeys. */
export function requestTags(tags: readonly Pick<Tag, 'key' | 'value'>[]): RequestValues {
  const values: Record<string, string | string[]> = { 'g:TagKeys': tags.map((t) => t.key) };
  for (const t of tags) values[`g:RequestTag/${t.key}`] = t.value;
  return tags.length === 0 ? {} : values;
}

/** A user of the key's account whose IAM policies allow the operation's action on this key. */
export async function isOwnerSide(tx: Tx, caller: Caller, key: Key, request?: RequestValues): Promise<boolean> {
  return caller.accountId === key.accountId && caller.allows(await policyResource(tx, caller, key), request);
}

export function granteeIs(grant: Grant, caller: Caller): boolean {
  return grant.granteeType === 'domain'
    ? grant.granteePrincipal === caller.accountId
    : grant.granteePrincipal === caller.userId;
}

export async function requireOwnerSide(tx: Tx, caller: Caller, key: Key, request?: RequestValues): Promise<void> {
  if (!(await isOwnerSide(tx, caller, key, request))) throw kms(DECISIONS.callerMayNot);
}

/** For operations that name no key (list-keys, gen-random, user-quotas, ...): the policies must allow the action. */
export function requireAction(caller: Caller): void {
  if (!caller.allows(null)) throw kms(DECISIONS.callerMayNot);
}

/**
 * May the caller use the key for this operation? Either it acts for the key's account with
 * the IAM action, or a live grant names it (or its account) with that operation. The grant
 * is read in the same transaction as the operation, so an ended grant never works again.
 * An explicit Deny in the caller's own policies for this action and key stops the grant's
 * use too (DECISIONS.denyStopsGrants).
 */
export async function requireKeyUse(tx: Tx, caller: Caller, key: Key, operation: GrantOperation): Promise<void> {
  const resource = await policyResource(tx, caller, key);
  if (caller.accountId === key.accountId && caller.allows(resource)) return;
  if (DECISIONS.denyStopsGrants && caller.denies(resource)) throw kms(DECISIONS.callerMayNot);
  const grants = await tx.grantsNaming(key.keyId, caller.userId, caller.accountId);
  if (!grants.some((g) => g.operations.includes(operation))) throw kms(DECISIONS.callerMayNot);
}

/**
 * The caller asking for two sets of actions at once: its policies must allow both (and a Deny
 * of either refuses, grants included). re-encrypt reads the source as decrypt-data does and
 * writes the destination as encrypt-data does, besides its own action: checking only
 * re-encrypt's action names would let it open what a Deny on decrypt-data protects.
 */
export function holdingBoth(first: Caller, second: Caller): Caller {
  const both: Caller = {
    userId: first.userId,
    accountId: first.accountId,
    region: first.region,
    readsTags: first.readsTags || second.readsTags,
    allows: (resource, request) => first.allows(resource, request) && second.allows(resource, request),
    denies: (resource, request) => first.denies(resource, request) || second.denies(resource, request),
    forActions: (actions) => first.forActions(actions),
  };
  return both;
}

/** A caller that may do everything: kmsd itself (default keys the identities file declares). */
export function systemCaller(userId: string, accountId: string, region: string): Caller {
  const caller: Caller = { userId, accountId, region, allows: () => true, denies: () => false, readsTags: false, forActions: () => caller };
  return caller;
}
