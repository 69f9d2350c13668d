import { projectTags } from '../../core/tags.ts';
import { arr, defineOperation, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'list-kms-tags',
  method: 'GET',
  path: '/v1.0/{project_id}/kms/tags',
  actions: ['kms:cmk:listTags', 'kms:cmkTag:list'],
  fields: {},
  required: [],
  response: obj({ tags: arr(obj({ key: str, values: arr(str) })) }),
  async handle({ store, caller }) {
    return { tags: await store.read((tx) => projectTags(tx, caller)) };
  },
});
