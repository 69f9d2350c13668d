import { DECISIONS } from '../../core/decisions.ts';
import { kms } from '../../core/errors.ts';
import { listKeystores } from '../../core/keystores.ts';
import { F } from '../fields.ts';
import { arr, defineOperation, int, obj } from '../operation.ts';
import { KEYSTORE_DETAILS_SCHEMA, keystoreDetails } from '../keystore-views.ts';

/** limit (1..1000, default 10) and offset (>= 0) of the GET list calls, as numbers. */
export function limitOffset(body: Record<string, unknown>): { limit: number; offset: number } {
  const limit = body.limit === undefined ? DECISIONS.defaultKeystoreLimit : Number(body.limit);
  if (!(limit >= 1 && limit <= DECISIONS.maxLimit)) throw kms('KMS.1601');
  const offset = body.offset === undefined ? 0 : Number(body.offset);
  if (!(offset >= 0 && Number.isSafeInteger(offset))) throw kms('KMS.1603');
  return { limit, offset };
}

export default defineOperation({
  name: 'list-keystores',
  method: 'GET',
  path: '/v1.0/{project_id}/keystores',
  query: ['limit', 'offset'],
  actions: ['kms:partition:list', 'kms:keystore:list'],
  fields: { limit: F.listLimit, offset: F.listOffset },
  required: [],
  response: obj({ total: int, keystores: arr(KEYSTORE_DETAILS_SCHEMA) }),
  async handle({ store, caller }, body) {
    const { limit, offset } = limitOffset(body);
    const page = await store.read((tx) => listKeystores(tx, caller, offset, limit));
    return { total: page.total, keystores: page.items.map(keystoreDetails) };
  },
});
