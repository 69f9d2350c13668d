import type { AuditEvent } from '../core/model.ts';
import type { Store } from '../store/store.ts';
import { table } from './connect.ts';

/** Ids as the store writes them; anything else recorded is shown as it is, never looked up. */
const PRINCIPAL_ID = /^[0-9a-zA-Z]{1,64}$/;
const KEY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What the table shows for ids: `user@account`, an account's name, a key's alias. */
interface Names {
  users: Map<string, string>;
  accounts: Map<string, string>;
  keys: Map<string, string>;
}

/** The names of the callers and keys a page of events mentions, read in one transaction. */
async function namesOf(store: Store, events: AuditEvent[]): Promise<Names> {
  const ids = (pick: (e: AuditEvent) => string | null, shape: RegExp) =>
    [...new Set(events.map(pick).filter((id): id is string => id !== null && shape.test(id)))];
  const users = ids((e) => e.userId, PRINCIPAL_ID);
  const accounts = ids((e) => (e.userId === null ? e.accountId : null), PRINCIPAL_ID);
  const keys = ids((e) => e.keyId, KEY_ID);
  return store.read(async (tx) => {
    const names: Names = { users: new Map(), accounts: new Map(), keys: new Map() };
    for (const id of users) {
      const found = await tx.getUserAndAccount(id);
      if (found) names.users.set(id, `${found.user.name}@${found.account.name}`);
    }
    for (const id of accounts) {
      const account = await tx.getAccount(id);
      if (account) names.accounts.set(id, `@${account.name}`);
    }
    for (const id of keys) {
      const key = await tx.getKey(id);
      if (key && key.alias !== '') names.keys.set(id, key.alias);
    }
    return names;
  });
}

/**
 * Who made the request: `user@account`, the account alone, or the access key a refused request only
 * claimed. A refused login records the user it named, who did not make it: `unknown (tried user@account)`.
 */
function caller(e: AuditEvent, names: Names): string {
  if (e.userId !== null && e.operation === 'create-token' && e.outcome !== 'allowed') return `unknown (tried ${names.users.get(e.userId) ?? e.userId})`;
  if (e.userId !== null) return names.users.get(e.userId) ?? e.userId;
  if (e.accountId !== null) return names.accounts.get(e.accountId) ?? e.accountId;
  if (e.claimedAccessKeyId !== null) return `unknown (claimed ${e.claimedAccessKeyId})`;
  return 'unknown';
}

/** The resource: the key's alias where it has one (else its id), or `secret <name>`. */
function resource(e: AuditEvent, names: Names): string {
  if (e.keyId !== null) return names.keys.get(e.keyId) ?? e.keyId;
  const secret = e.secretName ?? e.secretId;
  return secret === null || secret === undefined ? '' : `secret ${secret}`;
}

/** How it ended: outcome, status, the error code of a refusal, and how many requests a summary stands for. */
function outcome(e: AuditEvent): string {
  return [e.outcome, String(e.status), e.errorCode ?? '', e.count > 1 ? `x${e.count}` : ''].filter((s) => s !== '').join(' ');
}

/**
 * The columns' widths, the same on every page (the table is printed 1,000 records at a time): a seq
 * of 10 digits, an ISO time, the longest operation name, a key id; callers, aliases, outcomes with a
 * summary count and sources (an IPv4 address, IPv4-mapped IPv6) past their width are cut with `…`.
 * Every field is whole in `--output json`.
 */
const WIDTHS = [10, 24, 36, 34, 36, 26, 24];

/** One page of events as table rows (with the header on the first page). */
export async function auditTable(store: Store, events: AuditEvent[], header: boolean): Promise<string> {
  const names = await namesOf(store, events);
  const rows = events.map((e) => [
    String(e.seq), new Date(e.time).toISOString(), caller(e, names), e.operation, resource(e, names), outcome(e), e.source ?? '', e.grantId ?? '',
  ]);
  const text = table(['SEQ', 'TIME', 'CALLER', 'OPERATION', 'KEY', 'OUTCOME', 'SOURCE', 'GRANT'], rows, WIDTHS);
  return header ? text : text.slice(text.indexOf('\n') + 1);
}
