import { checkImportable, importParameters } from '../../core/import.ts';
import { F } from '../fields.ts';
import { defineOperation, int, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'get-parameters-for-import',
  method: 'POST',
  actions: ['kms:cmk:getMaterial', 'kms:cmk:getImportParameters'],
  fields: { key_id: F.keyId, wrapping_algorithm: F.wrappingAlgorithm, sequence: F.sequence },
  required: ['key_id', 'wrapping_algorithm'],
  response: obj({ key_id: str, import_token: str, expiration_time: int, public_key: str }),
  async handle({ store, caller, clock, rootKey, generate }, body) {
    const now = clock.now();
    const algorithm = body.wrapping_algorithm as string;
    const key = await store.read((tx) => checkImportable(tx, caller, body.key_id as string, algorithm, now));
    const p = await importParameters(rootKey, key, algorithm, now, generate);
    return { key_id: p.key.keyId, import_token: p.importToken, expiration_time: p.expirationTime, public_key: p.publicKey };
  },
});
