import type { Account, Project, Token, User } from '../core/model.ts';
import { iamTime } from '../auth/tokens.ts';
import { serviceCatalog } from './catalog.ts';

/** The `token` object of POST/GET /v3/auth/tokens (reference §9.1). */
export function tokenBody(input: {
  token: Token;
  user: User;
  account: Account;
  project: Project | null;
  method: string;
  endpoint: string;
  region: string;
  catalog: boolean;
}): Record<string, unknown> {
  const { token, user, account, project } = input;
  const domain = { id: account.id, name: account.name };
  return {
    token: {
      methods: [input.method],
      expires_at: iamTime(token.expiresAt),
      issued_at: iamTime(token.issuedAt),
      user: { domain, id: user.id, name: user.name, password_expires_at: '' },
      ...(project ? { project: { id: project.id, name: project.name, domain } } : { domain }),
      ...(input.catalog && {
        catalog: serviceCatalog(input.endpoint, input.region, project?.id ?? null),
      }),
      // A policy document is listed by its place, as a custom policy (its content is not a name).
      roles: user.policies.map((policy, i) => ({ name: typeof policy === 'string' ? policy : `custom_policy_${i}`, id: String(i) })),
    },
  };
}
