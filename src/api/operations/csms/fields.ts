import { KEY_ID_PATTERN, type Field } from '../../fields.ts';

/**
 * Request fields of the CSMS operations: every bad value is CSMS.0002 (the error page has no
 * finer codes); rules the schema cannot say are in core/secrets/.
 */
const text = (pattern: string): Field => ({ schema: { type: 'string', pattern }, code: 'CSMS.0002' });
const any = (schema: Record<string, unknown>): Field => ({ schema, code: 'CSMS.0002' });

/**
 * Letters, digits, `_`, `-`, `.` (Huawei's rule), 1-64, but not only periods: `.` and `..` are
 * path segments clients resolve away, so such a secret or stage could never be named again.
 */
export const SECRET_NAME_PATTERN = '^(?![.]+$)[a-zA-Z0-9._-]{1,64}$';

export const C = {
  secretName: text(SECRET_NAME_PATTERN),
  secretId: text('^[0-9a-zA-Z-]{1,64}$'),
  kmsKeyId: text(KEY_ID_PATTERN),
  description: any({ type: 'string', maxLength: 2048 }),
  secretString: { ...any({ type: 'string' }), exact: 'string' },
  secretBinary: { ...any({ type: 'string' }), exact: 'string' },
  secretType: any({ type: 'string', enum: ['COMMON', 'RDS', 'RDS-FG', 'GaussDB-FG'] }),
  autoRotation: any({ type: 'boolean' }),
  text: any({ type: 'string', maxLength: 1024 }),
  eventSubscriptions: any({ type: 'array', maxItems: 1, items: { type: 'string' } }),
  enterpriseProjectId: text('^[0-9a-zA-Z-]{1,36}$'),
  limit: text('^[0-9]{1,10}$'),
  marker: text('^[a-zA-Z0-9._-]{1,64}$'),
  versionId: text('^(v[0-9]{1,10}|latest)$'),
  stageName: text(SECRET_NAME_PATTERN),
  versionStages: any({ type: 'array', items: { type: 'string' } }),
  expireTime: any({ type: 'integer', minimum: 0, maximum: 32503680000000 }),
  recoveryWindow: { ...any({ type: 'integer' }), exact: 'integer' },
  tag: any({ type: 'object' }),
  tagList: any({ type: 'array' }),
  tagKey: any({ type: 'string' }),
  action: any({ type: 'string' }),
  matches: any({ type: 'array' }),
  sequence: text('^[0-9A-Za-z-]{36}$'),
  passwordLength: any({ type: 'integer' }),
  flag: any({ type: 'boolean' }),
  excludeCharacters: any({ type: 'string', maxLength: 255 }),
} as const satisfies Record<string, Field>;

/** Creation fields the SDKs send that kmsd takes but does not serve (rotation, events): see docs/csms.md. */
export const UNSERVED_CREATE_FIELDS = {
  secret_type: C.secretType,
  auto_rotation: C.autoRotation,
  rotation_period: C.text,
  rotation_config: C.text,
  event_subscriptions: C.eventSubscriptions,
  enterprise_project_id: C.enterpriseProjectId,
  rotation_func_urn: C.text,
} as const;
