import { hashPassword, verifyPassword } from './auth/passwords.ts';
import { checkPolicy, PolicyError } from './auth/policy.ts';
import { systemCaller } from './core/access.ts';
import { createKey, isDefaultAlias } from './core/keys.ts';
import type { Account, Policy, User } from './core/model.ts';
import { newIdentityId } from './core/runtime.ts';
import { POOL_KEPT_FOR_LOGINS } from './core/fair-gate.ts';
import { RootKey, secretKeyContext } from './core/sealing.ts';
import type { Store, Tx } from './store/store.ts';

/**
 * The identities file: accounts, their users, passwords, AK/SK pairs and policies, applied
 * at start and on SIGHUP. The file is the whole truth about who exists: every account, user
 * and access key it does not list is disabled in the same transaction (its tokens, AK/SK and
 * password stop working at once, on every node), but nothing is deleted: keys, grants and
 * audit records stay, ids stay reserved, and listing an identity again brings it back.
 * Applying the same file again changes nothing.
 */
export interface AccountSpec {
  name: string;
  id?: string;
  project_id?: string;
  users: UserSpec[];
  default_keys?: string[];
}

export interface UserSpec {
  name: string;
  id?: string;
  password?: string;
  access_keys?: Array<{ ak: string; sk: string }>;
  policies?: Policy[];
}

export interface IdentitiesSpec {
  accounts: AccountSpec[];
}

export class IdentitiesError extends Error {}

/** An account's first user is its administrator, with every action. */
export const ADMIN_POLICY = '*:*:*';

const HEX32 = /^[0-9a-f]{32}$/;
const ACCOUNT_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const USER_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const AK = /^[A-Za-z0-9]{1,128}$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(path: string, message: string): never {
  throw new IdentitiesError(`${path}: ${message}`);
}

function optionalMatching(value: unknown, pattern: RegExp, path: string, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !pattern.test(value)) fail(path, `must be ${what}`);
  return value;
}

/** Checks a parsed identities file; every message names the bad entry, e.g. accounts[0].users[1].password. */
export function parseIdentities(input: unknown): IdentitiesSpec {
  if (!isObject(input) || !Array.isArray(input.accounts) || input.accounts.length === 0) {
    fail('accounts', 'must be a non-empty array');
  }
  const accountNames = new Set<string>();
  const aks = new Set<string>();
  const accounts = input.accounts.map((a: unknown, i: number): AccountSpec => {
    const at = `accounts[${i}]`;
    if (!isObject(a)) fail(at, 'must be an object');
    if (typeof a.name !== 'string' || !ACCOUNT_NAME.test(a.name)) fail(`${at}.name`, 'must be 1-64 letters, digits, _ . -');
    if (accountNames.has(a.name)) fail(`${at}.name`, `"${a.name}" is declared twice`);
    accountNames.add(a.name);
    const id = optionalMatching(a.id, HEX32, `${at}.id`, '32 lower-case hex characters');
    const projectId = optionalMatching(a.project_id, HEX32, `${at}.project_id`, '32 lower-case hex characters');
    if (!Array.isArray(a.users) || a.users.length === 0) fail(`${at}.users`, 'must be a non-empty array');
    const userNames = new Set<string>();
    const users = a.users.map((u: unknown, j: number): UserSpec => {
      const ut = `${at}.users[${j}]`;
      if (!isObject(u)) fail(ut, 'must be an object');
      if (typeof u.name !== 'string' || !USER_NAME.test(u.name)) fail(`${ut}.name`, 'must be 1-64 letters, digits, _ . -');
      if (userNames.has(u.name)) fail(`${ut}.name`, `"${u.name}" is declared twice`);
      userNames.add(u.name);
      const userId = optionalMatching(u.id, HEX32, `${ut}.id`, '32 lower-case hex characters');
      if (u.password !== undefined && (typeof u.password !== 'string' || u.password.length === 0 || u.password.length > 256)) {
        fail(`${ut}.password`, 'must be a string of 1-256 characters');
      }
      const keys = u.access_keys ?? [];
      if (!Array.isArray(keys)) fail(`${ut}.access_keys`, 'must be an array');
      const accessKeys = keys.map((k: unknown, n: number) => {
        const kt = `${ut}.access_keys[${n}]`;
        if (!isObject(k)) fail(kt, 'must be an object with ak and sk');
        if (typeof k.ak !== 'string' || !AK.test(k.ak)) fail(`${kt}.ak`, 'must be 1-128 letters and digits');
        if (aks.has(k.ak)) fail(`${kt}.ak`, `"${k.ak}" is declared twice`);
        aks.add(k.ak);
        if (typeof k.sk !== 'string' || k.sk.length === 0 || k.sk.length > 256) fail(`${kt}.sk`, 'must be a string of 1-256 characters');
        return { ak: k.ak, sk: k.sk };
      });
      const policies = u.policies ?? [];
      if (!Array.isArray(policies)) fail(`${ut}.policies`, 'must be an array');
      policies.forEach((p: unknown, n: number) => {
        try {
          checkPolicy(p);
        } catch (error) {
          if (!(error instanceof PolicyError)) throw error;
          // The error's path starts with policies[0]: the entry checked alone.
          fail(`${ut}.policies[${n}]${error.path.slice('policies[0]'.length)}`, error.message);
        }
        // The administrator holds every action and no policy narrows it (Huawei: the account
        // itself may call every API; policies bind its IAM users): a document would never apply.
        if (j === 0 && typeof p !== 'string') {
          fail(`${ut}.policies[${n}]`, 'the account\'s first user is its administrator, with every action: a policy document would never apply to it');
        }
      });
      return { name: u.name, id: userId, password: u.password as string | undefined, access_keys: accessKeys, policies: policies as Policy[] };
    });
    const defaultKeys = a.default_keys ?? [];
    if (!Array.isArray(defaultKeys)) fail(`${at}.default_keys`, 'must be an array');
    defaultKeys.forEach((k: unknown, n: number) => {
      if (typeof k !== 'string' || !/^[a-z0-9]{1,32}\/default$/.test(k)) fail(`${at}.default_keys[${n}]`, 'must look like "obs/default"');
    });
    return { name: a.name, id, project_id: projectId, users, default_keys: defaultKeys as string[] };
  });
  return { accounts };
}

