/**
 * The service catalog of a Keystone token, in Open Telekom Cloud's shape (docs/otc-reference.md):
 * keystoneauth picks an endpoint by service type, interface and region, so every entry names the
 * served region (never `*`), and each URL is what the client joins its paths to:
 *
 * - `kms` (name `key-management`) at `<endpoint>/v1.0/`: otcextensions appends the project id
 *   (`append_project_id`) and `/kms/<operation>`;
 * - `kmsv1` at `<endpoint>/v1.0/<project id>`, as OTC lists it (only for a project-scoped token:
 *   a domain token has no project to name);
 * - `identity` at `<endpoint>/v3`, where keystoneauth runs its version discovery (GET /v3).
 *
 * The Huawei SDKs and the Terraform provider take the endpoint from their configuration, not from
 * here, so they are not affected.
 */
export function serviceCatalog(endpoint: string, region: string, projectId: string | null): Array<Record<string, unknown>> {
  const entry = (type: string, name: string, url: string) =>
    ({ type, id: `kmsd-${type}`, name, endpoints: [{ url, region, region_id: region, interface: 'public', id: `kmsd-${type}-endpoint` }] });
  return [
    entry('kms', 'key-management', `${endpoint}/v1.0/`),
    ...(projectId === null ? [] : [entry('kmsv1', 'kmsv1', `${endpoint}/v1.0/${projectId}`)]),
    entry('identity', 'keystone', `${endpoint}/v3`),
  ];
}
