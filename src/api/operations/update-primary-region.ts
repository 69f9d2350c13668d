import { updatePrimaryRegion } from '../../core/regions.ts';
import { F } from '../fields.ts';
import { defineOperation, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'update-primary-region',
  method: 'PUT',
  path: '/v2/{project_id}/kms/keys/{key_id}/update-primary-region',
  actions: ['kms:cmk:updatePrimaryRegion', 'kms:cmk:update'],
  mutates: true,
  fields: { key_id: F.keyId, primary_region: F.region },
  required: ['key_id', 'primary_region'],
  response: obj({ key_id: str, primary_region: str }),
  async handle({ store, caller, clock }, body) {
    const key = await store.write((tx) => updatePrimaryRegion(tx, caller, body.key_id as string, body.primary_region as string, clock.now()));
    return { key_id: key.keyId, primary_region: key.region };
  },
});
