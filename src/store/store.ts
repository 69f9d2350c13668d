import type { SharedLock } from './shared-lock.ts';
import type { ChainHead, ChainedAuditEvent, StoredAuditEvent } from '../audit/chain.ts';
import type { SecretsTx } from './secrets-tx.ts';
import type { Account, AccessKey, AuditEvent, AuditFilter, Grant, Key, KeyAlias, KeyMaterial, Keystore, Page, Project, Tag, TagFilter, Token, User } from '../core/model.ts';

/**
 * The narrow store interface every driver implements (SQLite, PostgreSQL). Nothing above it
 * knows SQL. All work happens inside `read` or `write`:
 *
 * - `write(work)` runs `work` as one all-or-nothing transaction; the promise settles only
 *   after the commit is durable, or after the whole unit was rolled back.
 * - `read(work)` sees only committed data and never changes anything: at least everything
 *   committed before it began, on any node. With `sameRequest`, everything committed before
 *   the first read of the same request began (commits since are concurrent with the request).
 *
 * A driver that cannot reach its database (PostgreSQL down, restarting, the connection lost)
 * rejects with StoreUnavailableError (unavailable.ts), whose `stage` says what became of the
 * unit of work; the edge answers it 503 KMS.0104. SQLite never does: its failures (a full disk)
 * are errors like any other.
 *
 * `lock` on getKey asks the driver to serialise every writer of that key until commit
 * (SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises all writers anyway). Every
 * operation that changes a key or its grants takes that lock first, so per-key rules such
 * as "at most 100 grants" and "a grant ends once" hold under concurrency on every driver.
 */
export interface ReadOptions {
  /**
   * This read belongs to a request whose first read already began: a driver that remembers
   * rows (SQLite) need not look for other connections' commits again.
   */
  sameRequest?: boolean;
  /**
   * A readiness probe (/_kmsd/ready): while the database is known to be away, a driver that
   * waits between connection attempts (PostgreSQL) tries one now all the same, so the probe says
   * what the database says now, not what it said at the last attempt (up to a second ago).
   */
  probe?: boolean;
}

export interface Store {
  readonly driver: 'sqlite' | 'postgres';
  read<T>(work: (tx: Tx) => Promise<T>, options?: ReadOptions): Promise<T>;
  write<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /**
   * Whether the store's files are still the ones it opened (SQLite: the database file, same
   * inode). A deleted or replaced file still answers through the open connection, but nothing
   * written now survives a restart: /_kmsd/ready fails. Absent for stores without files.
   */
  filesPresent?(): boolean;
  /**
   * Told after every commit of a write: its duration in seconds and how many units of work
   * it committed together (group commit, on both drivers). For metrics; optional.
   */
  onCommit?: CommitListener | null;
}

export type CommitListener = (seconds: number, units: number) => void;

/** Told each audit record a transaction writes, before it commits (--audit-log); throwing rolls the transaction back. */
export type AuditListener = (record: ChainedAuditEvent) => void;

/** What a driver is opened with besides its database. */
export interface StoreOptions {
  /** Taken around every write transaction when several worker threads write one SQLite file. */
  writeLock?: SharedLock;
  onAudit?: AuditListener;
  /** false: do not migrate; refuse a schema that is not this kmsd's (SchemaMismatch). For readers such as `kmsd audit verify`, which may hold a read-only role. */
  migrate?: boolean;
}

/** Opened without migrating, the store's schema is not the one this kmsd knows. */
export class SchemaMismatch extends Error {
  constructor(found: number, wanted: number) {
    super(`the store's schema is at version ${found}, this kmsd's is ${wanted}: ${found < wanted ? 'start kmsd serve on it once to migrate it' : 'it was migrated by a newer kmsd'}`);
  }
}

/** Counts over the whole store (every account), for metrics: keys by key_state, grants in force. */
export interface Census {
  keysByState: Record<string, number>;
  grants: number;
}

/** The identities an identities file lists: every other one is disabled. */
export interface RetainedIdentities {
  accountIds: ReadonlySet<string>;
  userIds: ReadonlySet<string>;
  accessKeys: ReadonlySet<string>;
}

export interface KeyFilter {
  state?: string;
  /** undefined or 'ALL' lists every spec. */
  spec?: string;
}

