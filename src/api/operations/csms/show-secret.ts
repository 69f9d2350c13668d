import { showSecret } from '../../../core/secrets/secrets.ts';
import { defineOperation } from '../../operation.ts';
import { C } from './fields.ts';
import { SECRET_ANSWER, secretView } from './views.ts';

export default defineOperation({
  name: 'show-secret',
  service: 'csms',
  method: 'GET',
  path: '/v1/{project_id}/secrets/{secret_name}',
  actions: ['csms:secret:get'],
  fields: { secret_name: C.secretName },
  required: ['secret_name'],
  response: SECRET_ANSWER,
  async handle({ store, caller, clock }, body) {
    return { secret: secretView(await store.read((tx) => showSecret(tx, caller, body.secret_name as string, clock.now()))) };
  },
});
