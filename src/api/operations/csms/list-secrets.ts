import { kms } from '../../../core/errors.ts';
import { DECISIONS } from '../../../core/decisions.ts';
import { listSecrets } from '../../../core/secrets/secrets.ts';
import { arr, defineOperation, obj } from '../../operation.ts';
import { C } from './fields.ts';
import { PAGE_INFO_SCHEMA, SECRET_SCHEMA, pageInfo, secretView } from './views.ts';

/** Secrets' metadata (never a value), by name; `marker` is the last name of the previous page. */
export default defineOperation({
  name: 'list-secrets',
  service: 'csms',
  method: 'GET',
  path: '/v1/{project_id}/secrets',
  query: ['limit', 'marker', 'event_name'],
  actions: ['csms:secret:list'],
  fields: { limit: C.limit, marker: C.marker, event_name: C.text },
  required: [],
  response: obj({ secrets: arr(SECRET_SCHEMA), page_info: PAGE_INFO_SCHEMA }),
  async handle({ store, caller, clock }, body) {
    const limit = body.limit === undefined ? DECISIONS.csmsDefaultLimit : Number(body.limit);
    if (!(limit >= 1 && limit <= DECISIONS.maxLimit)) throw kms('CSMS.0002');
    // Secrets subscribed to an event: kmsd serves no events, so none is.
    if (body.event_name !== undefined) return { secrets: [], page_info: pageInfo(null, null, 0) };
    const marker = body.marker as string | undefined;
    const { secrets, nextMarker } = await store.read((tx) => listSecrets(tx, caller, marker, limit, clock.now()));
    return { secrets: secrets.map(secretView), page_info: pageInfo(nextMarker, marker ?? null, secrets.length) };
  },
});
