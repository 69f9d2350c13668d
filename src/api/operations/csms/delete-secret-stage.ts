import { deleteStage } from '../../../core/secrets/stages.ts';
import { EMPTY, defineOperation } from '../../operation.ts';
import { C } from './fields.ts';

/** Deletes a custom stage (204); SYSCURRENT and SYSPREVIOUS cannot be deleted (CSMS.0105). */
export default defineOperation({
  name: 'delete-secret-stage',
  service: 'csms',
  method: 'DELETE',
  path: '/v1/{project_id}/secrets/{secret_name}/stages/{stage_name}',
  status: 204,
  actions: ['csms:secret:deleteStage', 'csms:secretStage:delete'],
  mutates: true,
  fields: { secret_name: C.secretName, stage_name: C.stageName },
  required: ['secret_name', 'stage_name'],
  response: EMPTY,
  async handle({ store, caller, clock }, body) {
    await store.write((tx) => deleteStage(tx, caller, body.secret_name as string, body.stage_name as string, clock.now()));
    return {};
  },
});
