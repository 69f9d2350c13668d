import { describeKey } from '../../core/keys.ts';
import { F } from '../fields.ts';
import { defineOperation, obj } from '../operation.ts';
import { KEY_DETAILS_SCHEMA, keyDetails } from '../views.ts';

export default defineOperation({
  name: 'describe-key',
  method: 'POST',
  actions: ['kms:cmk:get', 'kms:cmk:describe'],
  fields: { key_id: F.keyId, sequence: F.sequence },
  required: ['key_id'],
  response: obj({ key_info: KEY_DETAILS_SCHEMA }),
  async handle({ store, caller, clock }, body) {
    const key = await store.read((tx) => describeKey(tx, caller, body.key_id as string, clock.now()));
    return { key_info: keyDetails(key) };
  },
});
