import { retireGrant } from '../../core/grants.ts';
import { F } from '../fields.ts';
import { EMPTY, defineOperation } from '../operation.ts';

export default defineOperation({
  name: 'retire-grant',
  method: 'POST',
  actions: ['kms:grant:retire', 'kms:cmk:retireGrant'],
  mutates: true,
  fields: { key_id: F.keyId, grant_id: F.grantId, sequence: F.sequence },
  required: ['key_id', 'grant_id'],
  response: EMPTY,
  async handle({ store, caller, clock }, body) {
    await store.write((tx) => retireGrant(tx, caller, body.key_id as string, body.grant_id as string, clock.now()));
    return {};
  },
});
