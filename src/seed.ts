import { randomBytes } from 'node:crypto';
import { GRANT_OPERATIONS, type GrantOperation } from './core/access.ts';
import { DEFAULT_ROTATION_INTERVAL_DAYS, KEY_SPECS, isDefaultAlias } from './core/keys.ts';
import { DEFAULT_KEYSTORE } from './core/keystores.ts';
import { KeyState, type Account, type GranteeType, type Key, type KeyStateValue, type User } from './core/model.ts';
import { newGrantId } from './core/runtime.ts';
import { RootKey, materialContext } from './core/sealing.ts';
import { KEY_ID_PATTERN, NAME_PATTERN } from './api/fields.ts';
import type { IdentitiesSpec } from './identities.ts';
import type { Store, Tx } from './store/store.ts';

/**
 * Seeded fixtures: keys and grants that exist from the first request on, declared in the
 * identities file (members `keys` and `grants` beside `accounts`) or in a seed file of their
 * own (`--seed FILE`, the same two members). As local-kms seeds keys, a key may carry fixed
 * material, so a ciphertext kept in a test repository decrypts on every fresh start; the
 * material is sealed under the root key like all material, never stored in the clear.
 *
 * Applying a seed creates what is missing and changes nothing that exists: a key with the
 * declared id is left as it is (clients may have disabled or renamed it since), but must
 * belong to the declared account, have the declared spec and, when material is declared,
 * that material. A grant is found by its grant_id, or else by its name on its key.
 */
export interface SeedSpec {
  keys: KeySeed[];
  grants: GrantSeed[];
}

export interface KeySeed {
  /** Name of the account (in the identities file) that owns the key. */
  account: string;
  key_id: string;
  alias: string;
  spec: string;
  state: 'enabled' | 'disabled';
  description: string;
  /** base64 of the clear material of version 1 (32 bytes for AES_256, 16 for SM4). */
  material: Buffer | null;
}

export interface GrantSeed {
  key_id: string;
  name: string;
  grant_id: string | null;
  /** "account/user" for a user grantee, "account" for a domain grantee. */
  grantee: string;
  grantee_type: GranteeType;
  operations: GrantOperation[];
  /** "account/user", or null. */
  retiring: string | null;
}

export class SeedError extends Error {}

const STATES: Record<KeySeed['state'], KeyStateValue> = { enabled: KeyState.enabled, disabled: KeyState.disabled };
const KEY_ID = new RegExp(KEY_ID_PATTERN);
const NAME = new RegExp(NAME_PATTERN);
const GRANT_ID = /^[0-9a-f]{64}$/;
const USER_REF = /^[A-Za-z0-9_.-]{1,64}\/[A-Za-z0-9_.-]{1,64}$/;
const ACCOUNT_REF = /^[A-Za-z0-9_.-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const KEY_FIELDS = new Set(['account', 'key_id', 'alias', 'spec', 'state', 'description', 'material', 'tags']);
const GRANT_FIELDS = new Set(['key_id', 'name', 'grant_id', 'grantee', 'grantee_type', 'operations', 'retiring']);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(path: string, message: string): never {
  throw new SeedError(`${path}: ${message}`);
}

function unknownMembers(value: Json, known: Set<string>, at: string): void {
  for (const name of Object.keys(value)) if (!known.has(name)) fail(`${at}.${name}`, 'is not a seed field');
}

function text(value: unknown, pattern: RegExp, path: string, what: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) fail(path, `must be ${what}`);
  return value;
}

/**
 * Checks the `keys` and `grants` of a parsed identities or seed file (the rest of the file is
 * not looked at here). Every message names the bad entry, e.g. keys[1].material.
 */
