import { requireAction } from '../../core/access.ts';
import { kms } from '../../core/errors.ts';
import { DECISIONS } from '../../core/decisions.ts';
import { arr, defineOperation, int, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'user-quotas',
  method: 'GET',
  actions: ['kms:cmk:getQuota'],
  fields: {},
  required: [],
  response: obj({ quotas: obj({ resources: arr(obj({ type: str, used: int, quota: int })) }) }),
  async handle({ store, caller, config }) {
    requireAction(caller);
    const [keys, grants] = await store.read(async (tx) => [
      await tx.countCustomerKeys(caller.accountId, caller.region),
      // grant_per_CMK is a per-key quota; "used" reports the fullest key.
      await tx.maxGrantsOnOneKey(caller.accountId, caller.region),
    ]);
    return {
      quotas: {
        resources: [
          { type: 'CMK', used: keys, quota: config.maxKeys },
          { type: 'grant_per_CMK', used: grants, quota: config.maxGrantsPerKey },
        ],
      },
    };
  },
});
