import { updateRotationInterval } from '../../core/rotation.ts';
import { F } from '../fields.ts';
import { EMPTY, defineOperation } from '../operation.ts';

export default defineOperation({
  name: 'update-key-rotation-interval',
  method: 'POST',
  actions: ['kms:cmk:updateRotation', 'kms:cmk:updateKeyRotationInterval'],
  mutates: true,
  fields: { key_id: F.keyId, rotation_interval: F.rotationInterval, sequence: F.sequence },
  required: ['key_id', 'rotation_interval'],
  response: EMPTY,
  async handle({ store, caller, clock }, body) {
    await store.write((tx) => updateRotationInterval(tx, caller, body.key_id as string, body.rotation_interval as number, clock.now()));
    return {};
  },
});
