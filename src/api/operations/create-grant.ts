import { createGrant } from '../../core/grants.ts';
import type { GrantOperation } from '../../core/access.ts';
import type { GranteeType } from '../../core/model.ts';
import { F } from '../fields.ts';
import { defineOperation, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'create-grant',
  method: 'POST',
  actions: ['kms:grant:create', 'kms:cmk:createGrant'],
  mutates: true,
  fields: {
    key_id: F.keyId,
    grantee_principal: F.principal,
    operations: F.operations,
    name: F.grantName,
    retiring_principal: F.principal,
    grantee_principal_type: F.granteeType,
    sequence: F.sequence,
  },
  required: ['key_id', 'grantee_principal', 'operations'],
  response: obj({ grant_id: str }),
  async handle({ store, caller, clock, config }, body) {
    const input = {
      keyId: body.key_id as string,
      granteePrincipal: body.grantee_principal as string,
      granteeType: (body.grantee_principal_type ?? 'user') as GranteeType,
      operations: body.operations as GrantOperation[],
      name: (body.name as string | undefined) ?? null,
      retiringPrincipal: (body.retiring_principal as string | undefined) ?? null,
    };
    const grant = await store.write((tx) => createGrant(tx, caller, input, config, clock.now()));
    return { grant_id: grant.grantId };
  },
});
