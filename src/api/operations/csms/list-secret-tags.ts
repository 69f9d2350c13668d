import { secretTags } from '../../../core/secrets/tags.ts';
import { arr, defineOperation, obj } from '../../operation.ts';
import { C } from './fields.ts';
import { SECRET_TAG_SCHEMA, secretTagView } from './views.ts';

export default defineOperation({
  name: 'list-secret-tags',
  service: 'csms',
  method: 'GET',
  path: '/v1/{project_id}/csms/{secret_id}/tags',
  actions: ['csms:secret:listTags', 'csms:secretTag:list'],
  fields: { secret_id: C.secretId },
  required: ['secret_id'],
  response: obj({ tags: arr(SECRET_TAG_SCHEMA), sys_tags: arr(SECRET_TAG_SCHEMA) }),
  async handle({ store, caller, clock }, body) {
    const tags = await store.read((tx) => secretTags(tx, caller, body.secret_id as string, clock.now()));
    return { tags: tags.map(secretTagView), sys_tags: [] };
  },
});
