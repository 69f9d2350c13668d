import { replicateKey } from '../../core/regions.ts';
import { F } from '../fields.ts';
import { defineOperation, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'replicate-key',
  method: 'POST',
  path: '/v2/{project_id}/kms/keys/{key_id}/replicate',
  actions: ['kms:cmk:replicate', 'kms:cmk:replicateKey'],
  mutates: true,
  fields: {
    key_id: F.keyId,
    replica_region: F.region,
    key_alias: F.keyAlias,
    key_description: F.keyDescription,
    enterprise_project_id: F.enterpriseProjectId,
    replica_project_id: F.projectId,
    tags: F.replicaTags,
  },
  required: ['key_id', 'replica_region', 'key_alias', 'replica_project_id'],
  response: obj({ key_id: str, domain_id: str, region: str }),
  async handle({ store, caller, clock }, body) {
    return store.write((tx) => replicateKey(tx, caller, body.key_id as string, body.replica_region as string, clock.now()));
  },
});
