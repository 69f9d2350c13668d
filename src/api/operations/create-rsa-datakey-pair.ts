import { createDataKeyPair } from '../../core/datakey-pairs.ts';
import { requestAad } from '../aad.ts';
import { F } from '../fields.ts';
import { defineOperation, obj, str, type Operation } from '../operation.ts';

/** create-rsa-datakey-pair and create-ec-datakey-pair differ only in the key specs they take. */
export function dataKeyPairCreation(family: 'rsa' | 'ec'): Operation {
  return defineOperation({
    name: `create-${family}-datakey-pair`,
    method: 'POST',
    actions: ['kms:dek:create', family === 'rsa' ? 'kms:cmk:createRsaDatakeyPair' : 'kms:cmk:createEcDatakeyPair'],
    fields: {
      key_id: F.keyId, key_spec: family === 'rsa' ? F.rsaPairSpec : F.ecPairSpec, with_plain_text: F.withPlainText,
      additional_authenticated_data: F.aad, sequence: F.sequence,
    },
    required: ['key_id', 'key_spec'],
    response: obj({ key_id: str, key_spec: str, public_key: str, private_key_cipher_text: str, private_key_plain_text: str }, ['private_key_plain_text']),
    async handle({ store, caller, clock, rootKey, generate }, body) {
      const input = {
        keyId: body.key_id as string, spec: body.key_spec as string, withPlaintext: (body.with_plain_text as boolean | undefined) ?? true,
        aad: requestAad(body),
      };
      const pair = await createDataKeyPair(store, caller, rootKey, input, () => clock.now(), generate);
      return {
        key_id: pair.key.keyId, key_spec: input.spec, public_key: pair.publicKey, private_key_cipher_text: pair.privateKeyCiphertext,
        ...(pair.privateKeyPlaintext !== null && { private_key_plain_text: pair.privateKeyPlaintext }),
      };
    },
  });
}

export default dataKeyPairCreation('rsa');
