import { listRetirableGrants } from '../../core/grants.ts';
import { pageInfo, pageRequest } from '../../core/paging.ts';
import { F } from '../fields.ts';
import { defineOperation } from '../operation.ts';
import { GRANT_LIST_SCHEMA, grantList } from '../views.ts';

export default defineOperation({
  name: 'list-retirable-grants',
  method: 'POST',
  actions: ['kms:grant:list', 'kms::listRetirableGrants', 'kms:cmk:listRetirableGrants'],
  fields: { limit: F.limit, marker: F.marker, sequence: F.sequence },
  required: [],
  response: GRANT_LIST_SCHEMA,
  async handle({ store, caller }, body) {
    const request = pageRequest(body.limit as string | undefined, body.marker as string | undefined);
    const page = await store.read((tx) => listRetirableGrants(tx, caller, request));
    return grantList(page.items, pageInfo(page, request));
  },
});
