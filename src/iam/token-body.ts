import type { Account, Project, Token, User } from '../core/model.ts';
import { iamTime } from '../auth/tokens.ts';

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
        catalog: [
          { type: 'kms', id: 'kmsd-kms', name: 'kms', endpoints: [endpoint(input.endpoint, input.region, 'kms')] },
          { type: 'identity', id: 'kmsd-iam', name: 'iam', endpoints: [endpoint(input.endpoint, '*', 'iam')] },
        ],
      }),
      // A policy document is listed by its place, as a custom policy (its content is not a name).
      roles: user.policies.map((policy, i) => ({ name: typeof policy === 'string' ? policy : `custom_policy_${i}`, id: String(i) })),
    },
  };
}

function endpoint(url: string, region: string, id: string): Record<string, string> {
  return { url, region, region_id: region, interface: 'public', id: `kmsd-${id}-endpoint` };
}