export interface Tx {
  /** CSMS secrets (store/secrets-tx.ts). */
  readonly secrets: SecretsTx;
  /**
   * The next statement is this unit of work's last: after it the unit may still throw (a refusal
   * judged on its answer), but sends nothing more. A PostgreSQL group then sends the next unit's
   * statements behind it without waiting for its answer (postgres.ts commitGroup); a unit that
   * sends another statement all the same has its group undone and run again, each unit alone.
   * Nothing elsewhere.
   */
  lastStatementNext(): void;
  getSetting(name: string): Promise<string | null>;
  /** Stores the value unless the setting exists; returns what is stored either way. */
  initSetting(name: string, value: string): Promise<string>;
  /** Deletes every setting whose name starts with `prefix`; returns how many there were. */
  deleteSettings(prefix: string): Promise<number>;
  /** Stores the value, replacing any. */
  putSetting(name: string, value: string): Promise<void>;

  getAccount(id: string): Promise<Account | null>;
  findAccountByName(name: string): Promise<Account | null>;
  insertAccount(account: Account): Promise<void>;
  getProject(id: string): Promise<Project | null>;
  projectsOfAccount(accountId: string): Promise<Project[]>;
  insertProject(project: Project): Promise<void>;
  getUser(id: string): Promise<User | null>;
  /** A user with its account, in one read (authentication's). */
  getUserAndAccount(id: string): Promise<{ user: User; account: Account } | null>;
  findUser(accountId: string, name: string): Promise<User | null>;
  /** Every user of the account, disabled ones too, by name (IAM's user list). */
  usersOfAccount(accountId: string): Promise<User[]>;
  insertUser(user: User): Promise<void>;
  updateUser(user: User): Promise<void>;
  getAccessKey(ak: string): Promise<AccessKey | null>;
  accessKeysOfUser(userId: string): Promise<AccessKey[]>;
  insertAccessKey(key: AccessKey): Promise<void>;
  updateAccessKeySecret(ak: string, skSealed: Buffer): Promise<void>;
  /**
   * Makes applies of an identities file one after the other across every node of the store:
   * held until the transaction that runs this unit ends (on PostgreSQL the unit's group commits,
   * or the unit is rolled back). Taken first by the apply: two nodes starting at once over a
   * fresh store otherwise both find no account, and the later one then meets the other's account
   * under the id the file names (READ COMMITTED) and refuses to start.
   */
  lockIdentities(): Promise<void>;
  /**
   * Enables exactly the accounts, users and access keys given and disables every other one
   * (nothing is deleted: ids stay reserved, and listing an identity again brings it back).
   */
  retainIdentities(keep: RetainedIdentities): Promise<void>;
  getToken(hash: string): Promise<Token | null>;
  insertToken(token: Token): Promise<void>;
  deleteExpiredTokens(now: number): Promise<number>;

  getKey(keyId: string, options?: { lock?: boolean }): Promise<Key | null>;
  findKeyByAlias(accountId: string, region: string, alias: string): Promise<Key | null>;
  listKeys(accountId: string, region: string, filter: KeyFilter, offset: number, limit: number): Promise<Page<Key>>;
  /** Customer keys (default keys excluded) of one account and region. */
  countCustomerKeys(accountId: string, region: string): Promise<number>;
  insertKey(key: Key): Promise<void>;
  updateKey(key: Key): Promise<void>;
  /** Deletes the key with its material, its grants, its tags and its aliases. */
  deleteKey(keyId: string): Promise<void>;
  keysDueForDeletion(now: number, limit: number): Promise<string[]>;
  keysDueForRotation(now: number, limit: number): Promise<string[]>;

  insertMaterial(material: KeyMaterial): Promise<void>;
  getMaterial(keyId: string, version: number): Promise<KeyMaterial | null>;
  /** Removes every material version of the key (delete-imported-key-material, expiry). */
  deleteMaterials(keyId: string): Promise<void>;
  /** Keys in enabled or disabled state whose imported material expired at or before now. */
  keysWithExpiredMaterial(now: number, limit: number): Promise<string[]>;

  insertKeystore(keystore: Keystore): Promise<void>;
  /** `lock` serialises the writers of that key store until commit (as getKey's). */
  getKeystore(keystoreId: string, options?: { lock?: boolean }): Promise<Keystore | null>;
  findKeystoreByAlias(accountId: string, region: string, alias: string): Promise<Keystore | null>;
  findKeystoreByCluster(accountId: string, region: string, clusterId: string): Promise<Keystore | null>;
  listKeystores(accountId: string, region: string, offset: number, limit: number): Promise<Page<Keystore>>;
  countKeystores(accountId: string, region: string): Promise<number>;
  updateKeystore(keystore: Keystore): Promise<void>;
  deleteKeystore(keystoreId: string): Promise<void>;
  /** Keys (in any state, until their deletion is final) living in the key store. */
  countKeysInKeystore(keystoreId: string): Promise<number>;

