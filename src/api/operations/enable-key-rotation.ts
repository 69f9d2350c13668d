import { enableRotation } from '../../core/rotation.ts';
import { F } from '../fields.ts';
import { EMPTY, defineOperation } from '../operation.ts';

export default defineOperation({
  name: 'enable-key-rotation',
  method: 'POST',
  actions: ['kms:cmk:enableRotation', 'kms:cmk:enableKeyRotation'],
  mutates: true,
  fields: { key_id: F.keyId, sequence: F.sequence },
  required: ['key_id'],
  response: EMPTY,
  async handle({ store, caller, clock }, body) {
    await store.write((tx) => enableRotation(tx, caller, body.key_id as string, clock.now()));
    return {};
  },
});
