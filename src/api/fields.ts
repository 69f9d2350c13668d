import { GRANT_OPERATIONS } from '../core/access.ts';
import type { KmsErrorCode } from '../core/errors.ts';
import { SIGNING_ALGORITHMS } from '../core/asymmetric.ts';
import { EC_PAIR_SPECS, RSA_PAIR_SPECS } from '../core/datakey-pairs.ts';
import { MAC_ALGORITHMS } from '../core/mac.ts';

/**
 * Request fields: the JSON schema a field must meet, and the KMS error a value that fails
 * it gets. Operations compose their body schema from these, and the edge maps the first
 * schema failure back to its field's code (a missing required field is always KMS.0204).
 *
 * Numbers arrive as JSON numbers or numeric strings: the validator turns numbers into
 * strings before these checks (Fastify's type coercion), and "" has been dropped as absent.
 */
export interface Field {
  schema: Record<string, unknown>;
  code: KmsErrorCode;
  /**
   * The JSON type the body must carry as is, with no coercion (validation otherwise turns
   * "7" into 7 and null into ""): `code` when it differs. For fields whose service rejects
   * the other types (CSMS secret values, recovery_window_in_days).
   */
  exact?: 'string' | 'integer';
}

/** Whether a body value has a field's exact JSON type (see Field.exact). */
export const hasExactType = (field: Field, value: unknown): boolean =>
  field.exact === undefined || value === undefined || (field.exact === 'string' ? typeof value === 'string' : Number.isInteger(value));

const text = (pattern: string, code: KmsErrorCode): Field => ({ schema: { type: 'string', pattern }, code });
const oneOf = (values: readonly string[], code: KmsErrorCode): Field => ({ schema: { type: 'string', enum: values }, code });

export const KEY_ID_PATTERN = '^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$';
export const PRINCIPAL_PATTERN = '^[a-zA-Z0-9]{1,64}$';
export const NAME_PATTERN = '^[a-zA-Z0-9:/_-]{1,255}$';

