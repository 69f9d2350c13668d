import { VALUE_BODY_LIMIT, valueOf } from '../../../core/secrets/values.ts';
import { checkStageNames, createVersion } from '../../../core/secrets/versions.ts';
import { defineOperation, obj } from '../../operation.ts';
import { C } from './fields.ts';
import { VERSION_METADATA_SCHEMA, versionMetadata } from './views.ts';

/** A new version (v<n+1>) carrying version_stages, SYSCURRENT when none (the old one becomes SYSPREVIOUS). */
export default defineOperation({
  name: 'create-secret-version',
  service: 'csms',
  method: 'POST',
  path: '/v1/{project_id}/secrets/{secret_name}/versions',
  actions: ['csms:secret:createVersion', 'csms:secretVersion:create'],
  bodyLimit: VALUE_BODY_LIMIT,
  mutates: true,
  fields: {
    secret_name: C.secretName, secret_string: C.secretString, secret_binary: C.secretBinary,
    version_stages: C.versionStages, expire_time: C.expireTime,
  },
  required: ['secret_name'],
  response: obj({ version_metadata: VERSION_METADATA_SCHEMA }),
  async handle({ store, caller, clock, rootKey }, body) {
    const input = {
      value: valueOf(body),
      ...(body.version_stages !== undefined && { stages: checkStageNames(body.version_stages) }),
      ...(body.expire_time !== undefined && { expireTime: body.expire_time as number }),
    };
    const { secret, version, stages } = await store.write((tx) => createVersion(tx, caller, rootKey, body.secret_name as string, input, clock.now()));
    return { version_metadata: versionMetadata(secret.name, version, stages) };
  },
});
