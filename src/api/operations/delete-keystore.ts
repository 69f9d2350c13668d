import { deleteKeystore } from '../../core/keystores.ts';
import { F } from '../fields.ts';
import { EMPTY, defineOperation } from '../operation.ts';

export default defineOperation({
  name: 'delete-keystore',
  method: 'DELETE',
  path: '/v1.0/{project_id}/keystores/{keystore_id}',
  actions: ['kms:partition:delete', 'kms:keystore:delete'],
  mutates: true,
  fields: { keystore_id: F.keystorePathId },
  required: ['keystore_id'],
  response: EMPTY,
  async handle({ store, caller }, body) {
    await store.write((tx) => deleteKeystore(tx, caller, body.keystore_id as string));
    return {};
  },
});
