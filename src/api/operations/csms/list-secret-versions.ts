import { kms } from '../../../core/errors.ts';
import { DECISIONS } from '../../../core/decisions.ts';
import { listVersions } from '../../../core/secrets/versions.ts';
import { arr, defineOperation, obj } from '../../operation.ts';
import { C } from './fields.ts';
import { PAGE_INFO_SCHEMA, VERSION_METADATA_SCHEMA, pageInfo, versionMetadata } from './views.ts';

/** Versions' metadata (no values), oldest first; `marker` is the last version id of the previous page. */
export default defineOperation({
  name: 'list-secret-versions',
  service: 'csms',
  method: 'GET',
  path: '/v1/{project_id}/secrets/{secret_name}/versions',
  query: ['marker', 'limit'],
  actions: ['csms:secret:listVersion', 'csms:secretVersion:list'],
  fields: { secret_name: C.secretName, marker: C.versionId, limit: C.limit },
  required: ['secret_name'],
  response: obj({ version_metadatas: arr(VERSION_METADATA_SCHEMA), page_info: PAGE_INFO_SCHEMA }),
  async handle({ store, caller, clock }, body) {
    const limit = body.limit === undefined ? DECISIONS.csmsDefaultLimit : Number(body.limit);
    if (!(limit >= 1 && limit <= DECISIONS.maxLimit)) throw kms('CSMS.0002');
    const page = await store.read((tx) => listVersions(tx, caller, body.secret_name as string, body.marker as string | undefined, limit, clock.now()));
    return {
      version_metadatas: page.versions.map(({ version, stages }) => versionMetadata(page.secret.name, version, stages)),
      page_info: pageInfo(page.nextMarker, page.previousMarker, page.versions.length),
    };
  },
});
