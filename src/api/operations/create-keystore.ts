import { createKeystore } from '../../core/keystores.ts';
import { F } from '../fields.ts';
import { defineOperation, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'create-keystore',
  method: 'POST',
  path: '/v1.0/{project_id}/keystores',
  actions: ['kms:partition:create', 'kms:keystore:create'],
  mutates: true,
  fields: {
    keystore_alias: F.keystoreAlias,
    hsm_cluster_id: F.clusterId,
    hsm_ca_cert: F.hsmCaCert,
    cluster_id: F.clusterId,
    keystore_type: F.keystoreType,
  },
  required: ['keystore_alias'],
  response: obj({ keystore: obj({ keystore_id: str, domain_id: str }) }),
  async handle({ store, caller, clock }, body) {
    const input = {
      alias: body.keystore_alias as string,
      type: body.keystore_type as string | undefined,
      hsmClusterId: body.hsm_cluster_id as string | undefined,
      clusterId: body.cluster_id as string | undefined,
    };
    const keystore = await store.write((tx) => createKeystore(tx, caller, input, clock.now()));
    return { keystore: { keystore_id: keystore.keystoreId, domain_id: keystore.accountId } };
  },
});
