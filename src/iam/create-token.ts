import { IamError } from '../core/errors.ts';
import { verifyPassword } from '../auth/passwords.ts';
import { TOKEN_TTL_MS, newToken, tokenHash } from '../auth/tokens.ts';
import type { Account, Project, Token, User } from '../core/model.ts';
import type { Tx } from '../store/store.ts';
import type { IamRoute } from './route.ts';
import { tokenBody } from './token-body.ts';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

const WRONG = 'The username or password is wrong.';

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
    if (!found) throw new IamError(401, 'The request you have made requires authentication.');
    return found;
  }
  const domain = obj(scope?.domain);
  if (domain && domain.id !== account.id && domain.name !== account.name) {
    throw new IamError(401, 'The request you have made requires authentication.');
  }
  if (!scope) {
    const projects = await tx.projectsOfAccount(account.id);
    return projects.find((p) => p.name === region) ?? null;
  }
  return null;
}

/** POST /v3/auth/tokens: password (or token) authentication; the token comes back in X-Subject-Token. */
export const createToken: IamRoute = {
  method: 'POST',
  url: '/v3/auth/tokens',
  async handle({ services, authenticator, request }) {
    const { store, clock, config } = services;
    const auth = obj(parse(request.body).auth);
    const identity = obj(auth?.identity);
    const methods = identity?.methods;
    if (!auth || !identity || !Array.isArray(methods)) throw new IamError(400, 'Request parameter auth.identity.methods is missing.');
    let user: User | null = null;
    let account: Account | null = null;
    let method: string;
    if (methods.includes('password')) {
      method = 'password';
      const given = obj(obj(identity.password)?.user);
      const password = str(given?.password);
      if (!given || !password) throw new IamError(400, 'Request parameter auth.identity.password.user is missing.');
      await store.read(async (tx) => {
        if (str(given.id)) user = await tx.getUser(given.id as string);
        else {
          account = await findAccount(tx, obj(given.domain));
          user = account && str(given.name) ? await tx.findUser(account.id, given.name as string) : null;
        }
        if (user && !account) account = await tx.getAccount((user as User).accountId);
      });
      // Verify even for an unknown user, so timing does not tell which names exist.
      const ok = await verifyPassword(password, (user as User | null)?.passwordHash ?? 'scrypt$00$00');
      if (!ok || !user || !account) throw new IamError(401, WRONG);
    } else if (methods.includes('token')) {
      method = 'token';
      const id = str(obj(identity.token)?.id);
      if (!id) throw new IamError(400, 'Request parameter auth.identity.token.id is missing.');
      const principal = await authenticator.byToken(id).catch(() => {
        throw new IamError(401, 'The request you have made requires authentication.');
      });
      await store.read(async (tx) => {
        user = await tx.getUser(principal.userId);
        account = await tx.getAccount(principal.accountId);
      });
      if (!user || !account) throw new IamError(401, 'The request you have made requires authentication.');
    } else {
      throw new IamError(400, 'Only the password and token methods are supported.');
    }
    const theUser = user as User;
    const theAccount = account as Account;
    const project = await store.read((tx) => resolveScope(tx, obj(auth.scope), theAccount, config.region));
    const secret = newToken();
    const now = clock.now();
    const token: Token = { hash: tokenHash(secret), userId: theUser.id, projectId: project?.id ?? null, issuedAt: now, expiresAt: now + TOKEN_TTL_MS };
    await store.write(async (tx) => {
      await tx.deleteExpiredTokens(now);
      await tx.insertToken(token);
    });
    const query = request.query as Record<string, string | undefined>;
    return {
      status: 201,
      headers: { 'X-Subject-Token': secret },
      body: tokenBody({
        token, user: theUser, account: theAccount, project, method,
        endpoint: `http://${request.headers.host ?? 'localhost'}`, region: config.region, catalog: !query.nocatalog,
      }),
    };
  },
};
