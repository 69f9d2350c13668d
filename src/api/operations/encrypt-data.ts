import { encryptData } from '../../core/data.ts';
import { requestAad } from '../aad.ts';
import { kms } from '../../core/errors.ts';
import { DATA_FIELDS, F } from '../fields.ts';
import { defineOperation, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'encrypt-data',
  method: 'POST',
  actions: ['kms:cmk:crypto', 'kms:cmk:encryptData'],
  fields: { key_id: F.keyId, plain_text: F.plainText, encryption_algorithm: F.encryptionAlgorithm, ...DATA_FIELDS },
  required: ['key_id', 'plain_text'],
  response: obj({ key_id: str, cipher_text: str }),
  async handle({ store, caller, clock, rootKey }, body) {
    // Asymmetric algorithms need asymmetric keys, which kmsd does not serve.
    if ((body.encryption_algorithm ?? 'SYMMETRIC_DEFAULT') !== 'SYMMETRIC_DEFAULT') throw kms('KMS.2105');
    const input = { keyId: body.key_id as string, plaintext: body.plain_text as string, aad: requestAad(body) };
    const { key, ciphertext } = await store.read((tx) => encryptData(tx, caller, rootKey, input, clock.now()));
    return { key_id: key.keyId, cipher_text: ciphertext.toString('base64') };
  },
});
