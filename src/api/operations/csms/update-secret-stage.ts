import { updateStage } from '../../../core/secrets/stages.ts';
import { defineOperation, obj } from '../../operation.ts';
import { C } from './fields.ts';
import { STAGE_SCHEMA, stageView } from './views.ts';

/** Puts a stage on a version (creating the stage, or taking it off the version it marked). */
export default defineOperation({
  name: 'update-secret-stage',
  service: 'csms',
  method: 'PUT',
  path: '/v1/{project_id}/secrets/{secret_name}/stages/{stage_name}',
  actions: ['csms:secret:updateStage', 'csms:secretStage:update'],
  mutates: true,
  fields: { secret_name: C.secretName, stage_name: C.stageName, version_id: C.versionId },
  required: ['secret_name', 'stage_name', 'version_id'],
  response: obj({ stage: STAGE_SCHEMA }),
  async handle({ store, caller, clock }, body) {
    const { secret, stage } = await store.write((tx) =>
      updateStage(tx, caller, body.secret_name as string, body.stage_name as string, body.version_id as string, clock.now()));
    return { stage: stageView(secret.name, stage) };
  },
});
