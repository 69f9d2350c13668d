import { scheduleDeletion } from '../../../core/secrets/secrets.ts';
import { defineOperation } from '../../operation.ts';
import { C } from './fields.ts';
import { SECRET_ANSWER, secretView } from './views.ts';

/** Schedules the deletion in 7-30 days: PENDING_DELETE shows metadata but no value, takes no version. */
export default defineOperation({
  name: 'delete-secret-for-schedule',
  service: 'csms',
  method: 'POST',
  path: '/v1/{project_id}/secrets/{secret_name}/scheduled-deleted-tasks/create',
  actions: ['csms:secret:scheduleDeletion'],
  mutates: true,
  fields: { secret_name: C.secretName, recovery_window_in_days: C.recoveryWindow },
  required: ['secret_name', 'recovery_window_in_days'],
  response: SECRET_ANSWER,
  async handle({ store, caller, clock }, body) {
    const days = body.recovery_window_in_days as number;
    const { secret } = await store.write((tx) => scheduleDeletion(tx, caller, body.secret_name as string, days, clock.now()));
    return { secret: secretView(secret) };
  },
});