export function parseSeed(input: unknown): SeedSpec {
  if (!isObject(input)) fail('seed', 'must be a JSON object');
  const rawKeys = input.keys ?? [];
  const rawGrants = input.grants ?? [];
  if (!Array.isArray(rawKeys)) fail('keys', 'must be an array');
  if (!Array.isArray(rawGrants)) fail('grants', 'must be an array');
  const keyIds = new Set<string>();
  const aliases = new Set<string>();
  const keys = rawKeys.map((k: unknown, i: number): KeySeed => {
    const at = `keys[${i}]`;
    if (!isObject(k)) fail(at, 'must be an object');
    unknownMembers(k, KEY_FIELDS, at);
    const account = text(k.account, ACCOUNT_REF, `${at}.account`, 'the name of an account of the identities');
    const keyId = text(k.key_id, KEY_ID, `${at}.key_id`, 'a key id such as "0d0466b0-5c1f-4a8e-9b7e-3f2a1c4d5e6f" (lower case)');
    if (keyIds.has(keyId)) fail(`${at}.key_id`, `"${keyId}" is declared twice`);
    keyIds.add(keyId);
    const alias = text(k.alias, NAME, `${at}.alias`, '1-255 characters of letters, digits, : / _ -');
    if (isDefaultAlias(alias)) fail(`${at}.alias`, 'must not end with /default (default keys are declared in accounts[].default_keys)');
    if (aliases.has(`${account}\0${alias}`)) fail(`${at}.alias`, `"${alias}" is declared twice for account "${account}"`);
    aliases.add(`${account}\0${alias}`);
    const spec = k.spec === undefined ? 'AES_256' : text(k.spec, /^(AES_256|SM4)$/, `${at}.spec`, 'AES_256 or SM4');
    const state = k.state === undefined ? 'enabled' : (text(k.state, /^(enabled|disabled)$/, `${at}.state`, 'enabled or disabled') as KeySeed['state']);
    if (k.description !== undefined && (typeof k.description !== 'string' || k.description.length > 255)) {
      fail(`${at}.description`, 'must be a string of at most 255 characters');
    }
    let material: Buffer | null = null;
    if (k.material !== undefined) {
      const bytes = KEY_SPECS[spec];
      const value = k.material;
      if (typeof value !== 'string' || !BASE64.test(value) || Buffer.from(value, 'base64').length !== bytes || Buffer.from(value, 'base64').toString('base64') !== value) {
        fail(`${at}.material`, `must be base64 of ${bytes} bytes for ${spec}`);
      }
      material = Buffer.from(value, 'base64');
    }
    // Extension point: key tags. kmsd does not serve the tag operations yet; once it does,
    // parse them here (into KeySeed) and write them in applySeed after the key is inserted.
    if (k.tags !== undefined) fail(`${at}.tags`, 'key tags are not served by this kmsd yet');
    return { account, key_id: keyId, alias, spec, state, description: (k.description as string | undefined) ?? '', material };
  });
  const grantIds = new Set<string>();
  const grantNames = new Set<string>();
  const grants = rawGrants.map((g: unknown, i: number): GrantSeed => {
    const at = `grants[${i}]`;
    if (!isObject(g)) fail(at, 'must be an object');
    unknownMembers(g, GRANT_FIELDS, at);
    const keyId = text(g.key_id, KEY_ID, `${at}.key_id`, 'the key_id of a key declared in keys');
    if (!keyIds.has(keyId)) fail(`${at}.key_id`, `"${keyId}" is not declared in keys`);
    const name = text(g.name, NAME, `${at}.name`, '1-255 characters of letters, digits, : / _ -');
    if (grantNames.has(`${keyId}\0${name}`)) fail(`${at}.name`, `"${name}" is declared twice for key ${keyId}`);
    grantNames.add(`${keyId}\0${name}`);
    let grantId: string | null = null;
    if (g.grant_id !== undefined) {
      grantId = text(g.grant_id, GRANT_ID, `${at}.grant_id`, '64 lower-case hex characters, as the cloud\'s grant ids');
      if (grantIds.has(grantId)) fail(`${at}.grant_id`, `"${grantId}" is declared twice`);
      grantIds.add(grantId);
    }
    const type = g.grantee_type === undefined ? 'user' : (text(g.grantee_type, /^(user|domain)$/, `${at}.grantee_type`, 'user or domain') as GranteeType);
    const grantee = type === 'user'
      ? text(g.grantee, USER_REF, `${at}.grantee`, 'a user as "account/user"')
      : text(g.grantee, ACCOUNT_REF, `${at}.grantee`, 'an account name (grantee_type domain)');
    if (!Array.isArray(g.operations) || g.operations.length === 0) fail(`${at}.operations`, 'must be a non-empty array');
    g.operations.forEach((op: unknown, n: number) => {
      if (typeof op !== 'string' || !(GRANT_OPERATIONS as readonly string[]).includes(op)) fail(`${at}.operations[${n}]`, `must be one of ${GRANT_OPERATIONS.join(', ')}`);
    });
    const operations = [...new Set(g.operations as GrantOperation[])];
    if (operations.length === 1 && operations[0] === 'create-grant') fail(`${at}.operations`, 'must not be create-grant alone (KMS.2401)');
    const retiring = g.retiring === undefined ? null : text(g.retiring, USER_REF, `${at}.retiring`, 'a user as "account/user"');
    return { key_id: keyId, name, grant_id: grantId, grantee, grantee_type: type, operations, retiring };
  });
  return { keys, grants };
}

