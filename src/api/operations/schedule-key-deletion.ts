import { scheduleKeyDeletion } from '../../core/keys.ts';
import { F } from '../fields.ts';
import { defineOperation } from '../operation.ts';
import { KEY_STATE_SCHEMA, keyState } from '../views.ts';

export default defineOperation({
  name: 'schedule-key-deletion',
  method: 'POST',
  actions: ['kms:cmk:update', 'kms:cmk:scheduleKeyDeletion'],
  mutates: true,
  fields: { key_id: F.keyId, pending_days: F.pendingDays, sequence: F.sequence },
  required: ['key_id', 'pending_days'],
  response: KEY_STATE_SCHEMA,
  async handle({ store, caller, clock }, body) {
    const key = await store.write((tx) =>
      scheduleKeyDeletion(tx, caller, body.key_id as string, body.pending_days as string, clock.now()),
    );
    return keyState(key);
  },
});
