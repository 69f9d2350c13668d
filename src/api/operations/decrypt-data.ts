import { decryptData } from '../../core/data.ts';
import { requestAad } from '../aad.ts';
import { kms } from '../../core/errors.ts';
import { DECISIONS } from '../../core/decisions.ts';
import { decryptDataAsymmetric } from '../../core/asymmetric.ts';
import { DATA_FIELDS, F } from '../fields.ts';
import { defineOperation, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'decrypt-data',
  method: 'POST',
  actions: ['kms:cmk:crypto', 'kms:cmk:decryptData'],
  fields: { cipher_text: F.cipherTextBase64, key_id: F.keyId, encryption_algorithm: F.encryptionAlgorithm, ...DATA_FIELDS },
  required: ['cipher_text'],
  response: obj({ key_id: str, plain_text: str, plain_text_base64: str }),
  async handle({ store, caller, clock, rootKey, config, abandoned }, body) {
    const algorithm = (body.encryption_algorithm as string | undefined) ?? 'SYMMETRIC_DEFAULT';
    if (algorithm !== 'SYMMETRIC_DEFAULT') {
      // An asymmetric ciphertext names no key: key_id is then required.
      if (body.key_id === undefined) throw kms(DECISIONS.asymmetricNeedsKeyId);
      const asymmetric = { keyId: body.key_id as string, algorithm, ciphertext: Buffer.from(body.cipher_text as string, 'base64') };
      const { key, plaintext } = await store.read((tx) => decryptDataAsymmetric(tx, caller, rootKey, asymmetric, clock.now(), abandoned()));
      return { key_id: key.keyId, plain_text: plaintext.toString('utf8'), plain_text_base64: plaintext.toString('base64') };
    }
    const input = {
      ciphertext: Buffer.from(body.cipher_text as string, 'base64'), keyId: body.key_id as string | undefined, aad: requestAad(body),
      legacy: config.legacyEnvelopes,
    };
    const { key, plaintext } = await store.read((tx) => decryptData(tx, caller, rootKey, input, clock.now()));
    return { key_id: key.keyId, plain_text: plaintext.toString('utf8'), plain_text_base64: plaintext.toString('base64') };
  },
});