/**
 * Checks, before anything is written, that every account and user a seed names is declared
 * in the identities (the same check applySeed makes against the store).
 */
export function checkSeedNames(spec: SeedSpec, identities: IdentitiesSpec): void {
  const users = new Map(identities.accounts.map((a) => [a.name, new Set(a.users.map((u) => u.name))]));
  const account = (name: string, path: string) => {
    if (!users.has(name)) fail(path, `no account named "${name}" in the identities`);
  };
  const user = (ref: string, path: string) => {
    const [accountName, userName] = ref.split('/');
    account(accountName, path);
    if (!users.get(accountName)?.has(userName)) fail(path, `account "${accountName}" has no user "${userName}"`);
  };
  spec.keys.forEach((k, i) => account(k.account, `keys[${i}].account`));
  spec.grants.forEach((g, i) => {
    if (g.grantee_type === 'user') user(g.grantee, `grants[${i}].grantee`);
    else account(g.grantee, `grants[${i}].grantee`);
    if (g.retiring !== null) user(g.retiring, `grants[${i}].retiring`);
  });
}

/** Whether a parsed file declares anything to seed. */
export const seedsAnything = (input: unknown): boolean => isObject(input) && (input.keys !== undefined || input.grants !== undefined);

async function accountNamed(tx: Tx, name: string, path: string): Promise<Account> {
  const account = await tx.findAccountByName(name);
  if (!account) throw new SeedError(`${path}: no account named "${name}" in the identities`);
  return account;
}

async function userNamed(tx: Tx, ref: string, path: string): Promise<User> {
  const [accountName, userName] = ref.split('/');
  const account = await accountNamed(tx, accountName, path);
  const user = await tx.findUser(account.id, userName);
  if (!user) throw new SeedError(`${path}: account "${accountName}" has no user "${userName}"`);
  return user;
}

/** The account's administrator (its first user in the identities) issues its seeded grants. */
async function administrator(tx: Tx, account: Account, identities: IdentitiesSpec, path: string): Promise<User> {
  const declared = identities.accounts.find((a) => a.name === account.name);
  if (!declared) throw new SeedError(`${path}: the key's account "${account.name}" is not in the identities`);
  return userNamed(tx, `${account.name}/${declared.users[0].name}`, path);
}

async function applyKey(tx: Tx, spec: KeySeed, i: number, region: string, rootKey: RootKey, now: number): Promise<Key> {
  const at = `keys[${i}]`;
  const account = await accountNamed(tx, spec.account, `${at}.account`);
  const existing = await tx.getKey(spec.key_id, { lock: true });
  if (existing) {
    if (existing.accountId !== account.id || existing.region !== region) fail(`${at}.key_id`, `${spec.key_id} exists in another account or region`);
    if (existing.spec !== spec.spec) fail(`${at}.spec`, `key ${spec.key_id} exists with spec ${existing.spec}`);
    if (spec.material) {
      const stored = await tx.getMaterial(spec.key_id, 1);
      const clear = stored ? rootKey.open(stored.sealed, materialContext(spec.key_id, 1)) : null;
      const same = clear !== null && clear.equals(spec.material);
      clear?.fill(0);
      if (!same) fail(`${at}.material`, `key ${spec.key_id} exists with other material`);
    }
    return existing;
  }
  const other = await tx.findKeyByAlias(account.id, region, spec.alias);
  if (other) fail(`${at}.alias`, `"${spec.alias}" is already the alias of key ${other.keyId}`);
  const key: Key = {
    keyId: spec.key_id,
    accountId: account.id,
    region,
    alias: spec.alias,
    description: spec.description,
    spec: spec.spec,
    usage: 'ENCRYPT_DECRYPT',
    origin: 'kms',
    state: STATES[spec.state],
    creationDate: now,
    scheduledDeletionDate: null,
    defaultKey: false,
    rotationEnabled: false,
    rotationInterval: DEFAULT_ROTATION_INTERVAL_DAYS,
    lastRotationTime: null,
    rotationDue: null,
    rotations: 0,
    materialVersion: 1,
    keystoreId: DEFAULT_KEYSTORE,
    materialExpires: null,
    importDigest: null,
  };
  await tx.insertKey(key);
  const clear = spec.material ? Buffer.from(spec.material) : randomBytes(KEY_SPECS[spec.spec]);
  try {
    await tx.insertMaterial({ keyId: key.keyId, version: 1, sealed: rootKey.seal(clear, materialContext(key.keyId, 1)), createdAt: now });
  } finally {
    clear.fill(0);
  }
  return key;
}

