import { cancelKeyDeletion } from '../../core/keys.ts';
import { F } from '../fields.ts';
import { defineOperation } from '../operation.ts';
import { KEY_STATE_SCHEMA, keyState } from '../views.ts';

export default defineOperation({
  name: 'cancel-key-deletion',
  method: 'POST',
  actions: ['kms:cmk:update', 'kms:cmk:cancelKeyDeletion'],
  mutates: true,
  fields: { key_id: F.keyId, sequence: F.sequence },
  required: ['key_id'],
  response: KEY_STATE_SCHEMA,
  async handle({ store, caller, clock }, body) {
    const key = await store.write((tx) => cancelKeyDeletion(tx, caller, body.key_id as string, clock.now()));
    return keyState(key);
  },
});
