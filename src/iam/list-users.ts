import { signable } from '../api/signable.ts';
import { IamError } from '../core/errors.ts';
import { policySet } from '../auth/policy.ts';
import type { IamRoute } from './route.ts';

/** The action Huawei IAM checks for KeystoneListUsers (the administrator's: Tenant Administrator holds it). */
export const LIST_USERS_ACTION = 'iam:users:listUsers';

const FILTERS = ['domain_id', 'name', 'enabled', 'password_expires_at'] as const;

/** password_expires_at={lt|lte|gt|gte|eq|neq}:YYYY-MM-DDTHH:mm:ssZ, as Huawei documents the filter. */
const PASSWORD_EXPIRES_AT = /^(lt|lte|gt|gte|eq|neq):\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/**
 * GET /v3/users (Huawei IAM KeystoneListUsers): the caller's account's users, for an
 * administrator (a caller whose policies allow iam:users:listUsers); filters domain_id, name,
 * enabled and password_expires_at. The web console names grantees with it.
 */
export const listUsers: IamRoute = {
  method: 'GET',
  url: '/v3/users',
  async handle({ services, authenticator, request, publicUrl, refusals, identified }) {
    const principal = await authenticator.authenticate(signable(request));
    const draft = identified('list-users', principal);
    // A known caller refused is in the audit trail (denied, IAM.403), as a refused KMS call is.
    const forbidden = async (): Promise<never> => {
      await refusals.record(draft, false, 403, 'IAM.403');
      throw new IamError(403, `You are not authorized to perform the requested action: ${LIST_USERS_ACTION}.`);
    };
    const subject = {
      userId: principal.userId, userName: principal.userName, accountId: principal.accountId,
      accountName: principal.accountName, projectId: principal.projectId ?? '', region: services.config.region,
    };
    if (!policySet(principal.policies).evaluate([LIST_USERS_ACTION], subject, null).allowed) await forbidden();
    const query = request.query as Record<string, string | string[] | undefined>;
    // Other parameters are ignored, as Keystone ignores them; a filter must be given once.
    for (const name of FILTERS) {
      if (Array.isArray(query[name])) throw new IamError(400, `Invalid input for field '${name}': given more than once.`);
    }
    const { domain_id: domainId, name, enabled, password_expires_at: expiresAt } = query as Record<string, string | undefined>;
    if (enabled !== undefined && enabled !== 'true' && enabled !== 'false') {
      throw new IamError(400, "Invalid input for field 'enabled': expected true or false.");
    }
    if (expiresAt !== undefined && !PASSWORD_EXPIRES_AT.test(expiresAt)) {
      throw new IamError(400, "Invalid input for field 'password_expires_at': expected {operator}:YYYY-MM-DDTHH:mm:ssZ.");
    }
    // An administrator lists its own account's users only (DECISIONS.listUsersOwnAccount).
    if (domainId !== undefined && domainId !== principal.accountId) await forbidden();
    const base = `${publicUrl}/v3`;
    const users = (await services.store.read((tx) => tx.usersOfAccount(principal.accountId)))
      .filter((u) => name === undefined || u.name === name)
      .filter((u) => enabled === undefined || u.disabled === (enabled === 'false'))
      // No kmsd password expires (password_expires_at is null), so no comparison with a time holds
      // (DECISIONS.listUsersPasswordExpiry).
      .filter(() => expiresAt === undefined);
    return {
      status: 200,
      body: {
        users: users.map((u) => ({
          id: u.id, name: u.name, domain_id: u.accountId, enabled: !u.disabled, description: '',
          password_expires_at: null, pwd_status: false,
        })),
        // The list's own URL, without the query (never echoed: it is the caller's unvalidated
        // text). No user has a self link: kmsd serves no GET /v3/users/{user_id}
        // (DECISIONS.listUsersLinks).
        links: { self: `${base}/users`, previous: null, next: null },
      },
    };
  },
};
