import { supportedRegions } from '../../core/regions.ts';
import { F } from '../fields.ts';
import { arr, defineOperation, obj, str } from '../operation.ts';
import { limitOffset } from './list-keystores.ts';

export default defineOperation({
  name: 'list-support-regions',
  method: 'GET',
  path: '/v2/{project_id}/kms/regions',
  query: ['limit', 'offset'],
  actions: ['kms:cmk:list', 'kms:region:list'],
  fields: { limit: F.listLimit, offset: F.listOffset },
  required: [],
  response: obj({ regions: arr(str) }),
  async handle({ caller, config }, body) {
    const { limit, offset } = limitOffset(body);
    return { regions: supportedRegions(caller, config.region).slice(offset, offset + limit) };
  },
});
