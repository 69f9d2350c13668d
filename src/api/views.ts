import type { Grant, Key, KeyAlias, Tag } from '../core/model.ts';
import type { PageInfo } from '../core/paging.ts';
import { arr, int, obj, str } from './operation.ts';

// Wire views of core records, with the string types the SDK models declare
// (key_state "2", timestamps as ms strings), and their response schemas.

const ms = (t: number | null): string => (t === null ? '' : String(t));

export function keyDetails(key: Key): Record<string, string> {
  return {
    key_id: key.keyId,
    domain_id: key.accountId,
    key_alias: key.alias,
    realm: key.region,
    key_spec: key.spec,
    key_usage: key.usage,
    key_description: key.description,
    creation_date: ms(key.creationDate),
    scheduled_deletion_date: ms(key.scheduledDeletionDate),
    key_state: key.state,
    default_key_flag: key.defaultKey ? '1' : '0',
    key_type: '1',
    expiration_time: ms(key.materialExpires),
    origin: key.origin,
    key_rotation_enabled: key.rotationEnabled ? 'true' : 'false',
    sys_enterprise_project_id: '0',
    keystore_id: key.keystoreId,
  };
}

export const KEY_DETAILS_SCHEMA = obj(
  Object.fromEntries(
    [
      'key_id', 'domain_id', 'key_alias', 'realm', 'key_spec', 'key_usage', 'key_description', 'creation_date',
      'scheduled_deletion_date', 'key_state', 'default_key_flag', 'key_type', 'expiration_time', 'origin',
      'key_rotation_enabled', 'sys_enterprise_project_id', 'keystore_id',
    ].map((name) => [name, str]),
  ),
);

export function grantView(grant: Grant): Record<string, unknown> {
  return {
    key_id: grant.keyId,
    grant_id: grant.grantId,
    grantee_principal: grant.granteePrincipal,
    grantee_principal_type: grant.granteeType,
    operations: grant.operations,
    issuing_principal: grant.issuingPrincipal,
    creation_date: String(grant.creationDate),
    ...(grant.name !== null && { name: grant.name }),
    ...(grant.retiringPrincipal !== null && { retiring_principal: grant.retiringPrincipal }),
  };
}

const GRANT_SCHEMA = obj({
  key_id: str, grant_id: str, grantee_principal: str, grantee_principal_type: str, operations: arr(str),
  issuing_principal: str, creation_date: str, name: str, retiring_principal: str,
}, ['name', 'retiring_principal']);

export const PAGE_SCHEMA = { next_marker: str, truncated: str, total: int };

export const GRANT_LIST_SCHEMA = obj({ grants: arr(GRANT_SCHEMA), ...PAGE_SCHEMA });

export function grantList(items: Grant[], page: PageInfo): Record<string, unknown> {
  return { grants: items.map(grantView), ...page };
}

export const KEY_STATE_SCHEMA = obj({ key_id: str, key_state: str });
export const keyState = (key: Key): { key_id: string; key_state: string } => ({ key_id: key.keyId, key_state: key.state });

export const TAG_SCHEMA = obj({ key: str, value: str });
export const tagView = (tag: Tag): { key: string; value: string } => ({ key: tag.key, value: tag.value });

/** Alias times as the API pages show them: "2024-04-01T00:00:00Z" (UTC, whole seconds). */
const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export const ALIAS_SCHEMA = obj({ domain_id: str, key_id: str, alias: str, alias_urn: str, create_time: str, update_time: str });
export function aliasView(alias: KeyAlias): Record<string, string> {
  return {
    domain_id: alias.accountId,
    key_id: alias.keyId,
    alias: alias.alias,
    alias_urn: `kms:${alias.region}:${alias.accountId}:alias:${alias.alias}`,
    create_time: isoSeconds(alias.createTime),
    update_time: isoSeconds(alias.updateTime),
  };
}
