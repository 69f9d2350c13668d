import { updateKeyAlias } from '../../core/keys.ts';
import { F } from '../fields.ts';
import { defineOperation, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'update-key-alias',
  method: 'POST',
  actions: ['kms:cmk:update', 'kms:cmk:updateKeyAlias'],
  mutates: true,
  fields: { key_id: F.keyId, key_alias: F.keyAlias, sequence: F.sequence },
  required: ['key_id', 'key_alias'],
  response: obj({ key_info: obj({ key_id: str, key_alias: str }) }),
  async handle({ store, caller, clock }, body) {
    const key = await store.write((tx) => updateKeyAlias(tx, caller, body.key_id as string, body.key_alias as string, clock.now()));
    return { key_info: { key_id: key.keyId, key_alias: key.alias } };
  },
});