async function applyAccount(tx: Tx, spec: AccountSpec, region: string): Promise<Account> {
  let account = await tx.findAccountByName(spec.name);
  if (account && spec.id && account.id !== spec.id) {
    throw new IdentitiesError(`account "${spec.name}" exists with id ${account.id}, the file says ${spec.id}`);
  }
  if (!account) {
    account = { id: spec.id ?? newIdentityId(), name: spec.name, disabled: false };
    if (await tx.getAccount(account.id)) throw new IdentitiesError(`account id ${account.id} is already used by another account`);
    await tx.insertAccount(account);
  }
  const projects = await tx.projectsOfAccount(account.id);
  const project = projects.find((p) => p.name === region);
  if (project && spec.project_id && project.id !== spec.project_id) {
    throw new IdentitiesError(`account "${spec.name}" has project ${project.id} in ${region}, the file says ${spec.project_id}`);
  }
  if (!project) await tx.insertProject({ id: spec.project_id ?? newIdentityId(), accountId: account.id, name: region });
  return account;
}

/**
 * The setting that records "this password matches this user's stored hash": named by a MAC
 * under the root key over the user, the hash and the password, so it proves the match only
 * for exactly that triple and tells nobody without the root key anything about the password.
 */
export const PASSWORD_CHECKED = 'password-checked:';
const passwordChecked = (rootKey: RootKey, user: User, hash: string, password: string): string =>
  `${PASSWORD_CHECKED}${rootKey.mac('password-checked', `${user.id}\n${hash}\n${password}`)}`;

/**
 * Whether the file's password is the user's stored one, checked inside the transaction: scrypt,
 * deliberately slow (~40–80 ms a user, on libuv's pool). A node checks a file's passwords before
 * the transaction (checkPasswords); this runs for a user whose stored hash moved since, or when
 * no check came first (null PasswordPlan). `remembered` (the development account): a match found
 * once is recorded, so that it is found again by one lookup.
 */
async function samePassword(tx: Tx, rootKey: RootKey, user: User, password: string, remembered: boolean): Promise<boolean> {
  if (user.passwordHash === null) return false;
  if (remembered && (await tx.getSetting(passwordChecked(rootKey, user, user.passwordHash, password))) !== null) return true;
  return verifyPassword(password, user.passwordHash);
}

/**
 * How applyIdentities settles the file's passwords:
 * - null: checked here, in the transaction (scrypt on its path; tests and tools that apply a file);
 * - KEEP_STORED_PASSWORDS: not at all: a user keeps the hash it has, a new user gets none, and
 *   so does a user whose login would grant something else once applied (re-enabled, other
 *   policies: loginGrantsChange) (the start of a declared file, before it listens: the
 *   passwords follow, PasswordsChecked);
 * - PasswordsChecked: checked before the transaction; a user whose stored hash moved since is
 *   checked again in it.
 */
export type PasswordPlan = null | typeof KEEP_STORED_PASSWORDS | PasswordsChecked;
export const KEEP_STORED_PASSWORDS = 'keep stored passwords';

