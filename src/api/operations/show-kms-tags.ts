import { showTags } from '../../core/tags.ts';
import { F } from '../fields.ts';
import { arr, defineOperation, int, obj } from '../operation.ts';
import { TAG_SCHEMA, tagView } from '../views.ts';

export default defineOperation({
  name: 'show-kms-tags',
  method: 'GET',
  path: '/v1.0/{project_id}/kms/{key_id}/tags',
  actions: ['kms:cmk:listTags', 'kms:cmk:getTags', 'kms:cmkTag:list'],
  fields: { key_id: F.keyId },
  required: ['key_id'],
  // existTagsNum as the SDK models and the example spell it (the OTC table says existTagNum).
  response: obj({ tags: arr(TAG_SCHEMA), existTagsNum: int }),
  async handle({ store, caller, clock }, body) {
    const tags = await store.read((tx) => showTags(tx, caller, body.key_id as string, clock.now()));
    return { tags: tags.map(tagView), existTagsNum: tags.length };
  },
});
