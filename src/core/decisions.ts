/**
 * The decisions DESIGN.md §2 takes where the public documentation is silent, in one place,
 * so that one changes in one spot if evidence about the real service appears. Tests name
 * these constants rather than repeating the codes.
 */
export const DECISIONS = {
  /** Caller may not retire / revoke / create-grant / use the key. */
  callerMayNot: 'KMS.0306',
  /** key_id well-formed but no such key (also: a key whose pending deletion has expired). */
  noSuchKey: 'KMS.0207',
  /** grant_id well-formed but no live grant with that id; also an already ended grant. */
  noSuchGrant: 'KMS.2501',
  /** The grant exists, on another key. */
  grantOnAnotherKey: 'KMS.2502',
  /** create-grant on a key that is not enabled, by state. */
  createGrantOnState: { '1': 'KMS.0308', '3': 'KMS.0209', '4': 'KMS.0210', '5': 'KMS.0308' },
  /** Keys whose alias ends in /default cannot be granted (nor disabled, renamed, ...). */
  defaultKey: 'KMS.0211',
  /** Unknown `operations` value, unknown grantee_principal_type. */
  unknownEnumValue: 'KMS.0308',
  /** Principal id not ^[a-zA-Z0-9]{1,64}$. */
  badPrincipal: 'KMS.2402',
  /** Grants per key before KMS.2404 (configurable with --max-grants-per-key). */
  grantsPerKey: 100,
  tooManyGrants: 'KMS.2404',
  /** Largest page a list call may ask for. */
  maxLimit: 1000,
  /**
   * Retire needs, besides being named by the grant, the IAM action kms:cmk:retireGrant (alias
   * kms:grant:retire) in the caller's own account (Huawei's retire-grant page, 2026 edition).
   */
  retireNeedsIamAction: true,
  /** Audit records a second per source address of refusals before the caller is known (--audit-refusal-rate). */
  auditRefusalsPerSecond: 10,
  /** Failed password logins a minute per user and per source address before IAM answers 429 (--login-failures). */
  loginFailuresPerMinute: 10,
  /** The error_code of a failed login in the audit trail: IAM errors have no KMS code. */
  failedLoginCode: 'IAM.401',
  /**
   * Largest list-keys limit: the API page allows any limit "within the maximum number of keys",
   * and the Terraform provider's kms_keys data source sends 2000.
   */
  listKeysMaxLimit: 10000,
  /** Tags per key (KMS.0409), tags per batch or query (KMS.0407): 10, as the tag pages say. */
  tagsPerKey: 10,
  /** Values per tag key in a resource_instances query before KMS.0413. */
  tagValuesPerQueryKey: 10,
  /** resource_instances filter page size when no limit is given (reference §7). */
  resourceLimitDefault: 10,
  /** Aliases per key (console guide: "A maximum of 50 aliases can be created for a key"); beyond: KMS.0308. */
  aliasesPerKey: 50,
  /** ListAliases limit range (API page: 1-100) and page size when none is given. */
  aliasListMax: 100,
  aliasListDefault: 100,
  /** An alias that does not exist or belongs to another key of the account (associate, delete). */
  badAlias: 'KMS.0308',
  // Asymmetric keys, signatures and MACs (issue 12); see the README's Decisions table.
  /** A key spec/usage pairing the spec does not allow, beyond the documented KMS.1114/1115/0341. */
  badSpecUsage: 'KMS.0308',
  /** origin external with an asymmetric or HMAC spec: kmsd imports symmetric material only. */
  asymmetricExternal: 'KMS.0308',
  /** message / signature / mac not base64, or a message outside 1..4096 bytes. */
  badMessage: 'KMS.0308',
  /** ED25519_SHA_512 with message_type DIGEST (pure Ed25519 signs messages, never digests). */
  digestNotServed: 'KMS.0308',
  /** `openssl pkeyutl` (DIGEST signatures: ECDSA, RSASSA-PSS, SM2) missing, timed out or failed. */
  signerFailed: 'KMS.0105',
  /**
   * SM2_ENCRYPT plaintext limit in bytes (over it: KMS.2108): encrypt-data's documented plain_text
   * limit, as Huawei documents no lower one for SM2; its ciphertext (≤ 4208 bytes of DER) fits
   * decrypt-data's documented cipher_text pattern (≤ 5648 base64 characters).
   */
  sm2PlaintextBytes: 4096,
  /** mac_algorithm other than the HMAC key's own. */
  macAlgorithmMismatch: 'KMS.0308',
  /** decrypt-data / re-encrypt of an asymmetric ciphertext without its key id. */
  asymmetricNeedsKeyId: 'KMS.0204',
  /** Symmetric data operations on an asymmetric encryption key. */
  asymmetricKeySymmetricOp: 'KMS.0325',
  /** Rotation of an HMAC key (asymmetric keys: the documented KMS.0324). */
  hmacRotation: 'KMS.0341',
  /** RSASSA-PSS salt length: the hash length. */
  pssSaltLength: 'hash length',
  /** A keystore_id well-formed but no such key store in the caller's region (the old "partition" codes). */
  noSuchKeystore: 'KMS.0316',
  /** A key store of another account. */
  keystoreOfAnotherAccount: 'KMS.0322',
  /** Key stores per account and region, then tooManyKeystores. */
  keystoresPerAccount: 10,
  tooManyKeystores: 'KMS.0308',
  /** A second key store on a cluster that already has one. */
  clusterInUse: 'KMS.0308',
  /** delete-keystore while keys (in any state) still live in it. */
  keystoreHoldsKeys: 'KMS.0308',
  /** list-keystores / list-support-regions default page size (the API pages: 10). */
  defaultKeystoreLimit: 10,
  /** Import parameters (wrapping key + token) stay valid this long. */
  importTokenMs: 86_400_000,
  /** get-parameters-for-import with a wrapping algorithm this kmsd cannot unwrap (SM2_ENCRYPT). */
  unsupportedWrapping: 'KMS.0308',
  /** A region kmsd does not serve (replicate-key, update-primary-region). */
  regionNotServed: 'KMS.1102',
  /**
   * An explicit Deny in the caller's own identity policies (matching the operation's action,
   * the key and its conditions) refuses the call even when a grant would allow it. AWS KMS:
   * no principal has a permission unless it is "explicitly allowed, and never denied, in a key
   * policy, IAM policy, or grant"; Huawei's documentation is silent.
   */
  denyStopsGrants: true,
  /**
   * A failed-login bucket the shared table of a multi-loop node is too crowded to keep:
   * the login is refused (a request rate and the audit bound let such a caller through).
   */
  crowdedLoginTable: 'refuse',
  /**
   * The development account only: a password found to match its stored scrypt hash is
   * recorded under a root-key MAC, so an unchanged account costs no scrypt at start (its
   * password is in clear beside the database anyway). Declared identities files never are.
   */
  devPasswordMatchRemembered: true,
  /** CSMS (secrets): a caller whose identity policies do not allow the csms:secret:* action. */
  csmsCallerMayNot: 'CSMS.0302',
  /**
   * No such secret (or version, stage, tag) in the caller's account and project: 404 CSMS.0005.
   * The error page lists CSMS.0005 with 400, but the Terraform provider treats a secret as gone
   * only on 404 (common.CheckDeletedDiag) and the API pages list 404 "resource not found".
   * Another account's secret is the same as none (accounts are isolated).
   */
  noSuchSecret: 'CSMS.0005',
  /** A secret's KMS key is disabled, pending deletion, or not allowed to the caller by its KMS rights. */
  secretKeyUnusable: 'CSMS.0401',
  /** create-secret with a name the project already has (no documented code: kmsd's CSMS.0201). */
  secretNameTaken: 'CSMS.0201',
  /** A 21st version when every older version still carries a stage (none is deprecated). */
  tooManyVersions: 'CSMS.0205',
  /** Secrets per account and project before CSMS.0202. */
  secretsPerProject: 200,
  /**
   * CSMS timestamps (create_time, update_time, scheduled_delete_time, expire_time, stage
   * update_time) are JSON integers in milliseconds: the SDK models say "seconds", but the
   * Terraform provider divides them by 1000 (create_time, stage update_time).
   */
  csmsTimestamps: 'ms-integer',
  /** version_id `latest` names the version SYSCURRENT marks, wherever stages were moved. */
  csmsLatest: 'SYSCURRENT',
  /** CSMS errors are flat {"error_code","error_msg"} (the SDKs' ErrorInfo model), not KMS's nested {"error":{...}}. */
  csmsErrorBody: 'flat',
  /** Successful DELETEs of CSMS (secret, stage, tag) and tag writes answer 204 with no body (the provider expects 204). */
  csmsDeleteStatus: 204,
  /** list-secrets and list versions: limit 1..1000 (CSMS.0002), default 50 as the versions page says; marker is the last name / version id of the previous page. */
  csmsDefaultLimit: 50,
  /**
   * create-secret and create-secret-version take bodies up to 256 KiB whatever --body-limit says
   * (a 32 KiB value in the worst JSON escaping, six characters a byte, and room for the rest); a
   * body past it is a value too long: 400 CSMS.0002, as for any value past 32 KiB (CSMS documents
   * no size code; CSMS.0004 "format is wrong" would send users looking for a syntax error).
   */
  csmsBodyTooLong: 'CSMS.0002',
  /**
   * Secret and stage names follow Huawei's rule (letters, digits, `_`, `-`, `.`, 1-64) but may not
   * be only periods: `.` and `..` would be path segments HTTP clients resolve away, so the
   * secret could be created but never read, changed or deleted. CSMS.0002.
   */
  csmsDotNames: 'refused',
} as const;
