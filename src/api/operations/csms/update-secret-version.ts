import { updateVersion } from '../../../core/secrets/versions.ts';
import { defineOperation, obj } from '../../operation.ts';
import { C } from './fields.ts';
import { VERSION_METADATA_SCHEMA, versionMetadata } from './views.ts';

/** Sets a version's expire_time (the SDKs' UpdateVersion; the Terraform provider's expire_time). */
export default defineOperation({
  name: 'update-secret-version',
  service: 'csms',
  method: 'PUT',
  path: '/v1/{project_id}/secrets/{secret_name}/versions/{version_id}',
  actions: ['csms:secret:updateVersion', 'csms:secretVersion:update'],
  mutates: true,
  fields: { secret_name: C.secretName, version_id: C.versionId, expire_time: C.expireTime },
  required: ['secret_name', 'version_id'],
  response: obj({ version_metadata: VERSION_METADATA_SCHEMA }),
  async handle({ store, caller, clock }, body) {
    const expireTime = (body.expire_time as number | undefined) ?? null;
    const { secret, version, stages } = await store.write((tx) =>
      updateVersion(tx, caller, body.secret_name as string, body.version_id as string, expireTime, clock.now()));
    return { version_metadata: versionMetadata(secret.name, version, stages) };
  },
});
