import { listGrants } from '../../core/grants.ts';
import { pageInfo, pageRequest } from '../../core/paging.ts';
import { F } from '../fields.ts';
import { defineOperation } from '../operation.ts';
import { GRANT_LIST_SCHEMA, grantList } from '../views.ts';

export default defineOperation({
  name: 'list-grants',
  method: 'POST',
  actions: ['kms:grant:list', 'kms:cmk:listGrants'],
  fields: { key_id: F.keyId, limit: F.limit, marker: F.marker, sequence: F.sequence },
  required: ['key_id'],
  response: GRANT_LIST_SCHEMA,
  async handle({ store, caller, clock }, body) {
    const request = pageRequest(body.limit as string | undefined, body.marker as string | undefined);
    const page = await store.read((tx) => listGrants(tx, caller, body.key_id as string, request, clock.now()));
    return grantList(page.items, pageInfo(page, request));
  },
});
