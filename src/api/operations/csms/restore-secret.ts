import { restoreSecret } from '../../../core/secrets/secrets.ts';
import { defineOperation } from '../../operation.ts';
import { C } from './fields.ts';
import { SECRET_ANSWER, secretView } from './views.ts';

export default defineOperation({
  name: 'restore-secret',
  service: 'csms',
  method: 'POST',
  path: '/v1/{project_id}/secrets/{secret_name}/scheduled-deleted-tasks/cancel',
  actions: ['csms:secret:restoreSecret'],
  mutates: true,
  fields: { secret_name: C.secretName },
  required: ['secret_name'],
  response: SECRET_ANSWER,
  async handle({ store, caller, clock }, body) {
    const { secret } = await store.write((tx) => restoreSecret(tx, caller, body.secret_name as string, clock.now()));
    return { secret: secretView(secret) };
  },
});