/** The hash each user of a file must have, worked out (scrypt, on libuv's pool) before the write transaction. */
export class PasswordsChecked {
  /** By account and user name: the stored hash checked, and the hash to store (the same one when the password matched it). */
  private readonly results = new Map<string, { stored: string | null; hash: string }>();

  static key = (account: string, user: string): string => `${account}\n${user}`;

  set(account: string, user: string, stored: string | null, hash: string): void {
    this.results.set(PasswordsChecked.key(account, user), { stored, hash });
  }

  /** The hash to store for this user, or undefined when its stored hash is not the one checked. */
  hashFor(account: string, user: string, stored: string | null): string | undefined {
    const found = this.results.get(PasswordsChecked.key(account, user));
    return found && found.stored === stored ? found.hash : undefined;
  }
}

/**
 * Checks every password of the file against the hash its user has now (one read), all at once
 * on libuv's pool, and hashes anew each one that differs. Nothing is written: applyIdentities
 * uses the answers in its transaction. `signal` aborted: stops between two checks (throws).
 * `remembered` (the development account's root key, DECISIONS.devPasswordMatchRemembered): a
 * password whose match with the stored hash is remembered is taken as matching without scrypt.
 */
export async function checkPasswords(store: Store, spec: IdentitiesSpec, signal?: AbortSignal, remembered: RootKey | null = null): Promise<PasswordsChecked> {
  const declared = spec.accounts.flatMap((a) => a.users.filter((u) => u.password !== undefined).map((u) => ({ account: a.name, user: u.name, password: u.password as string })));
  const stored = await store.read(async (tx) => {
    const found: Array<{ hash: string | null; known: boolean }> = [];
    for (const d of declared) {
      const account = await tx.findAccountByName(d.account);
      const user = account ? await tx.findUser(account.id, d.user) : null;
      const hash = user?.passwordHash ?? null;
      const known = remembered !== null && user !== null && hash !== null && (await tx.getSetting(passwordChecked(remembered, user, hash, d.password))) !== null;
      found.push({ hash, known });
    }
    return found;
  });
  const checked = new PasswordsChecked();
  // As many at once as libuv's pool keeps for password checks: key generations keep their threads.
  let next = 0;
  const checker = async () => {
    for (let i = next++; i < declared.length; i = next++) {
      signal?.throwIfAborted();
      const d = declared[i];
      const { hash, known } = stored[i];
      const same = hash !== null && (known || (await verifyPassword(d.password, hash)));
      checked.set(d.account, d.user, hash, same ? (hash as string) : await hashPassword(d.password));
    }
  };
  await Promise.all(Array.from({ length: POOL_KEPT_FOR_LOGINS }, checker));
  // Stopped during the last checks: no transaction follows either.
  signal?.throwIfAborted();
  return checked;
}

async function passwordHashOf(tx: Tx, account: Account, user: User | null, spec: UserSpec, rootKey: RootKey, remembered: boolean, plan: PasswordPlan): Promise<string | null> {
  if (spec.password === undefined) return null;
  const stored = user?.passwordHash ?? null;
  if (plan === KEEP_STORED_PASSWORDS) return stored;
  const checked = plan?.hashFor(account.name, spec.name, stored);
  if (checked !== undefined) return checked;
  return user && (await samePassword(tx, rootKey, user, spec.password, remembered)) ? stored : hashPassword(spec.password);
}

async function applyUser(tx: Tx, account: Account, spec: UserSpec, admin: boolean, rootKey: RootKey, remembered: boolean, plan: PasswordPlan): Promise<User> {
  const policies = admin ? [ADMIN_POLICY, ...(spec.policies ?? []).filter((p) => p !== ADMIN_POLICY)] : (spec.policies ?? []);
  let user = await tx.findUser(account.id, spec.name);
  if (user && spec.id && user.id !== spec.id) {
    throw new IdentitiesError(`user "${spec.name}" of "${account.name}" exists with id ${user.id}, the file says ${spec.id}`);
  }
  const passwordHash = await passwordHashOf(tx, account, user, spec, rootKey, remembered, plan);
  if (!user) {
    user = { id: spec.id ?? newIdentityId(), accountId: account.id, name: spec.name, passwordHash, policies, disabled: false };
    if (await tx.getUser(user.id)) throw new IdentitiesError(`user id ${user.id} is already used by another user`);
    await tx.insertUser(user);
  } else if (user.passwordHash !== passwordHash || JSON.stringify(user.policies) !== JSON.stringify(policies)) {
    user = { ...user, passwordHash, policies };
    await tx.updateUser(user);
  }
  if (remembered && plan !== KEEP_STORED_PASSWORDS && spec.password !== undefined && passwordHash !== null) await tx.initSetting(passwordChecked(rootKey, user, passwordHash, spec.password), '1');
  // Access keys the file no longer lists are disabled by retainIdentities, not deleted: an AK
  // id stays this user's, so it can never come back as somebody else's.
  const wanted = new Map((spec.access_keys ?? []).map((k) => [k.ak, k.sk]));
  for (const existing of await tx.accessKeysOfUser(user.id)) {
    const sk = wanted.get(existing.ak);
    if (sk === undefined) continue;
    if (rootKey.open(existing.skSealed, secretKeyContext(existing.ak)).toString('utf8') !== sk) {
      await tx.updateAccessKeySecret(existing.ak, rootKey.seal(Buffer.from(sk, 'utf8'), secretKeyContext(existing.ak)));
    }
    wanted.delete(existing.ak);
  }
  for (const [ak, sk] of wanted) {
    const other = await tx.getAccessKey(ak);
    if (other) throw new IdentitiesError(`access key ${ak} already belongs to another user`);
    await tx.insertAccessKey({ ak, userId: user.id, skSealed: rootKey.seal(Buffer.from(sk, 'utf8'), secretKeyContext(ak)), disabled: false });
  }
  return user;
}

