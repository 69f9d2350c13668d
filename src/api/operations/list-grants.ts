import { listGrants } from '../../core/grants.ts';
import { pageInfo, pageRequest } from '../../core/paging.ts';
import type { Store } from '../../store/store.ts';
import { F } from '../fields.ts';
import { Serialized, defineOperation } from '../operation.ts';
import { GRANT_LIST_SCHEMA, grantList } from '../views.ts';
import { lazySerializerCompiler } from '../schema-compilers.ts';

// Answers are rendered once through the response schema (the same allow-list the edge applies)
// and reused while the key's grants are unchanged; kept by store, as several servers (tests)
// may share this process. Compiled at the first list, not at start.
const render = lazySerializerCompiler({ schema: GRANT_LIST_SCHEMA });
const answers = new WeakMap<Store, Map<string, Serialized>>();

export default defineOperation({
  name: 'list-grants',
  method: 'POST',
  actions: ['kms:grant:list', 'kms:cmk:listGrants'],
  fields: { key_id: F.keyId, limit: F.limit, marker: F.marker, sequence: F.sequence },
  required: ['key_id'],
  response: GRANT_LIST_SCHEMA,
  async handle({ store, caller, clock }, body) {
    const request = pageRequest(body.limit as string | undefined, body.marker as string | undefined);
    if (!answers.has(store)) answers.set(store, new Map());
    const kept = answers.get(store) as Map<string, Serialized>;
    return store.read((tx) =>
      listGrants(tx, caller, body.key_id as string, request, clock.now(),
        (page) => new Serialized(render(grantList(page.items, pageInfo(page, request)))), kept));
  },
});
