import { kms } from './errors.ts';
import { requestTags, requireAction, requireOwnerSide } from './access.ts';
import { DECISIONS } from './decisions.ts';
import { loadForChange, loadKey } from './keys.ts';
import { KeyState, type Caller, type Key, type Page, type Tag, type TagFilter } from './model.ts';
import type { Tx } from '../store/store.ts';

// Tags of keys (reference §7). Tags are the owner's business: only callers of the key's
// account with the IAM action read or change them; a grantee sees none (DESIGN §2).

/** ASCII 0-31 and * < > \ = are refused in tag keys and values (TagItem, reference §7). */
const FORBIDDEN = /[\u0000-\u001f*<>\\=]/;
/** Lengths count Unicode characters (code points), as the documentation does. */
const length = (s: string): number => [...s].length;

export const TAG_LIMITS = { keyLength: 36, valueLength: 43, matchValueLength: 255 } as const;

/** A tag key as the documentation allows it (KMS.0406 / KMS.0411). */
export function checkTagKey(key: unknown): string {
  if (typeof key !== 'string' || key === '' || FORBIDDEN.test(key)) throw kms('KMS.0406');
  if (length(key) > TAG_LIMITS.keyLength) throw kms('KMS.0411');
  return key;
}

/** A tag value (absent is ""): KMS.0405 / KMS.0410. */
export function checkTagValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string' || FORBIDDEN.test(value)) throw kms('KMS.0405');
  if (length(value) > TAG_LIMITS.valueLength) throw kms('KMS.0410');
  return value;
}

/** One TagItem {key, value}; anything else is KMS.0412. */
export function checkTag(item: unknown): Tag {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw kms('KMS.0412');
  const { key, value } = item as Record<string, unknown>;
  return { key: checkTagKey(key), value: checkTagValue(value) };
}

/**
 * A list of TagItems: not empty (KMS.0401), at most the per-key limit (KMS.0407), each valid,
 * no tag key twice (KMS.0412).
 */
export function checkTagList(items: unknown): Tag[] {
  if (!Array.isArray(items)) throw kms('KMS.0412');
  if (items.length === 0) throw kms('KMS.0401');
  if (items.length > DECISIONS.tagsPerKey) throw kms('KMS.0407');
  const tags = items.map(checkTag);
  if (new Set(tags.map((t) => t.key)).size !== tags.length) throw kms('KMS.0412');
  return tags;
}

/** A key whose tags the caller changes: its owner's, not a default key, not pending deletion. */
/** `tags`: the tags the call writes or removes, for the g:RequestTag/<tag-key> and g:TagKeys conditions. */
async function loadForTagging(tx: Tx, caller: Caller, keyId: string, now: number, tags: readonly Pick<Tag, 'key' | 'value'>[]): Promise<Key> {
  const key = await loadForChange(tx, caller, keyId, now, requestTags(tags));
  if (key.state === KeyState.pendingDeletion) throw kms('KMS.0210');
  return key;
}

/** Adds the tags (a tag key already on the key gets the new value), within the per-key limit. */
export async function addTags(tx: Tx, key: Key, tags: readonly Tag[], now: number): Promise<void> {
  const present = new Set((await tx.tagsOfKey(key.keyId)).map((t) => t.key));
  const after = new Set([...present, ...tags.map((t) => t.key)]);
  if (after.size > DECISIONS.tagsPerKey) throw kms('KMS.0409');
  for (const tag of tags) await tx.putTag(key.keyId, tag, now);
}

export async function createTag(tx: Tx, caller: Caller, keyId: string, tag: unknown, now: number): Promise<void> {
  const checked = checkTag(tag);
  const key = await loadForTagging(tx, caller, keyId, now, [checked]);
  await addTags(tx, key, [checked], now);
}

/**
 * Batch create or delete. Delete removes the named tag keys (the values sent are not compared)
 * and ignores keys the key does not have, so repeating it is harmless.
 */
export async function batchTags(tx: Tx, caller: Caller, keyId: string, action: string, items: unknown, now: number): Promise<void> {
  if (action !== 'create' && action !== 'delete') throw kms('KMS.0404');
  const tags = checkTagList(items);
  const key = await loadForTagging(tx, caller, keyId, now, tags);
  if (action === 'create') return addTags(tx, key, tags, now);
  for (const tag of tags) await tx.deleteTag(key.keyId, tag.key);
}

