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
  // Asymmetric keys, signatures and MACs (issue 12); see docs/decisions.md.
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
   * get-key-rotation-status of a key whose rotation is off answers `rotation_interval: 0`
   * (the interval set is kept and used when rotation is enabled). The Terraform provider stores the
   * answer and then refuses its own key ("'rotation_interval' is only valid when the KMS key
   * rotation is enabled") on every later apply if a key with rotation off reports an interval.
   */
  rotationIntervalWhenOff: 0,
  /**
   * create-pin: Huawei documents only `{"pin": string}` (a PIN for its level-4 cryptography testing
   * HSM mode). kmsd answers 16 random bytes as 32 upper-case hex characters (PlainText), or those
   * sealed under the root key for the caller's account and key store, base64 (CipherText, the
   * default; keystore_id required: "1"/"2" are Huawei's shared clusters, anything else a key store
   * of the caller's). create-datakey and encrypt-datakey accept pin/pin_type and need neither.
   */
  pinFormat: { bytes: 16 },
  /**
   * A grant may name a grantee (or retiring principal) kmsd does not know: Huawei's API takes any
   * well-formed principal id, identities files come and go (a removed user may be listed again, a
   * grant may be created before its grantee is declared), and the grant authorizes nobody until a
   * user (or, for `domain`, an account) with that id exists.
   */
  unknownGranteeAccepted: true,
  /**
   * A request that needs the store while it cannot be reached (PostgreSQL down, restarting,
   * failing over, read-only, refusing connections; the connection lost in the middle of the
   * request; a statement PostgreSQL cancelled at the request's deadline): 503
   * KMS.0104, the 503 of Huawei's error table ("A system exception occurred"), which the SDKs
   * treat as a server error worth retrying; never a refusal of the caller. Also when the
   * connection died after COMMIT was sent (the change may or may not be in force: a retry
   * finds out, e.g. KMS.2501 for a grant that was retired). Such a refusal has no "failed"
   * audit record (the store that would hold it is the one away): the log's warning is its trace.
   */
  storeUnavailable: 'KMS.0104',
  /**
   * An import token issued before `kmsd rotate-root-key` no longer opens (its wrapping key is
   * sealed under the old root key, inside the token the caller holds; nothing of it is stored to
   * reseal): import-key-material answers as for any token that fails verification, and the
   * caller asks get-parameters-for-import for a new one.
   */
  importTokenAfterRootKeyRotation: 'KMS.2605',
  /**
   * rotate-root-key reseals the whole store in one transaction (not resumably): 100,000 keys
   * took about 20 s on either driver on the loaded 2-core machine (BENCHMARKS.md), a kill at any
   * point leaves the store wholly under the old key, and running it again does it all again.
   */
  rootKeyRotationInOneTransaction: true,
  /**
   * restore writes only into an empty target: a data directory without kmsd.db, a PostgreSQL
   * database whose schema has no table. Merging a backup into a live store is never guessed at.
   */
  restoreIntoEmptyTargetOnly: true,
  /**
   * A sealed node (kmsd seal init) answers every KMS request with the one documented 503,
   * KMS.0104 "A system exception occurred. Contact technical support.", and IAM requests with a
   * Keystone-shaped 503, until it is unsealed; GET /_kmsd/health says "sealed".
   */
  sealedKmsError: 'KMS.0104',
  /**
   * Unseal attempts (POST /_kmsd/unseal) a minute, per source address, and refused attempts
   * for the whole node, before 429 with Retry-After. Guessing a share is hopeless anyway (256
   * bits); the bound keeps a flood from filling the audit trail, which records every attempt on
   * a sealed node (never the share). A share that counts is not charged to the node's budget,
   * so refusals from many addresses cannot lock a keeper out. An unsealed node answers within
   * the per-address limit and records nothing.
   */
  unsealAttempts: { perSourcePerMinute: 10, perNodePerMinute: 100 },
  /**
   * kmsd seal init takes 2 to 255 shares and a threshold from 2 to the number of shares (the
   * audited library's bounds): one share would be the root key under another name, for which
   * the root key file is the simpler tool.
   */
  sealShares: { min: 2, max: 255 },
  /**
   * The audit trail's hash chain: one chain per store, whichever node, event loop or timer
   * writes a record; each writer locks the chain's head row in the record's transaction, so
   * records chain in commit order (audited writes of a PostgreSQL cluster commit one at a
   * time: docs/audit.md has the cost). Per-node chains were the alternative (no lock across
   * nodes, but a merge to document and a trail that could lose a node's tail unseen).
   */
  auditChain: 'one-per-store',
  /**
   * A store whose trail began before kmsd chained it: the chain starts at the first record
   * written after the migration (its prev_hash is 64 zeros, as CTS's starting digest file has
   * no previous digest); earlier records are counted by `kmsd audit verify`, not covered.
   */
  auditChainStartsAfterMigration: true,
  /** A request whose record the --audit-log file cannot take (full disk, size limit, I/O error): refused, nothing done. */
  auditLogUnwritable: 'KMS.0102',
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
   * kmsd's standard output or error whose reader went away (`kmsd serve | head -2`): what kmsd
   * would write there is dropped and it goes on serving (cli/serve.ts), as when its log's reader
   * goes away; SIGINT/SIGTERM stop it as always. Node's default was an EPIPE stack trace, exit 1.
   */
  closedOutputKeepsServing: true,
  /**
   * What a PostgreSQL node remembers is checked per table (store/postgres-memo.ts, migration 12):
   * a data version per data table, moved by every commit that changed the table (by kmsd's
   * COMMIT for the tables its statements name, by a trigger for any other change), all read in
   * one statement at every request. A stream of grant writes leaves the callers' users and
   * accounts remembered; a retired grant still counts on every node's very next request.
   * Requests that miss the same rows at once wait (at most 200 ms) for the one read another
   * request has under way for them.
   */
  postgresVersionPerTable: true,
  /**
   * A kmsd store in another schema of PostgreSQL's search_path (docs/storage.md): the start is
   * refused when the schema new tables would go to holds no store and a later one does (an empty
   * store would hide the keys); when the schema served holds a store and a later one holds
   * another (left by a kmsd older than that refusal), the start warns, with both stores' key
   * counts and the ALTER ROLE that serves the other, and serves: two stores on one path may be
   * deliberate.
   */
  storeElsewhereOnSearchPath: { storeOnlyLater: 'refuse', storeServedAndLater: 'warn' },
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
   * Where DIGEST signatures and SM2 encryption run (issue 25, issue 20 item 9): in process, by the
   * kmsd-crypto addon (OpenSSL's EVP_PKEY_* on Node's own OpenSSL, synchronously); without it, the
   * fallbacks in bounded lines fair between accounts (src/core/pkey/fair-queue.ts): `waiting` per
   * account and in all, more refused at once, a call that waited `waitMs` or whose client went away
   * dropped unrun; each of these is DECISIONS.signerFailed.
   */
  digestCrypto: { backend: 'kmsd-crypto addon, else @noble/curves (ECDSA) and openssl pkeyutl', perAccount: 64, total: 1024, waitMs: 10_000 },
  /**
   * U+0000 in key_description (the one free-text field kmsd stores; tag keys and values already
   * refuse control characters) is refused with the field's own error on both stores: PostgreSQL's
   * text cannot hold it, and a description SQLite kept would stop a move to PostgreSQL.
   */
  nulInText: 'KMS.1103',
  /**
   * A backup's SHA-256 end record catches corruption and truncation, not tampering: an HMAC
   * under a root-key-derived key would need the root key wherever backups are made and checked,
   * and a backup is made (by cron, by someone without the root key) precisely without it.
   * Sealed values cannot be forged without the root key anyway (AES-GCM under their context);
   * the rest (grants, password hashes, the trail) is protected by where backups are kept, or by a
   * signature the operator adds (documented in docs/backup-and-keys.md).
   */
  backupDigestIsNoSignature: true,
  /**
   * An audited identifier that is not well-formed UTF-16 (a lone surrogate, which any caller can
   * send as a JSON escape): the record keeps U+FFFD in its place, as SQLite and PostgreSQL would
   * store it; the hash is taken over what is stored, so the chain stays verifiable. A NUL too
   * (U+0000, which PostgreSQL keeps in no text: it refused the whole record), on every store.
   */
  auditRecordsWellFormed: true,
  /** --audit-log on a named pipe or socket: refused at start (a stalled reader would block the node); other files are opened non-blocking. */
  auditLogRegularFile: true,
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
  /**
   * IAM GET /v3/users (KeystoneListUsers) lists the caller's own account only: a domain_id of
   * another account is refused 403, as an administrator of one account is refused another's.
   * Without `enabled` both enabled and disabled users are listed (Keystone's reading: a filter
   * only when given); a filter given twice is 400.
   */
  listUsersOwnAccount: 403,
  /**
   * No kmsd password expires: a user's password_expires_at is null, and a well-formed
   * password_expires_at filter (operator:YYYY-MM-DDTHH:mm:ssZ) matches no user; a malformed one is 400.
   */
  listUsersPasswordExpiry: 'never',
  /**
   * GET /favicon.ico answers the console's icon (200 image/svg+xml, the console's headers), not
   * the version route's 400 KMS.0201: browsers ask every origin for it.
   */
  faviconServed: true,
  /**
   * GET /v3/users: links.self is the list's URL without its query (the query is the caller's
   * unvalidated text, never echoed), and no user carries Huawei's per-user links.self: it would
   * point at GET /v3/users/{user_id}, which kmsd does not serve (404).
   */
  listUsersLinks: 'list-url-only',
  /**
   * The extra event loops of --workers N start when load needs them: the main thread alone serves
   * until its event-loop utilization over a 250 ms sample reaches --loop-start-load percent
   * (default 50), then every other loop starts at once and serves until the process stops (a
   * loop stopped when idle would drop the connections queued on its socket under SO_REUSEPORT and
   * its metrics counts; not done). --loop-start-load 0 starts them all at start, as before; a
   * sealed node always does (a loop started later would miss the root key). A loop started on
   * load serves the TLS pair the main thread serves (never the files again: staged or
   * mid-rotation files change nothing before SIGHUP); one that fails to start on load is logged,
   * counted (kmsd_event_loop_start_failures_total) and left out, never fatal.
   */
  loopsStartOnLoad: { percent: 50, sampleMs: 250 },
  /**
   * GET /v3/users/{user_id}/projects: OTC documents no policy for it; kmsd answers a caller's own
   * user id only (Keystone's default rule "admin or owner", without the cloud-wide admin kmsd has
   * no equivalent of) with every project of its account; any other id (another user's, an unknown
   * one: no telling which exist) is 403 in Keystone's words.
   */
  userProjects: { scope: 'own user only', message: 'You are not authorized to perform the requested action.' },
  /**
   * GET /v3/projects/{project_id}: Keystone lets a user read the project it is scoped to (and an
   * admin any); kmsd lets a caller read every project of its own account (the ones GET
   * /v3/users/{user_id}/projects lists), whatever its token's scope. Any other id, another account's or one
   * that does not exist, is the same 404 (no telling which exist), Keystone's "Could not find
   * project: <id>.", which also lets openstackclient fall back to finding a project by name.
   */
  projectDetails: { scope: "the caller's account", notFound: 'Could not find project' },
  /**
   * A path that cannot be decoded (an invalid percent-encoding: /v1.0/%ZZ/kms/list-keys) never
   * reaches a route. Neither Huawei nor OTC documents the answer; it is a malformed request, in
   * the form of the service the path belongs to: KMS.0202 (KMS's malformed request), CSMS.0003
   * ("The request is invalid.", as CSMS answers a path it does not know) under /v1/, and a
   * Keystone 400 under /v3.
   */
  badUrl: { kms: 'KMS.0202', csms: 'CSMS.0003', iam: 'The request URL has an invalid percent-encoding.' },
  /**
   * A declared identities file's passwords are put in force after kmsd listens (issue 25 §3),
   * and so are the development account's when the start generated its users (a fresh data
   * directory: no remembered match yet, each new password hashed; the two at once):
   * whether a file's password is the stored one takes scrypt (~45 ms a user), and nothing faster
   * that could confirm a password is ever stored. The start applies everything else of the file
   * before it listens (AK/SK, policies, users, accounts); the password checks (and a new hash
   * for each password that changed) then run on libuv's pool, and commit in one transaction. Every
   * apply of a file (the start's, each SIGHUP's) runs on one serial chain per node, so an older
   * file never writes after a newer one. While one is queued or running, every password login of
   * the node, on every event loop, waits, whatever user it names (no telling who exists); AK/SK
   * and tokens never wait, nor /_kmsd/ready (200 once the node serves). Nothing is stored about
   * it: no node ever waits for another. A login that waits past --request-timeout, that would
   * wait while MAX_WAITING (login-guard.ts) others wait on its loop (per loop), or that waits when the node stops
   * is IAM's 503 (a store outage's body, its own log line); until the start's file (or a later
   * one) is in force the node retries every `retryMs`, reusing the passwords already checked.
   * The pre-listen transaction fails closed: a user with a declared password whose login it
   * would grant something else (re-enabled, itself or through its account; other policies)
   * gets no usable password until the passwords' transaction commits, on every node, and so
   * does every user a seeded grant the start creates widens (its grantee user, each user of a
   * domain grantee, its retiring principal) and every user of the account of a seeded key it
   * creates (seed.ts dropPasswordsOfGainers; the seed stays
   * before listening, its keys and grants serving AK/SK from the first request); a user it
   * does not change keeps its hash (other nodes accept that stored password until the apply
   * commits, as they always did while a node started). A node stopped during its check stops
   * checking (logins waiting on any loop get the 503 at once: the cluster stops the check and
   * the gate before its workers; a gate already open stays open for the grace) and writes
   * none of its passwords; stopped or killed then, it leaves the users its pre-listen
   * transaction changed refused (401) until a node applies the file again (its next start, a
   * SIGHUP).
   */
  declaredPasswordsAfterListen: { retryMs: 1000, loginWaitsAtMost: '--request-timeout', thenAnswer: 'IAM 503 The service is temporarily unavailable.' },
  /**
   * Memory a busy node keeps (docs/start-and-memory.md, "Memory"): once the node has gone quiet
   * after a load (`trim`: the main thread's event-loop utilization below `quietPercent` for
   * `quietSamples` samples of `sampleMs` in a row), the main thread gives freed malloc memory
   * back to the system, once per quiet period, re-armed by a sample at or above `busyPercent`
   * (glibc's malloc_trim through the kmsd-crypto addon; none without it), counted in
   * kmsd_memory_trims_total; V8's young generation is `semiSpaceMb` per semi-space on every loop
   * (smaller ones cost throughput; bin/kmsd.js's flag, which the single executable takes from
   * it), and the old generation grows by `heapGrowingPercent` between full collections (set at
   * run time: src/memory/heap-growth.ts). In each quiet period every loop first compacts its own
   * heap (`compaction`: V8's memory-reducing "last-resort" full collection, src/memory/
   * compact-heap.ts; 40–120 ms once quiet, never under load; 108–111 MiB after a minute of load
   * instead of 157 with the trim alone), counted in kmsd_memory_compactions_total; the main
   * thread's trim comes one sample after its compaction. A loop whose heap grew less than
   * `compactAfterGrowthMb` since its last compaction skips it (a trickle of requests: too little to
   * free for a pause each time; a burst of a second mostly regrows the young generation past it).
   */
  memory: { trim: { sampleMs: 1000, quietSamples: 2, quietPercent: 10, busyPercent: 25 }, semiSpaceMb: 8, heapGrowingPercent: 20, compaction: 'last-resort', compactAfterGrowthMb: 8 },
} as const;
