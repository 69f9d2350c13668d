import { KmsError, kms } from '../errors.ts';
import { DECISIONS } from '../decisions.ts';
import { requestTags } from '../access.ts';
import { checkMatches, checkTag, checkTagFilter, checkTagKey, checkTagList, type ResourceQuery } from '../tags.ts';
import type { Caller, Page } from '../model.ts';
import type { Tx } from '../../store/store.ts';
import { loadSecretById, requireCsmsAction } from './access.ts';
import type { Secret, SecretTag, SecretTagFilter } from './model.ts';
import { named } from './secrets.ts';

// Tags of secrets (by secret id, as CSMS's tag paths name them): the same item rules as key
// tags (core/tags.ts), refused with CSMS.0002; at most 20 tag keys a secret.

export const TAGS_PER_SECRET = 20;

/** Runs a check of core/tags.ts, answering its KMS refusals with CSMS.0002. */
function checked<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof KmsError) throw kms('CSMS.0002');
    throw error;
  }
}

export const checkSecretTag = (item: unknown): SecretTag => checked(() => checkTag(item));
export const checkSecretTagList = (items: unknown): SecretTag[] => checked(() => checkTagList(items));

async function addTags(tx: Tx, secret: Secret, tags: readonly SecretTag[], now: number): Promise<void> {
  const present = new Set((await tx.secrets.tagsOfSecret(secret.secretId)).map((t) => t.key));
  if (new Set([...present, ...tags.map((t) => t.key)]).size > TAGS_PER_SECRET) throw kms('CSMS.0002');
  for (const tag of tags) await tx.secrets.putSecretTag(secret.secretId, tag, now);
}

export async function createSecretTag(tx: Tx, caller: Caller, secretId: string, item: unknown, now: number) {
  const tag = checkSecretTag(item);
  const secret = await loadSecretById(tx, caller, secretId, now, { lock: true, request: requestTags([tag]) });
  await addTags(tx, secret, [tag], now);
  return named(secret, {});
}

/** create adds (a tag key present gets the new value); delete removes the keys named, ignoring absent ones. */
export async function batchSecretTags(tx: Tx, caller: Caller, secretId: string, action: string, items: unknown, now: number) {
  if (action !== 'create' && action !== 'delete') throw kms('CSMS.0002');
  const tags = checkSecretTagList(items);
  const secret = await loadSecretById(tx, caller.forActions(action === 'create' ? TAG_ACTIONS.create : TAG_ACTIONS.delete), secretId, now, { lock: true, request: requestTags(tags) });
  if (action === 'create') await addTags(tx, secret, tags, now);
  else for (const tag of tags) await tx.secrets.deleteSecretTag(secret.secretId, tag.key);
  return named(secret, {});
}

/** The IAM actions of tag writes (the batch call's depends on its action). */
export const TAG_ACTIONS = {
  create: ['csms:secret:createTag', 'csms:secretTag:create'],
  delete: ['csms:secret:deleteTag', 'csms:secretTag:delete'],
} as const;

/** Deletes one tag; a key the secret does not have is CSMS.0005. */
export async function deleteSecretTag(tx: Tx, caller: Caller, secretId: string, tagKey: string, now: number) {
  checked(() => checkTagKey(tagKey));
  const secret = await loadSecretById(tx, caller, secretId, now, { lock: true, request: requestTags([{ key: tagKey, value: '' }]) });
  if (!(await tx.secrets.deleteSecretTag(secret.secretId, tagKey))) throw kms(DECISIONS.noSuchSecret);
  return named(secret, {});
}

export async function secretTags(tx: Tx, caller: Caller, secretId: string, now: number): Promise<SecretTag[]> {
  const secret = await loadSecretById(tx, caller, secretId, now);
  return tx.secrets.tagsOfSecret(secret.secretId);
}

export async function projectSecretTags(tx: Tx, caller: Caller, now: number): Promise<Array<{ key: string; values: string[] }>> {
  requireCsmsAction(caller);
  return tx.secrets.projectSecretTags(caller.accountId, caller.region, now);
}

const NUMBER = /^\d{1,10}$/;

/**
 * resource_instances/action on secrets: those matching every tag key given (any of its values)
 * and the name part; `filter` pages (limit 1..1000, default 10; offset >= 0), `count` counts.
 */
export async function querySecretResources(tx: Tx, caller: Caller, query: ResourceQuery, now: number): Promise<{ page: Page<Secret>; tags: Map<string, SecretTag[]> }> {
  requireCsmsAction(caller);
  if (query.action !== 'filter' && query.action !== 'count') throw kms('CSMS.0002');
  const filter: SecretTagFilter = { tags: checked(() => checkTagFilter(query.tags)), liveAt: now };
  const name = checked(() => checkMatches(query.matches));
  if (name !== undefined) filter.name = name;
  if (query.action === 'count') return { page: await tx.secrets.secretsByTags(caller.accountId, caller.region, filter, 0, 0), tags: new Map() };
  const limit = query.limit === undefined ? DECISIONS.resourceLimitDefault : NUMBER.test(query.limit) ? Number(query.limit) : NaN;
  if (!(limit >= 1 && limit <= DECISIONS.maxLimit)) throw kms('CSMS.0002');
  if (query.offset !== undefined && !NUMBER.test(query.offset)) throw kms('CSMS.0002');
  const page = await tx.secrets.secretsByTags(caller.accountId, caller.region, filter, Number(query.offset ?? 0), limit);
  const tags = new Map<string, SecretTag[]>();
  for (const s of page.items) tags.set(s.secretId, await tx.secrets.tagsOfSecret(s.secretId));
  return { page, tags };
}
