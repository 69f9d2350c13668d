import { signable } from '../api/signable.ts';
import { DECISIONS } from '../core/decisions.ts';
import { IamError } from '../core/errors.ts';
import { projectView } from './project-view.ts';
import type { IamRoute } from './route.ts';

/**
 * GET /v3/projects/{project_id} (Keystone "Querying Project Details", Huawei IAM
 * KeystoneShowProject): where every project's `links.self` points, and what `openstack project
 * show` and `endpoint list` read. A project of the caller's own account only; any other id is
 * Keystone's 404, whether it exists elsewhere or not (DECISIONS.projectDetails).
 */
export const showProject: IamRoute = {
  method: 'GET',
  url: '/v3/projects/:project_id',
  async handle({ services, authenticator, request, publicUrl }) {
    const principal = await authenticator.authenticate(signable(request));
    const { project_id: projectId } = request.params as { project_id: string };
    const projects = await services.store.read((tx) => tx.projectsOfAccount(principal.accountId));
    const project = projects.find((p) => p.id === projectId);
    if (!project) throw new IamError(404, `${DECISIONS.projectDetails.notFound}: ${projectId}.`);
    return { status: 200, body: { project: projectView(project, publicUrl) } };
  },
};
