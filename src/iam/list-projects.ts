import { signable } from '../api/signable.ts';
import { projectView } from './project-view.ts';
import type { IamRoute } from './route.ts';

/** GET /v3/projects?name=<region>: how the SDKs find the project id when none is configured. */
export const listProjects: IamRoute = {
  method: 'GET',
  url: '/v3/projects',
  async handle({ services, authenticator, request, publicUrl }) {
    const principal = await authenticator.authenticate(signable(request));
    const { name } = request.query as Record<string, string | undefined>;
    const base = `${publicUrl}/v3`;
    const projects = (await services.store.read((tx) => tx.projectsOfAccount(principal.accountId)))
      .filter((p) => name === undefined || p.name === name)
      .filter((p) => principal.projectId === null || p.id === principal.projectId);
    return {
      status: 200,
      body: {
        projects: projects.map((p) => projectView(p, publicUrl)),
        links: { self: `${base}/projects`, previous: null, next: null },
      },
    };
  },
};
