import { createTag } from '../../core/tags.ts';
import { F } from '../fields.ts';
import { EMPTY, defineOperation } from '../operation.ts';

export default defineOperation({
  name: 'create-kms-tag',
  method: 'POST',
  path: '/v1.0/{project_id}/kms/{key_id}/tags',
  status: 204,
  actions: ['kms:cmk:createTags', 'kms:cmkTag:create'],
  mutates: true,
  fields: { key_id: F.keyId, tag: F.tag, sequence: F.sequence },
  required: ['key_id', 'tag'],
  response: EMPTY,
  async handle({ store, caller, clock }, body) {
    await store.write((tx) => createTag(tx, caller, body.key_id as string, body.tag, clock.now()));
    return {};
  },
});
