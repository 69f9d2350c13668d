import { batchTags } from '../../core/tags.ts';
import { F } from '../fields.ts';
import { EMPTY, defineOperation } from '../operation.ts';

/** The IAM actions each batch action needs (the page lists kms:cmk:createTags and the older kms:cmkTag:batch). */
const NEEDS: Record<string, readonly string[]> = {
  create: ['kms:cmk:createTags', 'kms:cmkTag:batch'],
  delete: ['kms:cmk:deleteTags', 'kms:cmkTag:batch'],
};

export default defineOperation({
  name: 'batch-create-kms-tags',
  method: 'POST',
  path: '/v1.0/{project_id}/kms/{key_id}/tags/action',
  status: 204,
  actions: ['kms:cmk:createTags', 'kms:cmk:deleteTags', 'kms:cmkTag:batch'],
  mutates: true,
  fields: { key_id: F.keyId, tags: F.tagList, action: F.tagAction, sequence: F.sequence },
  required: ['key_id', 'tags', 'action'],
  response: EMPTY,
  async handle({ store, caller, clock }, body) {
    const action = body.action as string;
    // An unknown action is refused by batchTags (KMS.0404) whatever the caller may do.
    const who = Object.hasOwn(NEEDS, action) ? caller.forActions(NEEDS[action]) : caller;
    await store.write((tx) => batchTags(tx, who, body.key_id as string, action, body.tags, clock.now()));
    return {};
  },
});
