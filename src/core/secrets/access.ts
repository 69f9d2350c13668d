import { kms } from '../errors.ts';
import { DECISIONS } from '../decisions.ts';
import type { Caller, PolicyResource, RequestValues } from '../model.ts';
import type { Tx } from '../../store/store.ts';
import { SecretState, type Secret } from './model.ts';

// Who may act on a secret: users of the secret's account whose identity policies allow the
// operation's csms:secret:* action on csms:<region>:<account>:secret:<name>. Another account's
// secret does not exist for the caller (CSMS.0005): accounts are isolated.

/** The secret as identity policies see it (its tags only when some policy tests g:ResourceTag/...). */
export async function secretResource(tx: Tx, caller: Caller, secret: Pick<Secret, 'secretId' | 'name'> & { accountId: string; region: string }): Promise<PolicyResource> {
  const tags = caller.readsTags && secret.secretId !== '' ? await tx.secrets.tagsOfSecret(secret.secretId) : [];
  return {
    keyId: null, accountId: secret.accountId, region: secret.region, spec: '', usage: '', origin: '',
    tags: Object.fromEntries(tags.map((t) => [t.key, t.value])), secretName: secret.name,
  };
}

/** The caller's policies must allow the operation on this secret (CSMS.0302). */
export async function requireSecretAction(tx: Tx, caller: Caller, secret: Secret, request?: RequestValues): Promise<void> {
  if (!caller.allows(await secretResource(tx, caller, secret), request)) throw kms(DECISIONS.csmsCallerMayNot);
}

/** For operations that name no secret (list, project tags, generate-password). */
export function requireCsmsAction(caller: Caller): void {
  if (!caller.allows(null)) throw kms(DECISIONS.csmsCallerMayNot);
}

/** A secret whose scheduled deletion has come is gone, even before housekeeping removes it. */
export const isDeletionDue = (secret: Secret, now: number): boolean =>
  secret.state === SecretState.pendingDelete && secret.scheduledDeleteTime !== null && secret.scheduledDeleteTime <= now;

/**
 * The caller's account's secret of that name in the project's region, checked against the
 * caller's policies; CSMS.0005 when there is none. `lock` serialises its writers until commit.
 */
export async function loadSecret(tx: Tx, caller: Caller, name: string, now: number, options: { lock?: boolean; request?: RequestValues } = {}): Promise<Secret> {
  const secret = await tx.secrets.findSecret(caller.accountId, caller.region, name, { lock: options.lock });
  if (!secret || isDeletionDue(secret, now)) throw kms(DECISIONS.noSuchSecret);
  caller.noteSecret?.(secret);
  await requireSecretAction(tx, caller, secret, options.request);
  return secret;
}

/** The same, by secret id (the tag operations' paths name secrets by id). */
export async function loadSecretById(tx: Tx, caller: Caller, secretId: string, now: number, options: { lock?: boolean; request?: RequestValues } = {}): Promise<Secret> {
  const secret = await tx.secrets.getSecret(secretId, { lock: options.lock });
  if (!secret || secret.accountId !== caller.accountId || secret.region !== caller.region || isDeletionDue(secret, now)) {
    throw kms(DECISIONS.noSuchSecret);
  }
  caller.noteSecret?.(secret);
  await requireSecretAction(tx, caller, secret, options.request);
  return secret;
}

/** Changing versions, stages or the value needs an enabled secret (CSMS.0103 while pending deletion). */
export function requireNotPendingDelete(secret: Secret): void {
  if (secret.state === SecretState.pendingDelete) throw kms('CSMS.0103');
}
