import { querySecretResources } from '../../../core/secrets/tags.ts';
import { arr, defineOperation, int, obj, str } from '../../operation.ts';
import { C } from './fields.ts';
import { SECRET_SCHEMA, SECRET_TAG_SCHEMA, secretTagView, secretView } from './views.ts';

/** The SDKs' ListResourceInstances (path segment "resource_instances"): filter or count secrets by tags and name. */
export default defineOperation({
  name: 'list-secret-resource-instances',
  service: 'csms',
  method: 'POST',
  path: '/v1/{project_id}/csms/resource_instances/action',
  actions: ['csms:secret:list'],
  fields: { action: C.action, limit: C.limit, offset: C.limit, tags: C.tagList, matches: C.matches, sequence: C.sequence },
  required: ['action'],
  response: obj({
    resources: arr(obj({ resource_id: str, resource_detail: SECRET_SCHEMA, tags: arr(SECRET_TAG_SCHEMA), resource_name: str, sys_tags: arr(SECRET_TAG_SCHEMA) })),
    total_count: int,
  }, ['resources']),
  async handle({ store, caller, clock }, body) {
    const query = {
      action: body.action as string, limit: body.limit as string | undefined, offset: body.offset as string | undefined,
      tags: body.tags, matches: body.matches,
    };
    const { page, tags } = await store.read((tx) => querySecretResources(tx, caller, query, clock.now()));
    if (query.action === 'count') return { total_count: page.total };
    return {
      resources: page.items.map((s) => ({
        resource_id: s.secretId, resource_detail: secretView(s), tags: (tags.get(s.secretId) ?? []).map(secretTagView), resource_name: s.name, sys_tags: [],
      })),
      total_count: page.total,
    };
  },
});
