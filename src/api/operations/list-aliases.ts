import { listAliases } from '../../core/aliases.ts';
import { F } from '../fields.ts';
import { Serialized, arr, defineOperation, int, obj, str } from '../operation.ts';
import { ALIAS_SCHEMA, aliasView } from '../views.ts';

/**
 * The Go SDK declares ListAliasesResponse.Body as []ListAliasResponseBody and decodes the whole
 * body into that slice, so it fails on the documented example (an object). Its User-Agent
 * starts with this; every other client (the Terraform provider, Python, Node) gets the object.
 */
const GO_SDK = 'huaweicloud-usdk-go/';

export default defineOperation({
  name: 'list-aliases',
  method: 'GET',
  path: '/v1.0/{project_id}/kms/aliases',
  query: ['key_id', 'limit', 'marker'],
  actions: ['kms:alias:list'],
  fields: { key_id: F.keyId, limit: F.limit, marker: F.aliasMarker },
  required: [],
  // The API page's example: {"aliases": [AliasEntity], "page_info": {"next_marker", "current_count"}}.
  response: obj({ aliases: arr(ALIAS_SCHEMA), page_info: obj({ next_marker: str, current_count: int }) }),
  async handle({ store, caller, userAgent }, body) {
    const page = await store.read((tx) =>
      listAliases(tx, caller, body.key_id as string | undefined, body.limit as string | undefined, body.marker as string | undefined));
    const answer = { aliases: page.aliases.map(aliasView), page_info: { next_marker: page.nextMarker, current_count: page.aliases.length } };
    // Every value is a string or an integer kmsd made: JSON.stringify renders exactly the schema's shape.
    return userAgent.startsWith(GO_SDK) ? new Serialized(JSON.stringify([answer])) : answer;
  },
});
