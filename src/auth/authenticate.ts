import { AuthError } from '../core/errors.ts';
import type { Clock } from '../core/runtime.ts';
import { RootKey, secretKeyContext } from '../core/sealing.ts';
import type { Store, Tx } from '../store/store.ts';
import { checkSignature, parseAuthorization, type SignableRequest } from './signature.ts';
import { iamTime, tokenHash } from './tokens.ts';
import type { Policy, Token } from '../core/model.ts';
import { remember } from '../core/memo.ts';

/** Who made a request, once its token or signature checked out. */
/** How many tokens (by their text) the authenticator keeps hashed: fewer than rows it remembers. */
const TOKENS_HASHED = 4096;

export interface Principal {
  userId: string;
  userName: string;
  accountId: string;
  accountName: string;
  /** The project a token is scoped to; null for AK/SK and domain-scoped tokens. */
  projectId: string | null;
  policies: Policy[];
  /** The access key that signed the request, if any (audit needs it; it is not a secret). */
  accessKey: string | null;
  /** When the token that authenticated the request expires; null for AK/SK. */
  expiresAt: number | null;
}

/**
 * Resolves X-Auth-Token or an SDK-HMAC-SHA256 signature to a principal, or throws the
 * gateway's 401. Reads only committed data; every request looks its credentials up again,
 * so a removed access key or user is refused on the very next request.
 */
export class Authenticator {
  private readonly store: Store;
  private readonly rootKey: RootKey;
  private readonly clock: Clock;
  // Issued tokens never change once written (a token only expires, which is checked on every
  // use), so they are kept after their first read. Users, accounts and access keys are read
  // on every request: policies change, and identities the identities file no longer lists are
  // disabled (on every node, for the very next request).
  private readonly tokens = new Map<string, Token>();
  // The SHA-256 of valid tokens presented lately, by token: hashing one costs a few
  // microseconds of every token-authenticated request. Only tokens that were found are kept
  // (a flood of made-up tokens, up to the header limit each, must not fill memory).
  private readonly hashes = new Map<string, string>();
  constructor(store: Store, rootKey: RootKey, clock: Clock) {
    this.store = store;
    this.rootKey = rootKey;
    this.clock = clock;
  }

  async authenticate(request: SignableRequest): Promise<Principal> {
    const token = request.header('x-auth-token');
    if (token !== undefined) return this.byToken(token);
    const authorization = request.header('authorization');
    if (authorization !== undefined) return this.bySignature(request, authorization);
    throw new AuthError('x-auth-token not found');
  }

  async byToken(token: string): Promise<Principal> {
    const now = this.clock.now();
    return this.store.read(async (tx) => {
      const hash = this.hashes.get(token) ?? tokenHash(token);
      const found = this.tokens.get(hash) ?? (await tx.getToken(hash));
      if (!found) throw new AuthError('decrypt token fail');
      remember(this.tokens, hash, found);
      remember(this.hashes, token, hash, TOKENS_HASHED);
      if (found.expiresAt <= now) throw new AuthError(`token expires, expires_at: ${iamTime(found.expiresAt)}`);
      const principal = await this.principalOf(tx, found.userId, null);
      if (!principal) throw new AuthError('decrypt token fail');
      return { ...principal, projectId: found.projectId, expiresAt: found.expiresAt };
    });
  }

  private async bySignature(request: SignableRequest, authorization: string): Promise<Principal> {
    const auth = parseAuthorization(authorization);
    if (!auth) throw new AuthError('verify aksk signature fail');
    return this.store.read(async (tx) => {
      const key = await tx.getAccessKey(auth.accessKey);
      // A disabled access key is refused exactly as an unknown one: its id says nothing more.
      if (!key || key.disabled) throw new AuthError('Get secretKey failed,ak:******,err:ak not exist');
      const secretKey = this.rootKey.openKey(key.skSealed, secretKeyContext(key.ak));
      const refusal = checkSignature(request, auth, secretKey, this.clock.now());
      if (refusal !== null) throw new AuthError(refusal);
      const principal = await this.principalOf(tx, key.userId, key.ak);
      if (!principal) throw new AuthError('Get secretKey failed,ak:******,err:ak not exist');
      return principal;
    });
  }

  /** The principal of an enabled user of an enabled account, or null. */
  private async principalOf(tx: Tx, userId: string, accessKey: string | null): Promise<Principal | null> {
    const found = await tx.getUserAndAccount(userId);
    if (!found || found.user.disabled || found.account.disabled) return null;
    const { user, account } = found;
    return {
      userId: user.id,
      userName: user.name,
      accountId: account.id,
      accountName: account.name,
      projectId: null,
      policies: user.policies,
      accessKey,
      expiresAt: null,
    };
  }
}
