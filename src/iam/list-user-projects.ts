import { signable } from '../api/signable.ts';
import { DECISIONS } from '../core/decisions.ts';
import { IamError } from '../core/errors.ts';
import { projectView } from './project-view.ts';
import type { IamRoute } from './route.ts';

/**
 * GET /v3/users/{user_id}/projects: the projects a user may act in (`openstack project list
 * --my-projects`). Every project of the user's account, whatever the token is scoped to, as
 * Keystone lists a user's projects; a caller may list its own only (DECISIONS.userProjects).
 */
export const listUserProjects: IamRoute = {
  method: 'GET',
  url: '/v3/users/:user_id/projects',
  async handle({ services, authenticator, request, publicUrl }) {
    const principal = await authenticator.authenticate(signable(request));
    const { user_id: userId } = request.params as { user_id: string };
    if (userId !== principal.userId) throw new IamError(403, DECISIONS.userProjects.message);
    const projects = await services.store.read((tx) => tx.projectsOfAccount(principal.accountId));
    const self = `${publicUrl}/v3/users/${encodeURIComponent(userId)}/projects`;
    return {
      status: 200,
      body: { projects: projects.map((p) => projectView(p, publicUrl)), links: { self, previous: null, next: null } },
    };
  },
};
