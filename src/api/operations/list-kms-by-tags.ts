import { queryResources } from '../../core/tags.ts';
import { F } from '../fields.ts';
import { arr, defineOperation, int, obj, str } from '../operation.ts';
import { KEY_DETAILS_SCHEMA, TAG_SCHEMA, keyDetails, tagView } from '../views.ts';

const RESOURCE_SCHEMA = obj({ resource_id: str, resource_detail: KEY_DETAILS_SCHEMA, resource_name: str, tags: arr(TAG_SCHEMA) });

export default defineOperation({
  name: 'list-kms-by-tags',
  method: 'POST',
  path: '/v1.0/{project_id}/kms/resource_instances/action',
  // It shows tags, so it needs a tag-reading action, as GET {key_id}/tags does (the exact name is not in the pages found).
  actions: ['kms:cmk:listResourceInstances', 'kms:cmk:listTags', 'kms:cmkTag:listResourceInstances'],
  fields: {
    action: F.resourceAction,
    limit: F.resourceLimit,
    offset: F.resourceOffset,
    tags: F.tagFilter,
    matches: F.matches,
    sequence: F.sequence,
  },
  required: ['action'],
  // total_count is a JSON number (the SDK's int; the provider reads it as float64).
  // action "count" answers total_count alone.
  response: obj({ resources: arr(RESOURCE_SCHEMA), total_count: int }, ['resources']),
  async handle({ store, caller }, body) {
    const { page, tags } = await store.read((tx) => queryResources(tx, caller, body as never));
    if (body.action === 'count') return { total_count: page.total };
    return {
      resources: page.items.map((key) => ({
        resource_id: key.keyId,
        resource_detail: keyDetails(key),
        resource_name: key.alias,
        tags: (tags.get(key.keyId) ?? []).map(tagView),
      })),
      total_count: page.total,
    };
  },
});
