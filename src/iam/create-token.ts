import { DECISIONS } from '../core/decisions.ts';
import { AuthError, IamError } from '../core/errors.ts';
import { verifyPassword } from '../auth/passwords.ts';
import { TOKEN_TTL_MS, newToken, tokenHash } from '../auth/tokens.ts';
import type { Account, Project, Token, User } from '../core/model.ts';
import type { Tx } from '../store/store.ts';
import { PasswordsNotInForceError } from '../auth/password-gate.ts';
import { anonymousDraft, type AuditDraft } from '../api/audit.ts';
import type { IamRoute } from './route.ts';
import { tokenBody } from './token-body.ts';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

const WRONG = 'The username or password is wrong.';
const UNAUTHENTICATED = 'The request you have made requires authentication.';
const OPERATION = 'create-token';

function parse(raw: unknown): Json {
  try {
    const body = obj(JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : ''));
    if (body) return body;
  } catch {
    // answered below
  }
  throw new IamError(400, 'The request body is not valid JSON.');
}

async function findAccount(tx: Tx, domain: Json | undefined): Promise<Account | null> {
  if (str(domain?.id)) return tx.getAccount(domain?.id as string);
  if (str(domain?.name)) return tx.findAccountByName(domain?.name as string);
  return null;
}

/** The scope asked for: a project of the user's account, or its domain (null). */
async function resolveScope(tx: Tx, scope: Json | undefined, account: Account, region: string): Promise<Project | null> {
  const project = obj(scope?.project);
  if (project) {
    const projects = await tx.projectsOfAccount(account.id);
    const found = projects.find((p) => p.id === project.id || (project.id === undefined && p.name === project.name));
    if (!found) throw new IamError(401, UNAUTHENTICATED);
    return found;
  }
  const domain = obj(scope?.domain);
  if (domain && domain.id !== account.id && domain.name !== account.name) throw new IamError(401, UNAUTHENTICATED);
  if (!scope) {
    const projects = await tx.projectsOfAccount(account.id);
    return projects.find((p) => p.name === region) ?? null;
  }
  return null;
}

interface Login {
  user: User;
  account: Account;
  method: 'password' | 'token';
  /** The token's expiry: a token made from a token expires when that one does (as Keystone's). */
  expiresAt: number;
}

/**
 * POST /v3/auth/tokens: password (or token) authentication; the token comes back in
 * X-Subject-Token. Every login is in the audit trail: a success in the transaction that
 * stores its token, a failure as a refusal (bounded per source address like every refusal of
 * an unknown caller). Failed password logins are limited per user and per address (LoginGuard).
 */
export const createToken: IamRoute = {
  method: 'POST',
  url: '/v3/auth/tokens',
  async handle({ services, authenticator, request, publicUrl, refusals, logins }) {
    const { store, clock, config } = services;
    const draft = anonymousDraft(request.id, OPERATION, undefined, request.ip);
    const refuse = async (error: IamError): Promise<never> => {
      await refusals.record(draft, false, error.status, error.status === 401 ? DECISIONS.failedLoginCode : `IAM.${error.status}`);
      throw error;
    };
    const auth = obj(parse(request.body).auth);
    const identity = obj(auth?.identity);
    const methods = identity?.methods;
    if (!auth || !identity || !Array.isArray(methods)) throw new IamError(400, 'Request parameter auth.identity.methods is missing.');
    const now = clock.now();
    let login: Login;
    if (methods.includes('password')) {
      const given = obj(obj(identity.password)?.user);
      const password = str(given?.password);
      if (!given || !password) throw new IamError(400, 'Request parameter auth.identity.password.user is missing.');
      const domain = obj(given.domain);
      // Right after a start (or a SIGHUP) the identities file's passwords may still be being
      // checked (src/identities-chain.ts): every password login waits for them, whatever user it
      // names, before it reads the user; past the request's deadline, too many waiting, or the
      // node stopping, it is answered with IAM's 503 (the body of a store outage).
      const refused = services.declaredPasswords ? await services.declaredPasswords.passable(config.requestTimeout) : null;
      if (refused !== null) throw new PasswordsNotInForceError(refused);
      const found = await store.read(async (tx) => {
        let user: User | null = null;
        let account: Account | null = null;
        if (str(given.id)) user = await tx.getUser(given.id as string);
        else {
          account = await findAccount(tx, domain);
          user = account && str(given.name) ? await tx.findUser(account.id, given.name as string) : null;
        }
        if (user && !account) account = await tx.getAccount(user.accountId);
        return { user, account };
      });
      const { user, account } = found;
      // The budget is the resolved user's, however the request names it; a name no user has is
      // counted by its spelling (it can never log in, but its checks still cost scrypt).
      const who = user ? `id:${user.id}` : `name:${str(domain?.id) ?? str(domain?.name) ?? ''}/${str(given.id) ?? str(given.name) ?? ''}`;
      const reservation = await logins.reserve(who, request.ip);
      if (!reservation) throw new IamError(429, 'The number of failed login attempts has reached the limit. Try again later.', logins.retryAfterSeconds);
      if (user && account) Object.assign(draft, { accountId: account.id, userId: user.id });
      // Verify even for an unknown or disabled user, so timing does not tell which names exist.
      const ok = await verifyPassword(password, user?.passwordHash ?? 'scrypt$00$00').catch((error: unknown) => {
        reservation.failed();
        throw error;
      });
      if (!ok || !user || !account || user.disabled || account.disabled) {
        reservation.failed();
        return refuse(new IamError(401, WRONG));
      }
      reservation.succeeded();
      login = { user, account, method: 'password', expiresAt: now + TOKEN_TTL_MS };
    } else if (methods.includes('token')) {
      const id = str(obj(identity.token)?.id);
      if (!id) throw new IamError(400, 'Request parameter auth.identity.token.id is missing.');
      const principal = await authenticator.byToken(id).catch((error: unknown) =>
        error instanceof AuthError ? refuse(new IamError(401, UNAUTHENTICATED)) : Promise.reject(error));
      const found = await store.read((tx) => tx.getUserAndAccount(principal.userId));
      if (!found) return refuse(new IamError(401, UNAUTHENTICATED));
      login = { ...found, method: 'token', expiresAt: principal.expiresAt ?? now };
    } else {
      throw new IamError(400, 'Only the password and token methods are supported.');
    }
    const { user, account } = login;
    Object.assign(draft, { accountId: account.id, userId: user.id });
    const project = await store.read((tx) => resolveScope(tx, obj(auth.scope), account, config.region)).catch((error: unknown) =>
      error instanceof IamError ? refuse(error) : Promise.reject(error));
    const secret = newToken();
    const token: Token = { hash: tokenHash(secret), userId: user.id, projectId: project?.id ?? null, issuedAt: now, expiresAt: login.expiresAt };
    await store.write(async (tx) => {
      await tx.deleteExpiredTokens(now);
      await tx.insertToken(token);
      await tx.insertAudit(loginRecord(draft, now));
    });
    const query = request.query as Record<string, string | undefined>;
    return {
      status: 201,
      headers: { 'X-Subject-Token': secret },
      body: tokenBody({ token, user, account, project, method: login.method, endpoint: publicUrl, region: config.region, catalog: !query.nocatalog }),
    };
  },
};

function loginRecord(draft: AuditDraft, now: number) {
  const { recorded: _recorded, authenticated: _authenticated, ...subject } = draft;
  return { ...subject, time: now, outcome: 'allowed' as const, status: 201, errorCode: null, count: 1 };
}
