import { encryptDataKey } from '../../core/data.ts';
import { requestAad } from '../aad.ts';
import { DATA_FIELDS, F } from '../fields.ts';
import { defineOperation, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'encrypt-datakey',
  method: 'POST',
  actions: ['kms:dek:crypto', 'kms:cmk:encryptDataKey'],
  fields: { key_id: F.keyId, plain_text: F.plainTextHex, datakey_plain_length: F.dataKeyPlainLength, ...DATA_FIELDS },
  required: ['key_id', 'plain_text', 'datakey_plain_length'],
  response: obj({ key_id: str, cipher_text: str, datakey_length: str }),
  async handle({ store, caller, clock, rootKey }, body) {
    const input = { keyId: body.key_id as string, plaintextHex: body.plain_text as string, length: body.datakey_plain_length as string, aad: requestAad(body) };
    const { key, ciphertext, length } = await store.read((tx) => encryptDataKey(tx, caller, rootKey, input, clock.now()));
    return { key_id: key.keyId, cipher_text: ciphertext.toString('hex').toUpperCase(), datakey_length: String(length) };
  },
});
