import { disableRotation } from '../../core/rotation.ts';
import { F } from '../fields.ts';
import { EMPTY, defineOperation } from '../operation.ts';

export default defineOperation({
  name: 'disable-key-rotation',
  method: 'POST',
  actions: ['kms:cmk:disableRotation', 'kms:cmk:disableKeyRotation'],
  mutates: true,
  fields: { key_id: F.keyId, sequence: F.sequence },
  required: ['key_id'],
  response: EMPTY,
  async handle({ store, caller, clock }, body) {
    await store.write((tx) => disableRotation(tx, caller, body.key_id as string, clock.now()));
    return {};
  },
});
