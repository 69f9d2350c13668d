import { updateKeyDescription } from '../../core/keys.ts';
import { F } from '../fields.ts';
import { defineOperation, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'update-key-description',
  method: 'POST',
  actions: ['kms:cmk:update', 'kms:cmk:updateKeyDescription'],
  mutates: true,
  fields: { key_id: F.keyId, key_description: F.keyDescription, sequence: F.sequence },
  required: ['key_id', 'key_description'],
  response: obj({ key_info: obj({ key_id: str, key_description: str }) }),
  async handle({ store, caller, clock }, body) {
    const key = await store.write((tx) =>
      updateKeyDescription(tx, caller, body.key_id as string, body.key_description as string, clock.now()),
    );
    return { key_info: { key_id: key.keyId, key_description: key.description } };
  },
});
