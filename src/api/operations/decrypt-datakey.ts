import { decryptDataKey } from '../../core/data.ts';
import { requestAad } from '../aad.ts';
import { DATA_FIELDS, F } from '../fields.ts';
import { defineOperation, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'decrypt-datakey',
  method: 'POST',
  actions: ['kms:dek:crypto', 'kms:cmk:decryptDataKey'],
  fields: { key_id: F.keyId, cipher_text: F.cipherTextHex, datakey_cipher_length: F.dataKeyCipherLength, ...DATA_FIELDS },
  required: ['key_id', 'cipher_text', 'datakey_cipher_length'],
  response: obj({ data_key: str, datakey_length: str, datakey_dgst: str }),
  async handle({ store, caller, clock, rootKey, config }, body) {
    const input = {
      keyId: body.key_id as string, ciphertextHex: body.cipher_text as string, length: body.datakey_cipher_length as string, aad: requestAad(body),
      legacy: config.legacyEnvelopes,
    };
    const { dekHex, digestHex, length } = await store.read((tx) => decryptDataKey(tx, caller, rootKey, input, clock.now()));
    return { data_key: dekHex, datakey_length: String(length), datakey_dgst: digestHex };
  },
});
