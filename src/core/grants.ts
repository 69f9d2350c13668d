import { kms } from './errors.ts';
import type { Tx } from '../store/store.ts';
import { granteeIs, isOwnerSide, policyResource, requireAction, requireOwnerSide, type GrantOperation } from './access.ts';
import { DECISIONS } from './decisions.ts';
import { KeyState, type Caller, type Grant, type GranteeType, type Key, type Page } from './model.ts';
import type { PageRequest } from './paging.ts';
import { loadKey } from './keys.ts';
import { newGrantId } from './runtime.ts';
import { remember } from './memo.ts';

export interface NewGrant {
  keyId: string;
  granteePrincipal: string;
  granteeType: GranteeType;
  operations: GrantOperation[];
  name: string | null;
  retiringPrincipal: string | null;
}

export interface GrantLimits {
  maxGrantsPerKey: number;
}

/**
 * Who may create a grant: the key's account (with the IAM action), or a grantee holding a
 * live grant with create-grant, and then only for operations that one grant already has,
 * so a grant can never be used to widen itself.
 */
async function requireGrantCreation(tx: Tx, caller: Caller, key: Key, input: NewGrant, operations: readonly string[]): Promise<void> {
  // The request-level condition keys Huawei lists for kms:cmk:createGrant.
  const request = {
    'kms:GrantOperations': operations,
    'kms:GranteePrincipal': input.granteePrincipal,
    'kms:GranteePrincipalType': input.granteeType,
    ...(input.retiringPrincipal !== null && { 'kms:RetiringPrincipal': input.retiringPrincipal }),
  };
  if (await isOwnerSide(tx, caller, key, request)) return;
  if (DECISIONS.denyStopsGrants && caller.denies(await policyResource(tx, caller, key), request)) throw kms(DECISIONS.callerMayNot);
  const held = await tx.grantsNaming(key.keyId, caller.userId, caller.accountId);
  const covering = held.some((g) => g.operations.includes('create-grant') && operations.every((op) => g.operations.includes(op)));
  if (!covering) throw kms(DECISIONS.callerMayNot);
}

export async function createGrant(tx: Tx, caller: Caller, input: NewGrant, limits: GrantLimits, now: number): Promise<Grant> {
  const operations = [...new Set(input.operations)];
  if (operations.length === 1 && operations[0] === 'create-grant') throw kms('KMS.2401');
  const key = await loadKey(tx, input.keyId, now, true);
  await requireGrantCreation(tx, caller, key, input, operations);
  if (key.defaultKey) throw kms(DECISIONS.defaultKey);
  if (key.state !== KeyState.enabled) throw kms(DECISIONS.createGrantOnState[key.state]);
  const grant: Grant = {
    grantId: newGrantId(now),
    keyId: key.keyId,
    granteePrincipal: input.granteePrincipal,
    granteeType: input.granteeType,
    operations,
    issuingPrincipal: caller.userId,
    retiringPrincipal: input.retiringPrincipal,
    name: input.name,
    creationDate: now,
  };
  // The limit is checked last, by the insert itself (one statement fewer under the key's lock).
  tx.lastStatementNext();
  if (!(await tx.insertGrant(grant, limits.maxGrantsPerKey))) throw kms(DECISIONS.tooManyGrants);
  return grant;
}

/**
 * Lists a key's grants. `render` turns the page into the answer; answers are reused while the
 * key's grants version is unchanged. The version is read before the grants, so an answer kept
 * under a version never shows less than that version held, and every node reads the version
 * from the store on every request: a grant ended anywhere is missing from the next list.
 */
export async function listGrants<T>(
  tx: Tx, caller: Caller, keyId: string, page: PageRequest, now: number, render: (page: Page<Grant>) => T, rendered: Map<string, T>,
): Promise<T> {
  const key = await loadKey(tx, keyId, now);
  await requireOwnerSide(tx, caller, key);
  const id = `${key.keyId}/${await tx.grantsVersion(key.keyId)}/${page.offset}/${page.limit}`;
  const kept = rendered.get(id);
  if (kept !== undefined) return kept;
  const answer = render(await tx.listGrants(key.keyId, page.offset, page.limit));
  remember(rendered, id, answer, RENDERED_GRANT_LISTS);
  return answer;
}

/** Rendered grant lists kept per store (a page of 100 is about 30 KB). */
const RENDERED_GRANT_LISTS = 1024;

export async function listRetirableGrants(tx: Tx, caller: Caller, page: PageRequest): Promise<Page<Grant>> {
  requireAction(caller);
  return tx.listRetirableGrants(caller.userId, caller.accountId, page.offset, page.limit);
}

/**
 * Ends the live grant with this id on this key and returns it, or throws the documented error.
 * The grant is read by the statement that ends it (on PostgreSQL one round trip fewer while the
 * key's row is locked), so a caller's right to end it is judged after: a refusal throws, and the
 * write rolls back whole, the grant with it (nothing of a failed write is ever committed). The
 * key's row is locked, so no other ending of this grant can be in between.
 */
async function endGrant(tx: Tx, key: Key, grantId: string): Promise<Grant> {
  const id = grantId.toLowerCase();
  // Its last statement when the grant is there (the common case); a grant not found is looked
  // up once more (tx.lastStatementNext says what that costs).
  tx.lastStatementNext();
  const ended = await tx.endGrantOfKey(key.keyId, id);
  if (ended) return ended;
  const elsewhere = await tx.getGrant(id);
  throw kms(elsewhere !== null && elsewhere.keyId !== key.keyId ? DECISIONS.grantOnAnotherKey : DECISIONS.noSuchGrant);
}

/** May the caller retire this grant: its issuer, its retiring principal, or a grantee holding retire-grant. */
export function mayRetire(grant: Grant, caller: Caller): boolean {
  return (
    grant.issuingPrincipal === caller.userId ||
    grant.retiringPrincipal === caller.userId ||
    (granteeIs(grant, caller) && grant.operations.includes('retire-grant'))
  );
}

/**
 * Retire: a user the grant names (issuer, retiring principal, grantee holding retire-grant)
 * whose own account's policies allow kms:cmk:retireGrant (alias kms:grant:retire) on this key, as the
 * 2026 edition of Huawei's retire-grant page requires of IAM users; an account's
 * administrator holds every action. Allowed in every key state, because removing access must
 * always be possible.
 */
export async function retireGrant(tx: Tx, caller: Caller, keyId: string, grantId: string, now: number): Promise<Grant> {
  const key = await loadKey(tx, keyId, now, true);
  // What the caller's policies are judged on is read before the grant is ended, so that ending
  // it is the write's last statement (tx.lastStatementNext).
  const resource = DECISIONS.retireNeedsIamAction ? await policyResource(tx, caller, key) : null;
  // Ended first, judged next: a refusal rolls the ending back (see endGrant).
  const grant = await endGrant(tx, key, grantId);
  if ((resource !== null && !caller.allows(resource)) || !mayRetire(grant, caller)) {
    throw kms(DECISIONS.callerMayNot);
  }
  return grant;
}

/** Revoke: the key's account only (with the IAM action), never a grantee as such. */
export async function revokeGrant(tx: Tx, caller: Caller, keyId: string, grantId: string, now: number): Promise<Grant> {
  const key = await loadKey(tx, keyId, now, true);
  await requireOwnerSide(tx, caller, key);
  return endGrant(tx, key, grantId);
}
