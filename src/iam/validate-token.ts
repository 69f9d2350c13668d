import { AuthError, IamError } from '../core/errors.ts';
import { tokenHash } from '../auth/tokens.ts';
import type { IamRoute } from './route.ts';
import { tokenBody } from './token-body.ts';
import { signable } from '../api/signable.ts';

/** GET /v3/auth/tokens: the caller (X-Auth-Token or AK/SK) checks the token in X-Subject-Token. */
export const validateToken: IamRoute = {
  method: 'GET',
  url: '/v3/auth/tokens',
  async handle({ services, authenticator, request, publicUrl }) {
    await authenticator.authenticate(signable(request));
    const subject = request.headers['x-subject-token'];
    if (typeof subject !== 'string' || subject === '') throw new IamError(400, 'X-Subject-Token is missing.');
    // A token refused is not found; anything else (the store away) is answered as itself.
    const principal = await authenticator.byToken(subject).catch((error: unknown) => {
      throw error instanceof AuthError ? new IamError(404, 'The token does not exist or has expired.') : error;
    });
    const found = await services.store.read(async (tx) => {
      const token = await tx.getToken(tokenHash(subject));
      const user = await tx.getUser(principal.userId);
      const account = await tx.getAccount(principal.accountId);
      const project = token?.projectId ? await tx.getProject(token.projectId) : null;
      return token && user && account ? { token, user, account, project } : null;
    });
    if (!found) throw new IamError(404, 'The token does not exist or has expired.');
    const query = request.query as Record<string, string | undefined>;
    return {
      status: 200,
      headers: { 'X-Subject-Token': subject },
      body: tokenBody({
        ...found, method: 'password', endpoint: publicUrl,
        region: services.config.region, catalog: !query.nocatalog,
      }),
    };
  },
};
