import { rotationStatus } from '../../core/rotation.ts';
import { DECISIONS } from '../../core/decisions.ts';
import { F } from '../fields.ts';
import { defineOperation, int, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'get-key-rotation-status',
  method: 'POST',
  actions: ['kms:cmk:getRotation', 'kms:cmk:getKeyRotationStatus'],
  fields: { key_id: F.keyId, sequence: F.sequence },
  required: ['key_id'],
  response: obj({ key_rotation_enabled: { type: 'boolean' }, rotation_interval: int, last_rotation_time: str, number_of_rotations: int }),
  async handle({ store, caller, clock }, body) {
    const key = await store.read((tx) => rotationStatus(tx, caller, body.key_id as string, clock.now()));
    return {
      key_rotation_enabled: key.rotationEnabled,
      // 0 while rotation is off: the Terraform provider refuses a key whose rotation is off
      // but whose interval is set (DECISIONS.rotationIntervalWhenOff); the interval is kept for enabling.
      rotation_interval: key.rotationEnabled ? key.rotationInterval : DECISIONS.rotationIntervalWhenOff,
      last_rotation_time: key.lastRotationTime === null ? '' : String(key.lastRotationTime),
      number_of_rotations: key.rotations,
    };
  },
});