/**
 * Applies the file in one transaction: all of it, or (on any error) nothing. Whatever the file
 * does not list is disabled in that same transaction.
 */
/**
 * `passwords`: how the file's passwords are settled (PasswordPlan).
 * `rememberPasswords`: for the development account only. Its password is kept in clear in
 * dev-identities.json beside the database, so a record that a password matched (a MAC under
 * the root key, see passwordChecked) tells a reader of the data directory nothing the file does
 * not; it spares every start its scrypt. A declared identities file lives where its owner keeps
 * it, and nothing faster than scrypt that could confirm one of its passwords is ever stored.
 */
export async function applyIdentities(
  store: Store, spec: IdentitiesSpec, region: string, rootKey: RootKey, now: number, rememberPasswords = false,
  passwords: PasswordPlan = null,
): Promise<AddedUser[]> {
  return store.write(async (tx) => {
    // First, before any row: one apply at a time across the nodes (Tx.lockIdentities).
    await tx.lockIdentities();
    const added: AddedUser[] = [];
    // A declared file leaves no record of a match behind, not even one the development account
    // wrote before this data directory was given a file.
    if (!rememberPasswords) await tx.deleteSettings(PASSWORD_CHECKED);
    const keep = { accountIds: new Set<string>(), userIds: new Set<string>(), accessKeys: new Set<string>() };
    const unusable: User[] = [];
    for (const accountSpec of spec.accounts) {
      const account = await applyAccount(tx, accountSpec, region);
      keep.accountIds.add(account.id);
      const users: User[] = [];
      for (const [i, userSpec] of accountSpec.users.entries()) {
        const before = await tx.findUser(account.id, userSpec.name);
        const user = await applyUser(tx, account, userSpec, i === 0, rootKey, rememberPasswords, passwords);
        if (!before) added.push({ account: account.name, name: user.name, id: user.id });
        if (passwords === KEEP_STORED_PASSWORDS && before && user.passwordHash !== null && loginGrantsChange(before, user, account)) unusable.push(user);
        users.push(user);
        keep.userIds.add(user.id);
        for (const key of userSpec.access_keys ?? []) keep.accessKeys.add(key.ak);
      }
      for (const alias of accountSpec.default_keys ?? []) {
        if (!isDefaultAlias(alias) || (await tx.findKeyByAlias(account.id, region, alias))) continue;
        const caller = systemCaller(users[0].id, account.id, region);
        await createKey(tx, caller, { alias, spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', description: '', origin: 'kms', defaultKey: true }, rootKey, { maxKeys: Infinity }, now);
      }
    }
    await tx.retainIdentities(keep);
    // Fail closed until the passwords follow (DECISIONS.declaredPasswordsAfterListen): a user
    // this transaction re-enables or gives other policies keeps no usable password in the
    // meantime, on any node, or its old (maybe replaced) password would log in with the new rights.
    for (const user of unusable) await tx.updateUser({ ...user, passwordHash: null });
    return added;
  });
}

/**
 * Whether what a password login of this user grants changes in this transaction: the user or
 * its account comes back from disabled (retainIdentities enables every identity the file
 * lists), or its policies change. `account` is the account's row as it was before.
 */
function loginGrantsChange(before: User, after: User, account: Account): boolean {
  return before.disabled || account.disabled || JSON.stringify(before.policies) !== JSON.stringify(after.policies);
}

/** A user an identities file brought that the store did not have (the start banner and SIGHUP name them). */
export interface AddedUser {
  account: string;
  name: string;
  id: string;
}
