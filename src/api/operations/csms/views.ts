import type { Secret, SecretStage, SecretTag, SecretVersion } from '../../../core/secrets/model.ts';
import { arr, int, obj, str } from '../../operation.ts';

// Wire views of secrets, as the SDK models (Secret, VersionMetadata, Version, Stage, PageInfo)
// type them; times are JSON integers in ms (DECISIONS.csmsTimestamps). Their schemas double as
// allow-lists: nothing else reaches the wire.

const nullable = (type: string) => ({ type: [type, 'null'] });
const bool = { type: 'boolean' } as const;

export const SECRET_SCHEMA = obj({
  id: str, name: str, state: str, kms_key_id: str, description: str, create_time: int, update_time: int,
  scheduled_delete_time: nullable('integer'), secret_type: str, auto_rotation: bool, event_subscriptions: arr(str),
  enterprise_project_id: str,
});

export function secretView(s: Secret): Record<string, unknown> {
  return {
    id: s.secretId, name: s.name, state: s.state, kms_key_id: s.kmsKeyId, description: s.description,
    create_time: s.createTime, update_time: s.updateTime, scheduled_delete_time: s.scheduledDeleteTime,
    secret_type: s.secretType, auto_rotation: false, event_subscriptions: [], enterprise_project_id: '0',
  };
}

export const SECRET_ANSWER = obj({ secret: SECRET_SCHEMA });

export const VERSION_METADATA_SCHEMA = obj({
  id: str, create_time: int, expire_time: int, kms_key_id: str, secret_name: str, version_stages: arr(str),
}, ['expire_time']);

export function versionMetadata(secretName: string, v: SecretVersion, stages: readonly string[]): Record<string, unknown> {
  return {
    id: v.versionId, create_time: v.createTime, ...(v.expireTime !== null && { expire_time: v.expireTime }),
    kms_key_id: v.kmsKeyId, secret_name: secretName, version_stages: [...stages].sort(),
  };
}

// secret_string for a text value, secret_binary for a binary one: never both.
export const VERSION_SCHEMA = obj({ version_metadata: VERSION_METADATA_SCHEMA, secret_string: str, secret_binary: str }, ['secret_string', 'secret_binary']);

/** A version with its value: secret_string for text, secret_binary (base64) for binary values. */
export function versionView(secretName: string, v: SecretVersion, stages: readonly string[], value: Buffer): Record<string, unknown> {
  return {
    version_metadata: versionMetadata(secretName, v, stages),
    ...(v.kind === 'string' ? { secret_string: value.toString('utf8') } : { secret_binary: value.toString('base64') }),
  };
}

export const STAGE_SCHEMA = obj({ name: str, update_time: int, secret_name: str, version_id: str });
export const stageView = (secretName: string, s: SecretStage): Record<string, unknown> =>
  ({ name: s.name, update_time: s.updateTime, secret_name: secretName, version_id: s.versionId });

export const PAGE_INFO_SCHEMA = obj({ next_marker: nullable('string'), previous_marker: nullable('string'), current_count: int });
export const pageInfo = (next: string | null, previous: string | null, count: number) =>
  ({ next_marker: next, previous_marker: previous, current_count: count });

export const SECRET_TAG_SCHEMA = obj({ key: str, value: str });
export const secretTagView = (t: SecretTag) => ({ key: t.key, value: t.value });
