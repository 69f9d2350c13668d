import { revokeGrant } from '../../core/grants.ts';
import { F } from '../fields.ts';
import { EMPTY, defineOperation } from '../operation.ts';

export default defineOperation({
  name: 'revoke-grant',
  method: 'POST',
  actions: ['kms:grant:revoke', 'kms:cmk:revokeGrant'],
  mutates: true,
  fields: { key_id: F.keyId, grant_id: F.grantId, sequence: F.sequence },
  required: ['key_id', 'grant_id'],
  response: EMPTY,
  async handle({ store, caller, clock }, body) {
    await store.write((tx) => revokeGrant(tx, caller, body.key_id as string, body.grant_id as string, clock.now()));
    return {};
  },
});
