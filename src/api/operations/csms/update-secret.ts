import { kms } from '../../../core/errors.ts';
import { updateSecret } from '../../../core/secrets/secrets.ts';
import { defineOperation } from '../../operation.ts';
import { C, UNSERVED_CREATE_FIELDS } from './fields.ts';
import { SECRET_ANSWER, secretView } from './views.ts';

/** Metadata only: the KMS key later versions are sealed under, and the description ("" clears it). */
export default defineOperation({
  name: 'update-secret',
  service: 'csms',
  method: 'PUT',
  path: '/v1/{project_id}/secrets/{secret_name}',
  actions: ['csms:secret:update'],
  mutates: true,
  fields: {
    secret_name: C.secretName, kms_key_id: C.kmsKeyId, description: C.description,
    auto_rotation: C.autoRotation, rotation_period: C.text,
    event_subscriptions: UNSERVED_CREATE_FIELDS.event_subscriptions,
  },
  required: ['secret_name'],
  response: SECRET_ANSWER,
  async handle({ store, caller, clock, rootKey }, body) {
    // Rotation is not served (docs/csms.md): turning it on is refused, as at creation.
    if (body.auto_rotation === true) throw kms('CSMS.0002');
    const change = { kmsKeyId: body.kms_key_id as string | undefined, description: body.description as string | undefined };
    const { secret } = await store.write((tx) => updateSecret(tx, caller, rootKey, body.secret_name as string, change, clock.now()));
    return { secret: secretView(secret) };
  },
});
