import { encryptData } from '../../core/data.ts';
import { requestAad } from '../aad.ts';
import { encryptDataAsymmetric } from '../../core/asymmetric.ts';
import { DATA_FIELDS, F } from '../fields.ts';
import { defineOperation, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'encrypt-data',
  method: 'POST',
  actions: ['kms:cmk:crypto', 'kms:cmk:encryptData'],
  fields: { key_id: F.keyId, plain_text: F.plainText, encryption_algorithm: F.encryptionAlgorithm, ...DATA_FIELDS },
  required: ['key_id', 'plain_text'],
  response: obj({ key_id: str, cipher_text: str }),
  async handle({ store, caller, clock, rootKey, abandoned }, body) {
    const algorithm = (body.encryption_algorithm as string | undefined) ?? 'SYMMETRIC_DEFAULT';
    if (algorithm !== 'SYMMETRIC_DEFAULT') {
      // RSA-OAEP under an asymmetric key: the ciphertext is the bare OAEP output (core/asymmetric.ts).
      const asymmetric = { keyId: body.key_id as string, algorithm, plaintext: Buffer.from(body.plain_text as string, 'utf8') };
      const { key, ciphertext } = await store.read((tx) => encryptDataAsymmetric(tx, caller, rootKey, asymmetric, clock.now(), abandoned()));
      return { key_id: key.keyId, cipher_text: ciphertext.toString('base64') };
    }
    const input = { keyId: body.key_id as string, plaintext: body.plain_text as string, aad: requestAad(body) };
    const { key, ciphertext } = await store.read((tx) => encryptData(tx, caller, rootKey, input, clock.now()));
    return { key_id: key.keyId, cipher_text: ciphertext.toString('base64') };
  },
});
