import { listKeys } from '../../core/keys.ts';
import { DECISIONS } from '../../core/decisions.ts';
import { pageInfo, pageRequest } from '../../core/paging.ts';
import { F } from '../fields.ts';
import { arr, defineOperation, obj, str } from '../operation.ts';
import { KEY_DETAILS_SCHEMA, PAGE_SCHEMA, keyDetails } from '../views.ts';

export default defineOperation({
  name: 'list-keys',
  method: 'POST',
  actions: ['kms:cmk:list'],
  fields: {
    limit: F.limit,
    marker: F.marker,
    key_state: F.keyStateFilter,
    key_spec: F.listKeySpec,
    enterprise_project_id: F.enterpriseProjectId,
    sequence: F.sequence,
  },
  required: [],
  response: obj({ keys: arr(str), key_details: arr(KEY_DETAILS_SCHEMA), ...PAGE_SCHEMA }),
  async handle({ store, caller }, body) {
    const request = pageRequest(body.limit as string | undefined, body.marker as string | undefined, DECISIONS.listKeysMaxLimit);
    // As on the real service, key_spec defaults to AES_256; "ALL" lists every spec.
    const filter = { state: body.key_state as string | undefined, spec: (body.key_spec as string | undefined) ?? 'AES_256' };
    const page = await store.read((tx) => listKeys(tx, caller, filter, request));
    return { keys: page.items.map((k) => k.keyId), key_details: page.items.map(keyDetails), ...pageInfo(page, request) };
  },
});