/** Deletes one tag; a tag key the key does not have is 404 KMS.0416. */
export async function deleteTag(tx: Tx, caller: Caller, keyId: string, tagKey: string, now: number): Promise<void> {
  checkTagKey(tagKey);
  const key = await loadForTagging(tx, caller, keyId, now, [{ key: tagKey, value: '' }]);
  if (!(await tx.deleteTag(key.keyId, tagKey))) throw kms('KMS.0416');
}

/** The key's tags, for its owner side only (a grantee of the key sees none: KMS.0306). */
export async function showTags(tx: Tx, caller: Caller, keyId: string, now: number): Promise<Tag[]> {
  const key = await loadKey(tx, keyId, now);
  await requireOwnerSide(tx, caller, key);
  return tx.tagsOfKey(key.keyId);
}

export async function projectTags(tx: Tx, caller: Caller): Promise<Array<{ key: string; values: string[] }>> {
  requireAction(caller);
  return tx.projectTags(caller.accountId, caller.region);
}

export interface ResourceQuery {
  action: string;
  limit?: string;
  offset?: string;
  tags?: unknown;
  matches?: unknown;
}

const NUMBER = /^\d{1,10}$/;

/** The `tags` of a resource query: [{key, values: [...]}], at most 10 keys of 10 values each. */
export function checkTagFilter(raw: unknown): TagFilter['tags'] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw kms('KMS.0414');
  if (raw.length > DECISIONS.tagsPerKey) throw kms('KMS.0407');
  const seen = new Set<string>();
  return raw.map((item: unknown) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw kms('KMS.0414');
    const { key, values } = item as Record<string, unknown>;
    const checkedKey = checkTagKey(key);
    if (seen.has(checkedKey)) throw kms('KMS.0414');
    seen.add(checkedKey);
    if (values !== undefined && !Array.isArray(values)) throw kms('KMS.0414');
    const list = (values as unknown[] | undefined) ?? [];
    if (list.length > DECISIONS.tagValuesPerQueryKey) throw kms('KMS.0413');
    return { key: checkedKey, values: list.map(checkTagValue) };
  });
}

/** The `matches` of a resource query: [{key: "resource_name", value}] (value ≤ 255 characters). */
export function checkMatches(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) throw kms('KMS.0415');
  let name: string | undefined;
  for (const item of raw as unknown[]) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw kms('KMS.0415');
    const { key, value } = item as Record<string, unknown>;
    if (key !== 'resource_name' || name !== undefined) throw kms('KMS.0403');
    if (typeof value !== 'string' || length(value) > TAG_LIMITS.matchValueLength) throw kms('KMS.0402');
    name = value;
  }
  return name;
}

export interface ResourcePage {
  page: Page<Key>;
  tags: Map<string, Tag[]>;
}

/**
 * resource_instances/action: the caller's customer keys matching the tags (every key given,
 * any of its values) and the name match. `filter` pages with limit (1..1000, default 10) and
 * offset (>= 0); `count` only counts and takes no offset (KMS.0418).
 */
export async function queryResources(tx: Tx, caller: Caller, query: ResourceQuery): Promise<ResourcePage> {
  requireAction(caller);
  if (query.action !== 'filter' && query.action !== 'count') throw kms('KMS.0404');
  const filter: TagFilter = { tags: checkTagFilter(query.tags) };
  const name = checkMatches(query.matches);
  if (name !== undefined) filter.name = name;
  if (query.action === 'count') {
    if (query.offset !== undefined) throw kms('KMS.0418');
    return { page: await tx.keysByTags(caller.accountId, caller.region, filter, 0, 0), tags: new Map() };
  }
  let limit: number = DECISIONS.resourceLimitDefault;
  if (query.limit !== undefined) {
    limit = NUMBER.test(query.limit) ? Number(query.limit) : NaN;
    if (!(limit >= 1 && limit <= DECISIONS.maxLimit)) throw kms('KMS.1601');
  }
  let offset = 0;
  if (query.offset !== undefined) {
    if (!NUMBER.test(query.offset)) throw kms('KMS.0417');
    offset = Number(query.offset);
  }
  const page = await tx.keysByTags(caller.accountId, caller.region, filter, offset, limit);
  return { page, tags: await tx.tagsOfKeys(page.items.map((k) => k.keyId)) };
}
