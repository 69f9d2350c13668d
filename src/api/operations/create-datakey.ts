import { createDataKey, dataKeyLength } from '../../core/data.ts';
import { requestAad } from '../aad.ts';
import { DATA_FIELDS, F } from '../fields.ts';
import { defineOperation, obj, str, type Operation } from '../operation.ts';

/** create-datakey and create-datakey-without-plaintext differ only in returning the plaintext. */
export function dataKeyCreation(withPlaintext: boolean): Operation {
  return defineOperation({
    name: withPlaintext ? 'create-datakey' : 'create-datakey-without-plaintext',
    method: 'POST',
    actions: ['kms:dek:create', withPlaintext ? 'kms:cmk:createDataKey' : 'kms:cmk:createDataKeyWithoutPlaintext'],
    fields: { key_id: F.keyId, key_spec: F.dataKeySpec, datakey_length: F.dataKeyLength, ...DATA_FIELDS },
    required: ['key_id'],
    response: withPlaintext ? obj({ key_id: str, plain_text: str, cipher_text: str }) : obj({ key_id: str, cipher_text: str }),
    async handle({ store, caller, clock, rootKey }, body) {
      const length = dataKeyLength(body.datakey_length as string | undefined, body.key_spec as string | undefined);
      const input = { keyId: body.key_id as string, length, withPlaintext, aad: requestAad(body) };
      const { key, ciphertext, plaintextHex } = await store.read((tx) => createDataKey(tx, caller, rootKey, input, clock.now()));
      return { key_id: key.keyId, ...(plaintextHex !== null && { plain_text: plaintextHex }), cipher_text: ciphertext.toString('hex').toUpperCase() };
    },
  });
}

export default dataKeyCreation(true);
