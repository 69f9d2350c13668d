import autocannon from 'autocannon';

/**
 * The load generator, in its own process so it never shares a core's event loop with the
 * server it measures. Reads a job (JSON) from argv, prints autocannon's figures as JSON.
 * The pair workload chains create-grant (key owner) and retire-grant (grantee) per
 * connection, carrying the grant id from one to the other.
 */
export interface Job {
  url: string;
  connections: number;
  duration: number;
  kind: 'fixed' | 'pairs';
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  pairs?: { projectOwner: string; projectGrantee: string; keyId: string; granteeId: string; ownerToken: string; granteeToken: string };
}

const job = JSON.parse(process.argv[2]) as Job;

function pairRequests(p: NonNullable<Job['pairs']>) {
  return [
    {
      method: 'POST' as const,
      path: `/v1.0/${p.projectOwner}/kms/create-grant`,
      headers: { 'content-type': 'application/json', 'x-auth-token': p.ownerToken },
      body: JSON.stringify({ key_id: p.keyId, grantee_principal: p.granteeId, operations: ['describe-key', 'retire-grant'] }),
      onResponse: (_status: number, body: string, context: { grantId?: string }) => {
        try {
          context.grantId = JSON.parse(body).grant_id;
        } catch {
          context.grantId = undefined;
        }
      },
    },
    {
      method: 'POST' as const,
      path: `/v1.0/${p.projectGrantee}/kms/retire-grant`,
      headers: { 'content-type': 'application/json', 'x-auth-token': p.granteeToken },
      setupRequest: (request: object, context: { grantId?: string }) => ({
        ...request,
        body: JSON.stringify({ key_id: p.keyId, grant_id: context.grantId ?? '0'.repeat(64) }),
      }),
    },
  ];
}

const result = await autocannon({
  url: job.kind === 'fixed' ? `${job.url}${job.path}` : job.url,
  connections: job.connections,
  duration: job.duration,
  ...(job.kind === 'pairs'
    ? { requests: pairRequests(job.pairs as NonNullable<Job['pairs']>) }
    : { method: job.method as 'POST', headers: job.headers, body: job.body }),
});
process.stdout.write(`${JSON.stringify({
  requests: result.requests.total,
  rps: result.requests.average,
  p50: result.latency.p50,
  p99: result.latency.p99,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  statusCodes: result.statusCodeStats,
  duration: result.duration,
})}\n`);
