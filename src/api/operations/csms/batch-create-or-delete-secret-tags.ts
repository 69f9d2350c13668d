import { batchSecretTags } from '../../../core/secrets/tags.ts';
import { EMPTY, defineOperation } from '../../operation.ts';
import { C } from './fields.ts';

/** The SDKs' BatchCreateOrDeleteTags: {action: create|delete, tags}; 204. */
export default defineOperation({
  name: 'batch-create-or-delete-secret-tags',
  service: 'csms',
  method: 'POST',
  path: '/v1/{project_id}/csms/{secret_id}/tags/action',
  status: 204,
  // The action the call needs depends on `action` (core/secrets/tags.ts TAG_ACTIONS); either lets it in.
  actions: ['csms:secret:createTag', 'csms:secret:deleteTag', 'csms:secretTag:batch'],
  mutates: true,
  fields: { secret_id: C.secretId, action: C.action, tags: C.tagList, sys_tags: C.tagList, sequence: C.sequence },
  required: ['secret_id', 'action', 'tags'],
  response: EMPTY,
  async handle({ store, caller, clock }, body) {
    await store.write((tx) => batchSecretTags(tx, caller, body.secret_id as string, body.action as string, body.tags, clock.now()));
    return {};
  },
});
