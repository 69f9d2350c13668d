import { signable } from '../api/signable.ts';
import { serviceCatalog } from './catalog.ts';
import type { IamRoute } from './route.ts';

/**
 * GET /v3/auth/catalog: the service catalog without a token body. The OTC Terraform provider
 * (gophertelekomcloud) asks it when it signs with AK/SK, then finds `kmsv1` in it. The project
 * named is the token's (none for a domain-scoped token); for a signature, the X-Project-Id the
 * signer sends when it is one of the caller's projects, else the caller's project of the served
 * region (the Decisions table, docs/decisions-new-otc.md).
 */
export const showCatalog: IamRoute = {
  method: 'GET',
  url: '/v3/auth/catalog',
  async handle({ services, authenticator, request, publicUrl }) {
    const principal = await authenticator.authenticate(signable(request));
    const asked = request.headers['x-project-id'];
    const projects = await services.store.read((tx) => tx.projectsOfAccount(principal.accountId));
    // A token's catalog is the one POST /v3/auth/tokens gave it (a domain-scoped token's has no
    // kmsv1); only a signature, which carries no scope, falls back to X-Project-Id or the region's.
    const project = principal.accessKey === null
      ? projects.find((p) => p.id === principal.projectId)
      : projects.find((p) => p.id === asked) ?? projects.find((p) => p.name === services.config.region);
    return {
      status: 200,
      body: { catalog: serviceCatalog(publicUrl, services.config.region, project?.id ?? null), links: { self: `${publicUrl}/v3/auth/catalog`, previous: null, next: null } },
    };
  },
};
