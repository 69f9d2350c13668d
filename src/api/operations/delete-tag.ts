import { deleteTag } from '../../core/tags.ts';
import { F } from '../fields.ts';
import { EMPTY, defineOperation } from '../operation.ts';

export default defineOperation({
  name: 'delete-tag',
  method: 'DELETE',
  path: '/v1.0/{project_id}/kms/{key_id}/tags/{key}',
  status: 204,
  actions: ['kms:cmk:deleteTags', 'kms:cmkTag:delete'],
  mutates: true,
  fields: { key_id: F.keyId, key: F.tagKey, sequence: F.sequence },
  required: ['key_id', 'key'],
  response: EMPTY,
  async handle({ store, caller, clock }, body) {
    await store.write((tx) => deleteTag(tx, caller, body.key_id as string, body.key as string, clock.now()));
    return {};
  },
});