async function applyGrant(tx: Tx, spec: GrantSeed, i: number, key: Key, identities: IdentitiesSpec, now: number, failClosed: boolean): Promise<void> {
  const at = `grants[${i}]`;
  if (spec.grant_id !== null) {
    const found = await tx.getGrant(spec.grant_id);
    if (found) {
      if (found.keyId !== key.keyId) fail(`${at}.grant_id`, `${spec.grant_id} exists on another key`);
      return;
    }
  } else {
    // Seeded grants are few: found by name among the key's grants.
    const page = await tx.listGrants(key.keyId, 0, 100_000);
    if (page.items.some((g) => g.name === spec.name)) return;
  }
  const grantee = spec.grantee_type === 'user'
    ? (await userNamed(tx, spec.grantee, `${at}.grantee`)).id
    : (await accountNamed(tx, spec.grantee, `${at}.grantee`)).id;
  const retiring = spec.retiring === null ? null : (await userNamed(tx, spec.retiring, `${at}.retiring`)).id;
  const issuer = await administrator(tx, (await tx.getAccount(key.accountId)) as Account, identities, at);
  await tx.insertGrant({
    grantId: spec.grant_id ?? newGrantId(now),
    keyId: key.keyId,
    granteePrincipal: grantee,
    granteeType: spec.grantee_type,
    operations: spec.operations,
    issuingPrincipal: issuer.id,
    retiringPrincipal: retiring,
    name: spec.name,
    creationDate: now,
  });
  if (failClosed) await dropPasswordsOfGainers(tx, spec.grantee_type === 'user' ? [grantee] : [], spec.grantee_type === 'domain' ? grantee : null, retiring);
}

/**
 * The grant just created widens what a password login of its grantee (a user, or every user of
 * a domain grantee) and of its retiring principal grants (a key just created: of every user of
 * its account). While the start has not put the
 * file's passwords in force (DECISIONS.declaredPasswordsAfterListen), such a user keeps no
 * usable password, in the grant's own transaction: on no node does an old (maybe replaced)
 * password log in with the grant. The file's password follows with the chain's first apply.
 */
async function dropPasswordsOfGainers(tx: Tx, userIds: string[], accountId: string | null, retiring: string | null): Promise<void> {
  const users = accountId === null ? [] : await tx.usersOfAccount(accountId);
  for (const id of [...userIds, ...(retiring === null ? [] : [retiring])]) {
    const user = await tx.getUser(id);
    if (user) users.push(user);
  }
  for (const user of users) {
    if (user.passwordHash === null) continue;
    await tx.updateUser({ ...user, passwordHash: null });
    user.passwordHash = null;
  }
}

/**
 * Applies a seed in one transaction: all of it, or (on any error) nothing. `passwordsFollow`:
 * the identities file's passwords are not in force yet (a start before it listens): a grant
 * created leaves the users it widens without a usable password (dropPasswordsOfGainers),
 * and so does a key created, every user of its account.
 */
export async function applySeed(store: Store, spec: SeedSpec, identities: IdentitiesSpec, region: string, rootKey: RootKey, now: number, passwordsFollow = false): Promise<void> {
  if (spec.keys.length === 0 && spec.grants.length === 0) return;
  await store.write(async (tx) => {
    const keys = new Map<string, Key>();
    for (const [i, k] of spec.keys.entries()) {
      const created = (await tx.getKey(k.key_id)) === null;
      const key = await applyKey(tx, k, i, region, rootKey, now);
      keys.set(k.key_id, key);
      // A key created (maybe with material whose ciphertexts exist) is new to every user of its
      // account whose policies reach it: the same fail closed as a grant's.
      if (passwordsFollow && created) await dropPasswordsOfGainers(tx, [], key.accountId, null);
    }
    for (const [i, g] of spec.grants.entries()) await applyGrant(tx, g, i, keys.get(g.key_id) as Key, identities, now, passwordsFollow);
  });
}
