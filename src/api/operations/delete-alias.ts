import { deleteAliases } from '../../core/aliases.ts';
import { F } from '../fields.ts';
import { EMPTY, defineOperation } from '../operation.ts';

export default defineOperation({
  name: 'delete-alias',
  method: 'DELETE',
  path: '/v1.0/{project_id}/kms/aliases',
  // DELETE with a JSON body {key_id, aliases}; 204 as the DeleteAlias page documents.
  status: 204,
  actions: ['kms:alias:delete'],
  mutates: true,
  fields: { key_id: F.keyId, aliases: F.aliasList },
  required: ['key_id', 'aliases'],
  response: EMPTY,
  async handle({ store, caller, clock }, body) {
    await store.write((tx) => deleteAliases(tx, caller, body.key_id as string, body.aliases, clock.now()));
    return {};
  },
});
