import { requireAction } from '../../core/access.ts';
import { kms } from '../../core/errors.ts';
import { DECISIONS } from '../../core/decisions.ts';
import { defineOperation, int, obj } from '../operation.ts';

export default defineOperation({
  name: 'user-instances',
  method: 'GET',
  actions: ['kms:cmk:getInstance'],
  fields: {},
  required: [],
  response: obj({ instance_num: int }),
  async handle({ store, caller }) {
    requireAction(caller);
    return { instance_num: await store.read((tx) => tx.countCustomerKeys(caller.accountId, caller.region)) };
  },
});
