import { createAlias } from '../../core/aliases.ts';
import { F } from '../fields.ts';
import { defineOperation } from '../operation.ts';
import { ALIAS_SCHEMA, aliasView } from '../views.ts';

export default defineOperation({
  name: 'create-alias',
  method: 'POST',
  path: '/v1.0/{project_id}/kms/aliases',
  // 201 with the AliasEntity, as the CreateAlias page documents.
  status: 201,
  actions: ['kms:alias:create'],
  mutates: true,
  fields: { key_id: F.keyId, alias: F.alias },
  required: ['key_id', 'alias'],
  response: ALIAS_SCHEMA,
  async handle({ store, caller, clock }, body) {
    return aliasView(await store.write((tx) => createAlias(tx, caller, body.key_id as string, body.alias, clock.now())));
  },
});
