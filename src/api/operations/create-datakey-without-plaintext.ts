import { createDataKey, dataKeyLength } from '../../core/data.ts';
import { requestAad } from '../aad.ts';
import { DATA_FIELDS, F } from '../fields.ts';
import { defineOperation, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'create-datakey-without-plaintext',
  method: 'POST',
  actions: ['kms:dek:create', 'kms:cmk:createDataKeyWithoutPlaintext'],
  fields: { key_id: F.keyId, key_spec: F.dataKeySpec, datakey_length: F.dataKeyLength, ...DATA_FIELDS },
  required: ['key_id'],
  response: obj({ key_id: str, cipher_text: str }),
  async handle({ store, caller, clock, rootKey }, body) {
    const length = dataKeyLength(body.datakey_length as string | undefined, body.key_spec as string | undefined);
    const input = { keyId: body.key_id as string, length, withPlaintext: false, aad: requestAad(body) };
    const { key, ciphertext, plaintextHex } = await store.read((tx) => createDataKey(tx, caller, rootKey, input, clock.now()));
    return { key_id: key.keyId, ...(plaintextHex !== null && { plain_text: plaintextHex }), cipher_text: ciphertext.toString('hex').toUpperCase() };
  },
});
