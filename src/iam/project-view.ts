import type { Project } from '../core/model.ts';

/** A project as Keystone lists it (GET /v3/projects, GET /v3/users/{user_id}/projects). */
export function projectView(project: Project, publicUrl: string): Record<string, unknown> {
  return {
    id: project.id, name: project.name, domain_id: project.accountId, parent_id: project.accountId, enabled: true, is_domain: false,
    description: '', links: { self: `${publicUrl}/v3/projects/${project.id}` },
  };
}