export const F = {
  keyId: text(KEY_ID_PATTERN, 'KMS.0205'),
  grantId: text('^[A-Fa-f0-9]{64}$', 'KMS.2501'),
  sequence: text('^[0-9A-Za-z-]{36}$', 'KMS.0206'),
  principal: text(PRINCIPAL_PATTERN, 'KMS.2402'),
  granteeType: oneOf(['user', 'domain'], 'KMS.0308'),
  operations: {
    schema: { type: 'array', minItems: 1, maxItems: 64, items: { type: 'string', enum: GRANT_OPERATIONS } },
    code: 'KMS.0308',
  },
  grantName: text(NAME_PATTERN, 'KMS.0308'),
  limit: text('^[0-9]{1,10}$', 'KMS.1601'),
  marker: text('^[0-9]{1,15}$', 'KMS.1602'),
  keyAlias: text(NAME_PATTERN, 'KMS.1101'),
  // No U+0000: PostgreSQL's text cannot hold it, and a description must not depend on the store (DECISIONS.nulInText).
  keyDescription: { schema: { type: 'string', maxLength: 255, pattern: '^[^\\u0000]*$' }, code: 'KMS.1103' },
  createKeySpec: text('^[A-Z0-9_]{1,32}$', 'KMS.1110'),
  keyUsage: oneOf(['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'GENERATE_VERIFY_MAC'], 'KMS.0308'),
  origin: oneOf(['kms', 'external'], 'KMS.0308'),
  enterpriseProjectId: text('^[0-9a-zA-Z-]{1,36}$', 'KMS.0308'),
  keystoreId: text('^[0-9a-zA-Z-]{1,36}$', 'KMS.0308'),
  pendingDays: text('^[0-9]{1,10}$', 'KMS.1401'),
  keyStateFilter: text('^[1-5]$', 'KMS.0308'),
  listKeySpec: oneOf(['AES_256', 'SM4', 'RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_P256', 'EC_P384', 'SM2', 'ALL',
    'SECP256K1', 'ED25519', 'HMAC_256', 'HMAC_384', 'HMAC_512', 'HMAC_SM3'], 'KMS.0308'),
  plainText: { schema: { type: 'string', minLength: 1, maxLength: 4096 }, code: 'KMS.2101' },
  cipherTextBase64: text('^[0-9a-zA-Z+/=]{128,5648}$', 'KMS.2201'),
  plainTextHex: text('^[0-9a-fA-F]{2,4200}$', 'KMS.2101'),
  cipherTextHex: text('^[0-9a-fA-F]{2,4400}$', 'KMS.2201'),
  aad: { schema: { type: 'string', maxLength: 512 }, code: 'KMS.0208' },
  // An object, or (as the Terraform provider's kms_data_key sends it) a string holding its JSON.
  encryptionContext: {
    schema: { anyOf: [{ type: 'object', maxProperties: 64, additionalProperties: { type: 'string' } }, { type: 'string', maxLength: 8192 }] },
    code: 'KMS.0208',
  },
  encryptionAlgorithm: oneOf(['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'SM2_ENCRYPT'], 'KMS.0308'),
  dataKeySpec: text('^[A-Z0-9_]{1,32}$', 'KMS.1902'),
  dataKeyLength: text('^[0-9]{1,10}$', 'KMS.1901'),
  dataKeyPlainLength: text('^[0-9]{1,10}$', 'KMS.2102'),
  dataKeyCipherLength: text('^[0-9]{1,10}$', 'KMS.2202'),
  randomDataLength: text('^[0-9]{1,10}$', 'KMS.1801'),
  rotationInterval: { schema: { type: 'integer' }, code: 'KMS.3001' },
  // Tags (reference §7): the shapes here, each item's rules (with their own codes) in core/tags.ts.
  tag: { schema: { type: 'object' }, code: 'KMS.0412' },
  tagList: { schema: { type: 'array' }, code: 'KMS.0412' },
  tagAction: { schema: { type: 'string' }, code: 'KMS.0404' },
  tagKey: { schema: { type: 'string' }, code: 'KMS.0406' },
  resourceAction: { schema: { type: 'string' }, code: 'KMS.0404' },
  resourceLimit: text('^[0-9]{1,10}$', 'KMS.1601'),
  resourceOffset: text('^[0-9]{1,10}$', 'KMS.0417'),
  tagFilter: { schema: { type: 'array' }, code: 'KMS.0414' },
  matches: { schema: { type: 'array' }, code: 'KMS.0415' },
  // Aliases (reference §2.6): names checked in core/aliases.ts.
  alias: { schema: { type: 'string' }, code: 'KMS.1101' },
  aliasList: { schema: { type: 'array', items: { type: 'string' } }, code: 'KMS.1101' },
  aliasMarker: text('^[a-zA-Z0-9:/_-]{1,255}$', 'KMS.0308'),
  // Asymmetric keys, signatures and MACs (issue 12).
  message: text('^[0-9a-zA-Z+/=]{1,8192}$', 'KMS.0308'),
  signature: text('^[0-9a-zA-Z+/=]{1,8192}$', 'KMS.0308'),
  signingAlgorithm: oneOf(SIGNING_ALGORITHMS, 'KMS.0308'),
  messageType: oneOf(['DIGEST', 'RAW'], 'KMS.0308'),
  macAlgorithm: oneOf(MAC_ALGORITHMS, 'KMS.0308'),
  mac: text('^[0-9a-fA-F]{2,256}$', 'KMS.0308'),
  rsaPairSpec: oneOf(Object.keys(RSA_PAIR_SPECS), 'KMS.0308'),
  ecPairSpec: oneOf(Object.keys(EC_PAIR_SPECS), 'KMS.0308'),
  withPlainText: { schema: { type: 'boolean' }, code: 'KMS.0308' },
  wrappingAlgorithm: oneOf(['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'SM2_ENCRYPT'], 'KMS.0308'),
  importToken: text('^[0-9a-zA-Z+/=]{200,6144}$', 'KMS.2605'),
  encryptedKeyMaterial: text('^[0-9a-zA-Z+/=]{344,360}$', 'KMS.0311'),
  encryptedPrivateKey: text('^[0-9a-zA-Z+/=]{200,6144}$', 'KMS.2609'),
  materialExpirationTime: { schema: { type: 'integer', minimum: 0, maximum: 32503680000 }, code: 'KMS.2602' },
  keystorePathId: text('^[0-9a-zA-Z-]{1,36}$', 'KMS.0315'),
  pinType: oneOf(['PlainText', 'CipherText'], 'KMS.0308'),
  keystoreAlias: text(NAME_PATTERN, 'KMS.0308'),
  clusterId: text('^[0-9a-zA-Z_-]{1,64}$', 'KMS.0308'),
  hsmCaCert: { schema: { type: 'string', maxLength: 16384 }, code: 'KMS.0308' },
  keystoreType: oneOf(['DEFAULT', 'DHSM', 'CDMS', '0', '1', '2'], 'KMS.0308'),
  listLimit: text('^[0-9]{1,10}$', 'KMS.1601'),
  listOffset: text('^[0-9]{1,15}$', 'KMS.1603'),
  region: text('^[a-z0-9-]{1,64}$', 'KMS.1102'),
  projectId: text('^[0-9a-zA-Z-]{1,64}$', 'KMS.0308'),
  replicaTags: { schema: { type: 'array', maxItems: 20, items: { type: 'object' } }, code: 'KMS.0414' },
} as const satisfies Record<string, Field>;

/** The fields every data operation takes besides its own. */
export const DATA_FIELDS = {
  additional_authenticated_data: F.aad,
  encryption_context: F.encryptionContext,
  sequence: F.sequence,
} as const;

/** Fields whose "" is a value of its own rather than "not given". */
// description: a secret's description is cleared by sending "" (the Terraform provider does).
export const EMPTY_IS_A_VALUE = new Set(['key_description', 'description']);
