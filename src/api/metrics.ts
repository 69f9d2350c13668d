import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { KeyState } from '../core/model.ts';
import type { Store } from '../store/store.ts';

/**
 * Every Prometheus metric kmsd serves at /_kmsd/metrics, in this one module (one registry per
 * server), so that a cluster of worker processes can later merge the workers' registries with
 * prom-client's AggregatorRegistry.
 *
 * No label value is ever an identifier or a secret: labels are operation names (a fixed list,
 * "unknown" for anything else), HTTP statuses, KMS/gateway error codes of the error table, key
 * states and the store driver. Never a key id, grant id, account, user, access key or path.
 */
export interface Metrics {
  /** kmsd's own metrics (one registry per server). */
  readonly registry: Registry;
  /** Node's process metrics (process_*, nodejs_*), collected once per process. */
  readonly processRegistry: Registry;
  /** One answered request: its operation name, status, error code ('' when none) and duration. */
  request(operation: string, status: number, code: string, seconds: number): void;
  /** One audit record written. */
  audited(): void;
  /** Prometheus text for a scrape. */
  render(): Promise<string>;
  readonly contentType: string;
}

/** Key states by name, for the `state` label of kmsd_keys. */
const STATE_NAMES: Record<string, string> = {
  [KeyState.pendingActivation]: 'pending_activation',
  [KeyState.enabled]: 'enabled',
  [KeyState.disabled]: 'disabled',
  [KeyState.pendingDeletion]: 'pending_deletion',
  [KeyState.pendingImport]: 'pending_import',
};

// Request latencies: most answers take well under a millisecond, a commit a few.
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const COMMIT_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

// Node's default metrics start observers (GC, event loop delay) that cannot be stopped: one
// set per process, shared by every server the process runs (tests run many).
let processMetrics: Registry | null = null;
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

export function createMetrics(store: Store): Metrics {
  const registry = new Registry();
  const node = processRegistry();
  const requests = new Counter({
    name: 'kmsd_requests_total',
    help: 'Requests answered, by operation, HTTP status and KMS (or gateway) error code ("" when none)',
    labelNames: ['operation', 'status', 'code'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'kmsd_request_duration_seconds',
    help: 'Time from the request received to the answer sent, by operation',
    labelNames: ['operation'] as const,
    buckets: REQUEST_BUCKETS,
    registers: [registry],
  });
  const commits = new Histogram({
    name: 'kmsd_store_commit_duration_seconds',
    help: 'Time of one COMMIT, its fsync included (SQLite: one per group of writes; PostgreSQL: one per transaction)',
    buckets: COMMIT_BUCKETS,
    registers: [registry],
  });
  const batches = new Histogram({
    name: 'kmsd_store_commit_batch_size',
    help: 'Units of work (requests) committed together by one commit (SQLite group commit; always 1 on PostgreSQL)',
    buckets: BATCH_BUCKETS,
    registers: [registry],
  });
  // A process has one store: the commit histograms carry no label, its driver is said here.
  new Gauge({
    name: 'kmsd_store_info',
    help: 'The store this process serves from (value always 1)',
    labelNames: ['driver'] as const,
    registers: [registry],
    aggregator: 'max',
  }).set({ driver: store.driver }, 1);
  const audits = new Counter({
    name: 'kmsd_audit_records_written_total',
    help: 'Audit records written by this process',
    registers: [registry],
  });
  // Read from the store at scrape time. Several processes over one store see the same
  // figures: a cluster's aggregated registry takes one of them, not their sum.
  new Gauge({
    name: 'kmsd_keys',
    help: 'Keys in the store, by state',
    labelNames: ['state'] as const,
    registers: [registry],
    aggregator: 'max',
    async collect() {
      const census = await store.read((tx) => tx.census());
      this.reset();
      for (const name of Object.values(STATE_NAMES)) this.set({ state: name }, 0);
      for (const [state, n] of Object.entries(census.keysByState)) this.set({ state: STATE_NAMES[state] ?? 'other' }, n);
    },
  });
  new Gauge({
    name: 'kmsd_live_grants',
    help: 'Grants in force (created, not yet retired or revoked) in the store',
    registers: [registry],
    aggregator: 'max',
    async collect() {
      this.set((await store.read((tx) => tx.census())).grants);
    },
  });
  store.onCommit = (seconds, units) => {
    commits.observe(seconds);
    batches.observe(units);
  };
  return {
    registry,
    processRegistry: node,
    contentType: registry.contentType,
    request(operation, status, code, seconds) {
      requests.inc({ operation, status: String(status), code });
      latency.observe({ operation }, seconds);
    },
    audited: () => audits.inc(),
    render: async () => `${await node.metrics()}\n${await registry.metrics()}`,
  };
}
