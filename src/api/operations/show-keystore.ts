import { showKeystore } from '../../core/keystores.ts';
import { F } from '../fields.ts';
import { defineOperation, obj } from '../operation.ts';
import { KEYSTORE_DETAILS_SCHEMA, keystoreDetails } from '../keystore-views.ts';

export default defineOperation({
  name: 'show-keystore',
  method: 'GET',
  path: '/v1.0/{project_id}/keystores/{keystore_id}',
  actions: ['kms:partition:get', 'kms:keystore:get'],
  fields: { keystore_id: F.keystorePathId },
  required: ['keystore_id'],
  response: obj({ keystore: KEYSTORE_DETAILS_SCHEMA }),
  async handle({ store, caller }, body) {
    const keystore = await store.read((tx) => showKeystore(tx, caller, body.keystore_id as string));
    return { keystore: keystoreDetails(keystore) };
  },
});
