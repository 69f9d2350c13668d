import { createKey, prepareKeyMaterial } from '../../core/keys.ts';
import { checkTagList } from '../../core/tags.ts';
import { F } from '../fields.ts';
import { defineOperation, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'create-key',
  method: 'POST',
  actions: ['kms:cmk:create'],
  mutates: true,
  fields: {
    key_alias: F.keyAlias,
    key_spec: F.createKeySpec,
    key_usage: F.keyUsage,
    key_description: F.keyDescription,
    origin: F.origin,
    enterprise_project_id: F.enterpriseProjectId,
    keystore_id: F.keystoreId,
    sequence: F.sequence,
    tags: F.tagList,
  },
  required: ['key_alias'],
  response: obj({ key_info: obj({ key_id: str, domain_id: str, region_id: str }) }),
  async handle({ store, caller, clock, rootKey, config, generate }, body) {
    const input = {
      alias: body.key_alias as string,
      spec: (body.key_spec as string | undefined) ?? 'AES_256',
      usage: body.key_usage as string | undefined,
      description: (body.key_description as string | undefined) ?? '',
      origin: (body.origin as 'kms' | 'external' | undefined) ?? 'kms',
      // Tags with the key, in the same transaction (an empty list is no tags).
      ...(Array.isArray(body.tags) && body.tags.length === 0 ? {} : body.tags !== undefined && { tags: checkTagList(body.tags) }),
      keystoreId: body.keystore_id as string | undefined,
    };
    // Asymmetric and HMAC material is made before the write (RSA generation is slow, and async).
    const material = await prepareKeyMaterial(caller, input, generate);
    try {
      const key = await store.write((tx) => createKey(tx, caller, input, rootKey, config, clock.now(), material));
      return { key_info: { key_id: key.keyId, domain_id: key.accountId, region_id: key.region } };
    } finally {
      material?.fill(0);
    }
  },
});
