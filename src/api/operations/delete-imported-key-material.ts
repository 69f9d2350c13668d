import { deleteImportedMaterial } from '../../core/import.ts';
import { F } from '../fields.ts';
import { EMPTY, defineOperation } from '../operation.ts';

export default defineOperation({
  name: 'delete-imported-key-material',
  method: 'POST',
  actions: ['kms:cmk:deleteMaterial', 'kms:cmk:deleteImportedKeyMaterial'],
  mutates: true,
  fields: { key_id: F.keyId, sequence: F.sequence },
  required: ['key_id'],
  response: EMPTY,
  async handle({ store, caller, clock }, body) {
    await store.write((tx) => deleteImportedMaterial(tx, caller, body.key_id as string, clock.now()));
    return {};
  },
});
