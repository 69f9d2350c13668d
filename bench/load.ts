import autocannon from 'autocannon';

/**
 * The load generator, in its own process so it never shares a core's event loop with the
 * server it measures. Reads a job (JSON) from argv, prints autocannon's figures as JSON.
 * The pair workload chains create-grant (key owner) and retire-grant (grantee) per
 * connection, carrying the grant id from one to the other. `churn`: beside the job, a few
 * connections write grants on another key the whole time (create-grant, then retire-grant), as
 * a real cluster's reads meet its writes; their pairs a second are reported as `churnPairs`.
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
  pairs?: Pairs;
  churn?: { pairs: Pairs; connections: number };
}
type Pairs = { projectOwner: string; projectGrantee: string; keyId: string; granteeId: string; ownerToken: string; granteeToken: string };

const job = JSON.parse(process.argv[2]) as Job;

/** The pair's create-grant (by the key owner) and retire-grant (by the grantee) of `grantId`. */
const create = (p: Pairs) => ({
  path: `/v1.0/${p.projectOwner}/kms/create-grant`,
  headers: { 'content-type': 'application/json', 'x-auth-token': p.ownerToken },
  body: JSON.stringify({ key_id: p.keyId, grantee_principal: p.granteeId, operations: ['describe-key', 'retire-grant'] }),
});
const retire = (p: Pairs, grantId: string | undefined) => ({
  path: `/v1.0/${p.projectGrantee}/kms/retire-grant`,
  headers: { 'content-type': 'application/json', 'x-auth-token': p.granteeToken },
  body: JSON.stringify({ key_id: p.keyId, grant_id: grantId ?? '0'.repeat(64) }),
});
const grantIdOf = (body: string): string | undefined => {
  try {
    return JSON.parse(body).grant_id;
  } catch {
    return undefined;
  }
};

function pairRequests(p: Pairs) {
  return [
    {
      method: 'POST' as const,
      ...create(p),
      onResponse: (_status: number, body: string, context: { grantId?: string }) => {
        context.grantId = grantIdOf(body);
      },
    },
    {
      method: 'POST' as const,
      ...retire(p, undefined),
      setupRequest: (request: object, context: { grantId?: string }) => ({ ...request, body: retire(p, context.grantId).body }),
    },
  ];
}

/** Writes pairs on `churn`'s key until told to stop, one at a time on each of its connections; how many it wrote. */
function churning(churn: NonNullable<Job['churn']>): { stop: () => Promise<number> } {
  let stopped = false;
  let pairs = 0;
  const post = async ({ path, headers, body }: ReturnType<typeof create>) =>
    (await fetch(`${job.url}${path}`, { method: 'POST', headers, body })).text();
  const loops = Array.from({ length: churn.connections }, async () => {
    while (!stopped) {
      await post(retire(churn.pairs, grantIdOf(await post(create(churn.pairs)))));
      pairs++;
    }
  });
  return { stop: async () => ((stopped = true), await Promise.all(loops), pairs) };
}

const churn = job.churn ? churning(job.churn) : null;
const result = await autocannon({
  url: job.kind === 'fixed' ? `${job.url}${job.path}` : job.url,
  connections: job.connections,
  duration: job.duration,
  ...(job.kind === 'pairs'
    ? { requests: pairRequests(job.pairs as NonNullable<Job['pairs']>) }
    : { method: job.method as 'POST', headers: job.headers, body: job.body }),
});
const churnPairs = churn ? (await churn.stop()) / job.duration : undefined;
process.stdout.write(`${JSON.stringify({
  churnPairs,
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
