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
  /**
   * The failed-login budget is reserved before the password is checked (one failure's worth of
   * the user's and the address's buckets, given back when the password was right) and the user
   * is the resolved user id, whatever names the request uses: concurrent guesses and other
   * spellings gain nothing. Logins beyond the budget while checks are in flight (on any event
   * loop) wait for their outcome: right passwords are never refused for it.
   */
  loginBudgetReservedBeforeCheck: true,
  /**
   * A key of a disabled key store refuses every use of its material (KMS.0317), verify and
   * get-publickey included, as a disabled key refuses them (KMS.0209). Enforced where the core
   * reads key material (src/core/material.ts).
   */
  disabledKeystoreRefusesPublicKeyUse: true,
  /**
   * re-encrypt checks, besides its own action, decrypt-data's right on the source and
   * encrypt-data's on the destination (core/access.ts holdingBoth), so it never opens what a
   * Deny on decrypt-data protects. AWS names this ReEncryptFrom / ReEncryptTo; Huawei is silent.
   */
  reEncryptNeedsDecryptAndEncryptRights: true,
  /** associate-alias checks the key the alias leaves as well as the target; list-aliases with key_id checks that key. */
  aliasOperationsCheckEveryKey: true,
  /** A policy Resource that cannot name a key (another type or service) is refused when the identities file is read. */
  resourceOfAnotherTypeRefused: true,
  /**
   * A record's key_id, when the input has no key_id: target_key_id, source_key_id, the key
   * the cipher_text's envelope header names, then destination_key_id (api/audit.ts noteBody).
   */
  auditKeyFromCiphertext: true,
  /**
   * A running kmsd holds its data directory (a kernel lock on kmsd.lock, store/data-dir-lock.ts):
   * serve, reset and offline commands that write refuse with one line and exit 2 while it is
   * held; the lock ends with its process (no pid/host guessing); kmsd.lock stays after release.
   */
  dataDirLocked: true,
  /**
   * Key generation per event loop: at most one at a time per caller, two per loop (one with
   * two loops or more), callers taking turns (core/fair-gate.ts). kmsd serve sizes libuv's pool
   * (shared by the loops) to every loop's generations + 2, so two threads always stay for
   * password checks (UV_THREADPOOL_SIZE, when set, wins).
   */
  generationsPerCaller: 1,
  /**
   * Another account's key store stays 403 KMS.0322, the code Huawei documents for it (ids are
   * random UUIDs: the answer tells nothing about ids a caller does not already hold).
   */
  keystoreOfAnotherAccountKept: true,
  /**
   * A grantee holding create-grant may grant its own grant's operations to any user or account;
   * its grants count toward the key's limit; the owner lists and revokes them (documented).
   */
  granteeGrantsDocumented: true,
} as const;
