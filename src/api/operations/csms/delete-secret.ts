import { deleteSecret } from '../../../core/secrets/secrets.ts';
import { EMPTY, defineOperation } from '../../operation.ts';
import { C } from './fields.ts';

/** Immediate deletion with every version (DECISIONS.csmsDeleteStatus: 204). */
export default defineOperation({
  name: 'delete-secret',
  service: 'csms',
  method: 'DELETE',
  path: '/v1/{project_id}/secrets/{secret_name}',
  status: 204,
  actions: ['csms:secret:delete'],
  mutates: true,
  fields: { secret_name: C.secretName },
  required: ['secret_name'],
  response: EMPTY,
  async handle({ store, caller, clock }, body) {
    await store.write((tx) => deleteSecret(tx, caller, body.secret_name as string, clock.now()));
    return {};
  },
});
