import { importKeyMaterial } from '../../core/import.ts';
import { kms } from '../../core/errors.ts';
import { F } from '../fields.ts';
import { EMPTY, defineOperation } from '../operation.ts';

export default defineOperation({
  name: 'import-key-material',
  method: 'POST',
  actions: ['kms:cmk:importMaterial', 'kms:cmk:importKeyMaterial'],
  mutates: true,
  fields: {
    key_id: F.keyId,
    import_token: F.importToken,
    encrypted_key_material: F.encryptedKeyMaterial,
    encrypted_privatekey: F.encryptedPrivateKey,
    expiration_time: F.materialExpirationTime,
    sequence: F.sequence,
  },
  required: ['key_id', 'import_token', 'encrypted_key_material'],
  response: EMPTY,
  async handle({ store, caller, clock, rootKey }, body) {
    // A wrapped private key belongs to asymmetric imports; kmsd serves symmetric keys only.
    if (body.encrypted_privatekey !== undefined) throw kms('KMS.0331');
    const input = {
      keyId: body.key_id as string,
      importToken: body.import_token as string,
      encryptedKeyMaterial: body.encrypted_key_material as string,
      expirationTime: body.expiration_time as number | undefined,
    };
    await store.write((tx) => importKeyMaterial(tx, caller, rootKey, input, clock.now()));
    return {};
  },
});
