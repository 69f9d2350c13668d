import { showStage } from '../../../core/secrets/stages.ts';
import { defineOperation, obj } from '../../operation.ts';
import { C } from './fields.ts';
import { STAGE_SCHEMA, stageView } from './views.ts';

export default defineOperation({
  name: 'show-secret-stage',
  service: 'csms',
  method: 'GET',
  path: '/v1/{project_id}/secrets/{secret_name}/stages/{stage_name}',
  actions: ['csms:secret:getStage', 'csms:secretStage:get'],
  fields: { secret_name: C.secretName, stage_name: C.stageName },
  required: ['secret_name', 'stage_name'],
  response: obj({ stage: STAGE_SCHEMA }),
  async handle({ store, caller, clock }, body) {
    const { secret, stage } = await store.read((tx) => showStage(tx, caller, body.secret_name as string, body.stage_name as string, clock.now()));
    return { stage: stageView(secret.name, stage) };
  },
});