  /**
   * Inserts the grant and moves its key's grants version, unless its key already holds `limit`
   * grants (none by default): then nothing is written and the answer is false. The count is
   * exact only under the key's lock (getKey with `lock`), which every writer of its grants takes.
   */
  insertGrant(grant: Grant, limit?: number): Promise<boolean>;
  /** A number that changes whenever a grant of the key is created or ended. */
  grantsVersion(keyId: string): Promise<number>;
  getGrant(grantId: string): Promise<Grant | null>;
  /** Deletes the grant and moves its key's grants version; false when no such grant existed (it was already ended). */
  deleteGrant(grantId: string): Promise<boolean>;
  /**
   * Ends the key's grant: deletes it and moves the key's grants version (one statement on
   * PostgreSQL). The grant as it was, or null, with nothing written, when the key holds no grant
   * with that id (never made, already ended, or another key's). Call it under the key's lock.
   */
  endGrantOfKey(keyId: string, grantId: string): Promise<Grant | null>;
  countGrants(keyId: string): Promise<number>;
  /** The largest number of grants on any one key of the account and region. */
  maxGrantsOnOneKey(accountId: string, region: string): Promise<number>;
  listGrants(keyId: string, offset: number, limit: number): Promise<Page<Grant>>;
  /** Live grants on the key whose grantee is the user or the user's account. */
  grantsNaming(keyId: string, userId: string, accountId: string): Promise<Grant[]>;
  /** Grants the user may retire: issued by it, naming it as retiring principal, or granting it retire-grant. */
  listRetirableGrants(userId: string, accountId: string, offset: number, limit: number): Promise<Page<Grant>>;

  /** The key's tags, by tag key. Read in the caller's transaction (policy conditions on g:ResourceTag use it). */
  tagsOfKey(keyId: string): Promise<Tag[]>;
  /** Tags of several keys at once, by key id then tag key. */
  tagsOfKeys(keyIds: readonly string[]): Promise<Map<string, Tag[]>>;
  /** Adds the tag, or replaces the value of the key's tag with the same key. */
  putTag(keyId: string, tag: Tag, now: number): Promise<void>;
  /** false when the key had no tag with that key. */
  deleteTag(keyId: string, tagKey: string): Promise<boolean>;
  /** Every tag key used on the account's keys in the region, with its distinct values, sorted. */
  projectTags(accountId: string, region: string): Promise<Array<{ key: string; values: string[] }>>;
  /** Customer keys of the account and region matching the filter, oldest first. */
  keysByTags(accountId: string, region: string, filter: TagFilter, offset: number, limit: number): Promise<Page<Key>>;

  getAlias(accountId: string, region: string, alias: string): Promise<KeyAlias | null>;
  insertAlias(alias: KeyAlias): Promise<void>;
  /** Rebinds an alias (key_id and update_time). */
  updateAlias(alias: KeyAlias): Promise<void>;
  deleteAlias(accountId: string, region: string, alias: string): Promise<boolean>;
  countAliasesOfKey(keyId: string): Promise<number>;
  /** Aliases of the account and region (of one key when keyId is given), by name, after `after`. */
  listAliases(accountId: string, region: string, keyId: string | undefined, after: string | undefined, limit: number): Promise<KeyAlias[]>;

  /**
   * Appends to the audit trail, inside the transaction of the effect it records, chained to
   * the record before it (src/audit/chain.ts); the store's onAudit is told the record as
   * written. Holds the chain's head until commit: call it last in a unit of work. (PostgreSQL
   * writes a group's records together, just before its COMMIT: postgres.ts commitGroup.)
   */
  insertAudit(event: AuditEvent): Promise<void>;
  /** Every record with seq > afterSeq, oldest first, with its chain hashes as stored (for verification). */
  listAuditChain(afterSeq: number, limit: number): Promise<StoredAuditEvent[]>;
  /** Where the audit trail's chain stands (its head as last committed, or locked when `lock`). */
  auditChainHead(lock?: boolean): Promise<ChainHead>;
  /** Events matching the filter with seq > afterSeq, oldest first (or newest first when the filter says so). */
  listAudit(filter: AuditFilter, afterSeq: number, limit: number): Promise<AuditEvent[]>;

  /** Keys by state and grants in force, over the whole store. */
  census(): Promise<Census>;
}

/** The store for the rest of a request, once its first read (authentication) began. */
export function laterInRequest(store: Store): Store {
  return {
    driver: store.driver,
    read: (work) => store.read(work, { sameRequest: true }),
    write: (work) => store.write(work),
    close: () => store.close(),
  };
}
