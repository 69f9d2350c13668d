import { kms } from './errors.ts';
import { DECISIONS } from './decisions.ts';
import type { Caller, Grant, Key } from './model.ts';
import type { Tx } from '../store/store.ts';

/** The grant operations of reference §3.2, exactly as the wire spells them. */
export const GRANT_OPERATIONS = [
  'create-datakey',
  'create-datakey-without-plaintext',
  'encrypt-datakey',
  'decrypt-datakey',
  'describe-key',
  'create-grant',
  'retire-grant',
  'encrypt-data',
  'decrypt-data',
] as const;
export type GrantOperation = (typeof GRANT_OPERATIONS)[number];

/** A user of the key's account whose IAM policies allow the operation's action. */
export function isOwnerSide(caller: Caller, key: Key): boolean {
  return caller.mayAct && caller.accountId === key.accountId;
}

export function granteeIs(grant: Grant, caller: Caller): boolean {
  return grant.granteeType === 'domain'
    ? grant.granteePrincipal === caller.accountId
    : grant.granteePrincipal === caller.userId;
}

export function requireOwnerSide(caller: Caller, key: Key): void {
  if (!isOwnerSide(caller, key)) throw kms(DECISIONS.callerMayNot);
}

/**
 * May the caller use the key for this operation? Either it acts for the key's account with
 * the IAM action, or a live grant names it (or its account) with that operation. The grant
 * is read in the same transaction as the operation, so an ended grant never works again.
 */
export async function requireKeyUse(tx: Tx, caller: Caller, key: Key, operation: GrantOperation): Promise<void> {
  if (isOwnerSide(caller, key)) return;
  const grants = await tx.grantsNaming(key.keyId, caller.userId, caller.accountId);
  if (!grants.some((g) => g.operations.includes(operation))) throw kms(DECISIONS.callerMayNot);
}
