import { associateAlias } from '../../core/aliases.ts';
import { F } from '../fields.ts';
import { defineOperation } from '../operation.ts';
import { ALIAS_SCHEMA, aliasView } from '../views.ts';

export default defineOperation({
  name: 'associate-alias',
  method: 'POST',
  path: '/v1.0/{project_id}/kms/alias/associate',
  actions: ['kms:alias:associate', 'kms:alias:update'],
  mutates: true,
  fields: { alias: F.alias, target_key_id: F.keyId },
  required: ['alias', 'target_key_id'],
  response: ALIAS_SCHEMA,
  async handle({ store, caller, clock }, body) {
    return aliasView(await store.write((tx) => associateAlias(tx, caller, body.alias, body.target_key_id as string, clock.now())));
  },
});
