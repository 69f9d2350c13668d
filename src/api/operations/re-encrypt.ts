import { holdingBoth } from '../../core/access.ts';
import { reEncrypt } from '../../core/datakey-pairs.ts';
import { aadBytes, dekLength } from '../../core/data.ts';
import { F } from '../fields.ts';
import { defineOperation, obj, str } from '../operation.ts';
import decryptData from './decrypt-data.ts';
import encryptData from './encrypt-data.ts';

export default defineOperation({
  name: 're-encrypt',
  method: 'POST',
  actions: ['kms:cmk:reEncrypt', 'kms:cmk:crypto'],
  fields: {
    cipher_text: F.cipherTextBase64, source_key_id: F.keyId, destination_key_id: F.keyId,
    source_additional_authenticated_data: F.aad, destination_additional_authenticated_data: F.aad,
    source_encryption_algorithm: F.encryptionAlgorithm, destination_encryption_algorithm: F.encryptionAlgorithm,
    datakey_cipher_length: F.dataKeyCipherLength, sequence: F.sequence,
  },
  required: ['cipher_text', 'destination_key_id'],
  response: obj({ key_id: str, source_key_id: str, source_encryption_algorithm: str, destination_encryption_algorithm: str, cipher_text: str }),
  async handle({ store, caller, clock, rootKey, config }, body) {
    // kmsd's ciphertexts need no length to be opened; a given one must still be valid (1..1024).
    if (body.datakey_cipher_length !== undefined) dekLength(body.datakey_cipher_length as string, 'KMS.2202');
    const input = {
      ciphertext: Buffer.from(body.cipher_text as string, 'base64'),
      sourceKeyId: body.source_key_id as string | undefined,
      sourceAad: aadBytes(body.source_additional_authenticated_data as string | undefined),
      sourceAlgorithm: (body.source_encryption_algorithm as string | undefined) ?? 'SYMMETRIC_DEFAULT',
      destinationKeyId: body.destination_key_id as string,
      destinationAad: aadBytes(body.destination_additional_authenticated_data as string | undefined),
      destinationAlgorithm: (body.destination_encryption_algorithm as string | undefined) ?? 'SYMMETRIC_DEFAULT',
      legacy: config.legacyEnvelopes,
    };
    // Besides re-encrypt's own action: decrypt-data's right on the source, encrypt-data's on the destination.
    const rights = { source: holdingBoth(caller, caller.forActions(decryptData.actions)), destination: holdingBoth(caller, caller.forActions(encryptData.actions)) };
    const result = await store.read((tx) => reEncrypt(tx, rights, rootKey, input, clock.now()));
    return {
      key_id: result.destination.keyId, source_key_id: result.source.keyId, source_encryption_algorithm: input.sourceAlgorithm,
      destination_encryption_algorithm: input.destinationAlgorithm, cipher_text: result.ciphertext.toString('base64'),
    };
  },
});
