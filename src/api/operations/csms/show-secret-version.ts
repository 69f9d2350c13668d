import { showVersion } from '../../../core/secrets/versions.ts';
import { defineOperation, obj } from '../../operation.ts';
import { C } from './fields.ts';
import { VERSION_SCHEMA, versionView } from './views.ts';

/** A version with its value: by id (v1, v2, ...) or `latest` (the version SYSCURRENT marks). */
export default defineOperation({
  name: 'show-secret-version',
  service: 'csms',
  method: 'GET',
  path: '/v1/{project_id}/secrets/{secret_name}/versions/{version_id}',
  actions: ['csms:secret:getVersion', 'csms:secretVersion:get'],
  fields: { secret_name: C.secretName, version_id: C.versionId },
  required: ['secret_name', 'version_id'],
  response: obj({ version: VERSION_SCHEMA }),
  async handle({ store, caller, clock, rootKey }, body) {
    const { secret, version, stages, value } = await store.read((tx) =>
      showVersion(tx, caller, rootKey, body.secret_name as string, body.version_id as string, clock.now()));
    return { version: versionView(secret.name, version, stages, value) };
  },
});
