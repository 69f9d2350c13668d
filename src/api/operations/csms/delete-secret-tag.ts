import { deleteSecretTag } from '../../../core/secrets/tags.ts';
import { EMPTY, defineOperation } from '../../operation.ts';
import { C } from './fields.ts';

/** Deletes one tag by its key (204); a key the secret does not have is 404 CSMS.0005. */
export default defineOperation({
  name: 'delete-secret-tag',
  service: 'csms',
  method: 'DELETE',
  path: '/v1/{project_id}/csms/{secret_id}/tags/{key}',
  status: 204,
  actions: ['csms:secret:deleteTag', 'csms:secretTag:delete'],
  mutates: true,
  fields: { secret_id: C.secretId, key: C.tagKey },
  required: ['secret_id', 'key'],
  response: EMPTY,
  async handle({ store, caller, clock }, body) {
    await store.write((tx) => deleteSecretTag(tx, caller, body.secret_id as string, body.key as string, clock.now()));
    return {};
  },
});
