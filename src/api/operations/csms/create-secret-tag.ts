import { createSecretTag } from '../../../core/secrets/tags.ts';
import { EMPTY, defineOperation } from '../../operation.ts';
import { C } from './fields.ts';

/** Adds one tag to a secret named by id (a tag key it has gets the new value): 204. */
export default defineOperation({
  name: 'create-secret-tag',
  service: 'csms',
  method: 'POST',
  path: '/v1/{project_id}/csms/{secret_id}/tags',
  status: 204,
  actions: ['csms:secret:createTag', 'csms:secretTag:create'],
  mutates: true,
  fields: { secret_id: C.secretId, tag: C.tag },
  required: ['secret_id', 'tag'],
  response: EMPTY,
  async handle({ store, caller, clock }, body) {
    await store.write((tx) => createSecretTag(tx, caller, body.secret_id as string, body.tag, clock.now()));
    return {};
  },
});
