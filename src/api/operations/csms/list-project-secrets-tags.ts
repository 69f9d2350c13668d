import { projectSecretTags } from '../../../core/secrets/tags.ts';
import { arr, defineOperation, obj, str } from '../../operation.ts';

/** Every tag key on the project's secrets with its values. */
export default defineOperation({
  name: 'list-project-secrets-tags',
  service: 'csms',
  method: 'GET',
  path: '/v1/{project_id}/csms/tags',
  actions: ['csms:secret:listTags', 'csms:secretTag:list'],
  fields: {},
  required: [],
  response: obj({ tags: arr(obj({ key: str, values: arr(str) })) }),
  async handle({ store, caller, clock }) {
    return { tags: await store.read((tx) => projectSecretTags(tx, caller, clock.now())) };
  },
});
