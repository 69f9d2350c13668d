import { VALUE_BODY_LIMIT } from '../../../core/secrets/values.ts';
import { requestTags } from '../../../core/access.ts';
import { DECISIONS } from '../../../core/decisions.ts';
import { kms } from '../../../core/errors.ts';
import { createSecret } from '../../../core/secrets/secrets.ts';
import { checkSecretTagList } from '../../../core/secrets/tags.ts';
import { defineOperation } from '../../operation.ts';
import { C, UNSERVED_CREATE_FIELDS } from './fields.ts';
import { SECRET_ANSWER, secretView } from './views.ts';

export default defineOperation({
  name: 'create-secret',
  service: 'csms',
  method: 'POST',
  path: '/v1/{project_id}/secrets',
  actions: ['csms:secret:create'],
  bodyLimit: VALUE_BODY_LIMIT,
  mutates: true,
  fields: {
    name: C.secretName, kms_key_id: C.kmsKeyId, description: C.description, secret_string: C.secretString,
    secret_binary: C.secretBinary, tags: C.tagList, ...UNSERVED_CREATE_FIELDS,
  },
  required: ['name'],
  response: SECRET_ANSWER,
  async handle({ store, caller, clock, rootKey }, body) {
    // Rotation (auto_rotation, RDS/GaussDB secret types) is not served: only a COMMON secret without it.
    if (body.auto_rotation === true || (body.secret_type !== undefined && body.secret_type !== 'COMMON')) throw kms('CSMS.0002');
    const tags = body.tags === undefined ? [] : checkSecretTagList(body.tags);
    const input = {
      name: body.name as string, kmsKeyId: body.kms_key_id as string | undefined, description: body.description as string | undefined,
      secretString: body.secret_string as string | undefined, secretBinary: body.secret_binary as string | undefined, tags,
    };
    const { secret } = await store.write((tx) => createSecret(tx, caller, rootKey, input, requestTags(tags), clock.now(), DECISIONS.secretsPerProject));
    return { secret: secretView(secret) };
  },
});
