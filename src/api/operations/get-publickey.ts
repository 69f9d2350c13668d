import { getPublicKey } from '../../core/asymmetric.ts';
import { F } from '../fields.ts';
import { defineOperation, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'get-publickey',
  method: 'POST',
  actions: ['kms:cmk:getPublicKey'],
  fields: { key_id: F.keyId, sequence: F.sequence },
  required: ['key_id'],
  response: obj({ key_id: str, public_key: str }),
  async handle({ store, caller, clock, rootKey }, body) {
    const { key, publicKey } = await store.read((tx) => getPublicKey(tx, caller, rootKey, body.key_id as string, clock.now()));
    return { key_id: key.keyId, public_key: publicKey };
  },
});
