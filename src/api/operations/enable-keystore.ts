import { setKeystoreState } from '../../core/keystores.ts';
import { F } from '../fields.ts';
import { defineOperation } from '../operation.ts';
import { KEYSTORE_STATE_SCHEMA, keystoreState } from '../keystore-views.ts';

export default defineOperation({
  name: 'enable-keystore',
  method: 'POST',
  path: '/v1.0/{project_id}/keystores/{keystore_id}/enable',
  actions: ['kms:partition:enable', 'kms:keystore:enable'],
  mutates: true,
  fields: { keystore_id: F.keystorePathId },
  required: ['keystore_id'],
  response: KEYSTORE_STATE_SCHEMA,
  async handle({ store, caller }, body) {
    return keystoreState(await store.write((tx) => setKeystoreState(tx, caller, body.keystore_id as string, true)));
  },
});
