import { disableKey } from '../../core/keys.ts';
import { F } from '../fields.ts';
import { defineOperation, obj } from '../operation.ts';
import { KEY_STATE_SCHEMA, keyState } from '../views.ts';

export default defineOperation({
  name: 'disable-key',
  method: 'POST',
  actions: ['kms:cmk:disable'],
  mutates: true,
  fields: { key_id: F.keyId, sequence: F.sequence },
  required: ['key_id'],
  response: obj({ key_info: KEY_STATE_SCHEMA }),
  async handle({ store, caller, clock }, body) {
    const key = await store.write((tx) => disableKey(tx, caller, body.key_id as string, clock.now()));
    return { key_info: keyState(key) };
  },
});
