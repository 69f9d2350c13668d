import { createRequire } from 'node:module';
import { BroadcastChannel, threadId } from 'node:worker_threads';
import type PromClient from 'prom-client';
import type { Registry } from 'prom-client';
import { KeyState } from '../core/model.ts';
import type { Census, Store } from '../store/store.ts';
import { StoreUnavailableError } from '../store/unavailable.ts';
import { mallocTrims } from '../memory/malloc-trim.ts';
import { heapCompactions } from '../memory/compact-heap.ts';

/**
 * Every Prometheus metric kmsd serves at /_kmsd/metrics, in this one module.
 *
 * No label value is ever an identifier or a secret: labels are operation names (a fixed list,
 * "unknown" for anything else), HTTP statuses, KMS/gateway error codes of the error table, key
 * states and the store driver. Never a key id, grant id, account, user, access key or path.
 *
 * Cost per request: each event loop counts in plain maps and arrays (a few map lookups, no
 * allocation); prom-client is loaded only at the first scrape, which turns the counts into its
 * registry (custom collectors with prom-client's text format) and starts node's process
 * metrics. Several event loops (`--workers`, `link`): the loop that answers a scrape asks the
 * others for their counts over a BroadcastChannel and adds them up, so any loop reports the
 * node's totals. Only a scrape pays for that (one message each way per loop); a loop that
 * does not answer within SCRAPE_WAIT_MS is left out of that scrape rather than stalling it.
 */
export interface Metrics {
  /** One answered request: its operation name, status, error code ('' when none) and duration. */
  request(operation: string, status: number, code: string, seconds: number): void;
  /** One audit record written. */
  audited(): void;
  /** Prometheus text for a scrape: this node's totals (every event loop's). */
  render(): Promise<string>;
  readonly contentType: string;
  /** Leaves the other loops' scrapes (at shutdown). */
  close(): void;
}

/** How the event loops of one process find each other's counts (src/cluster.ts). */
export interface MetricsLink {
  /** The BroadcastChannel's name, one per process. */
  channel: string;
  /** Int32 [0]: how many loops answer on the channel now; [1]: loops started on load that failed to start; [2]: malloc trims of the process; [3]: heap compactions of every loop (src/cluster.ts). */
  loops: SharedArrayBuffer;
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** How long a scrape waits for the other loops' counts. */
const SCRAPE_WAIT_MS = 2000;

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

/** A histogram's counts: per bucket (not cumulative; the last is +Inf), sum and count. */
interface Tally {
  counts: number[];
  sum: number;
  count: number;
}

const tally = (bounds: readonly number[]): Tally => ({ counts: new Array<number>(bounds.length + 1).fill(0), sum: 0, count: 0 });

function observe(into: Tally, bounds: readonly number[], value: number): void {
  let i = 0;
  while (i < bounds.length && value > bounds[i]) i++;
  into.counts[i]++;
  into.sum += value;
  into.count++;
}

function addTally(into: Tally, from: Tally): void {
  for (let i = 0; i < from.counts.length; i++) into.counts[i] += from.counts[i];
  into.sum += from.sum;
  into.count += from.count;
}

/** One loop's counts, as sent to the loop that answers a scrape (structured-cloneable). */
interface Counts {
  /** By operation: latency, and answers by status then error code. */
  operations: Map<string, { latency: Tally; answers: Map<number, Map<string, number>> }>;
  commits: Tally;
  batches: Tally;
  audits: number;
}

function addCounts(into: Counts, from: Counts): void {
  for (const [operation, theirs] of from.operations) {
    let ours = into.operations.get(operation);
    if (!ours) into.operations.set(operation, (ours = { latency: tally(REQUEST_BUCKETS), answers: new Map() }));
    addTally(ours.latency, theirs.latency);
    for (const [status, codes] of theirs.answers) {
      let mine = ours.answers.get(status);
      if (!mine) ours.answers.set(status, (mine = new Map()));
      for (const [code, n] of codes) mine.set(code, (mine.get(code) ?? 0) + n);
    }
  }
  addTally(into.commits, from.commits);
  addTally(into.batches, from.batches);
  into.audits += from.audits;
}

const emptyCounts = (): Counts => ({ operations: new Map(), commits: tally(COMMIT_BUCKETS), batches: tally(BATCH_BUCKETS), audits: 0 });

// prom-client, loaded at the first scrape.
let prom: typeof PromClient | null = null;
const promClient = (): typeof PromClient => (prom ??= createRequire(import.meta.url)('prom-client') as typeof PromClient);

// Node's default metrics start observers (GC, event loop delay) that cannot be stopped: one
// set per thread, shared by every server it runs (tests run many), started at the first scrape.
let processMetrics: Registry | null = null;
function processRegistry(): Registry {
  if (!processMetrics) {
    const { Registry, collectDefaultMetrics } = promClient();
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

type Labels = Record<string, string | number>;
interface Value {
  value: number;
  labels: Labels;
  sharedLabels?: Labels;
  metricName?: string;
}

/** A histogram's samples as prom-client writes them (buckets cumulative, then sum and count). */
function histogram(name: string, bounds: readonly number[], counts: Tally, labels: Labels = {}): Value[] {
  const values: Value[] = [];
  let total = 0;
  bounds.forEach((le, i) => {
    total += counts.counts[i];
    values.push({ metricName: `${name}_bucket`, labels: { le }, sharedLabels: labels, value: total });
  });
  values.push(
    { metricName: `${name}_bucket`, labels: { le: '+Inf' }, sharedLabels: labels, value: counts.count },
    { metricName: `${name}_sum`, labels: {}, sharedLabels: labels, value: counts.sum },
    { metricName: `${name}_count`, labels: {}, sharedLabels: labels, value: counts.count },
  );
  return values;
}

/** How long a scrape waits for the store's figures before it answers without them. */
export const CENSUS_WAIT_MS = 1000;

/** The store's census, or null when the store is unreachable or has not answered within `ms`. */
async function censusWithin(store: Store, ms: number): Promise<Census | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(resolve, ms, null);
  });
  const read = store.read((tx) => tx.census()).catch((error: unknown) => {
    if (error instanceof StoreUnavailableError) return null;
    throw error;
  });
  try {
    return await Promise.race([read, late]);
  } finally {
    clearTimeout(timer);
    // A read that answers (or fails) after the scrape has: nobody waits for it.
    read.catch(() => undefined);
  }
}

export function createMetrics(store: Store, link?: MetricsLink | null): Metrics {
  const own = emptyCounts();
  store.onCommit = (seconds, units) => {
    observe(own.commits, COMMIT_BUCKETS, seconds);
    observe(own.batches, BATCH_BUCKETS, units);
  };

  // The other loops of the process, when there are any.
  const channel = link ? new BroadcastChannel(link.channel) : null;
  const loops = link ? new Int32Array(link.loops) : null;
  const me = threadId;
  let asks = 0;
  const waiting = new Map<number, (counts: Counts) => void>();
  if (channel && loops) {
    channel.onmessage = (event) => {
      const message = (event as { data: unknown }).data as { ask?: number; from?: number; answer?: number; to?: number; counts?: Counts };
      if (message.ask !== undefined && message.from !== me) channel.postMessage({ answer: message.ask, to: message.from, counts: own });
      else if (message.answer !== undefined && message.to === me) waiting.get(message.answer)?.(message.counts as Counts);
    };
    channel.unref();
    Atomics.add(loops, 0, 1);
  }
  let closed = false;

  /** This node's counts: this loop's and every other loop's that answers in time. */
  const gather = async (): Promise<Counts> => {
    const total = emptyCounts();
    addCounts(total, own);
    const others = channel && loops && !closed ? Atomics.load(loops, 0) - 1 : 0;
    if (others <= 0 || !channel) return total;
    const id = ++asks;
    await new Promise<void>((resolve) => {
      let answered = 0;
      const done = () => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve();
      };
      const timer = setTimeout(done, SCRAPE_WAIT_MS);
      waiting.set(id, (counts) => {
        addCounts(total, counts);
        if (++answered >= others) done();
      });
      channel.postMessage({ ask: id, from: me });
    });
    return total;
  };

  const family = (name: string, help: string, type: 'counter' | 'gauge' | 'histogram', values: () => Value[] | Promise<Value[]>) => ({
    name, help, type, aggregator: 'sum' as const,
    get: async () => ({ name, help, type, aggregator: 'sum' as const, values: await values() }),
  });

  const render = async (): Promise<string> => {
    const counts = await gather();
    // The store's figures, read once a scrape. While the store is unreachable, or does not
    // answer within CENSUS_WAIT_MS (a database that stops answering holds a read up to the
    // request deadline), the scrape still answers at once (the request counts are what an
    // operator wants to see then): kmsd_store_up 0, and no kmsd_keys or kmsd_live_grants samples.
    const census = await censusWithin(store, CENSUS_WAIT_MS);
    const { Registry } = promClient();
    const registry = new Registry();
    const families = [
      family('kmsd_requests_total', 'Requests answered, by operation, HTTP status and KMS (or gateway) error code ("" when none)', 'counter', () => {
        const values: Value[] = [];
        for (const [operation, { answers }] of counts.operations) {
          for (const [status, codes] of answers) for (const [code, n] of codes) values.push({ labels: { operation, status: String(status), code }, value: n });
        }
        return values;
      }),
      family('kmsd_request_duration_seconds', 'Time from the request received to the answer sent, by operation', 'histogram', () =>
        [...counts.operations].flatMap(([operation, { latency }]) => histogram('kmsd_request_duration_seconds', REQUEST_BUCKETS, latency, { operation }))),
      family('kmsd_store_commit_duration_seconds', 'Time of one COMMIT, its fsync included (SQLite: one per group of writes; PostgreSQL: one per transaction)', 'histogram', () =>
        histogram('kmsd_store_commit_duration_seconds', COMMIT_BUCKETS, counts.commits)),
      family('kmsd_store_commit_batch_size', 'Units of work (requests) committed together by one commit (group commit)', 'histogram', () =>
        histogram('kmsd_store_commit_batch_size', BATCH_BUCKETS, counts.batches)),
      // A process has one store: the commit histograms carry no label, its driver is said here.
      family('kmsd_store_info', 'The store this process serves from (value always 1)', 'gauge', () => [{ labels: { driver: store.driver }, value: 1 }]),
      // Loops that joined the metrics channel: the main thread, and the worker threads started so far (loops-on-demand.ts).
      family('kmsd_event_loops', 'Event loops serving in this process (--workers; the others start when load needs them)', 'gauge', () => [{ labels: {}, value: loops ? Atomics.load(loops, 0) : 1 }]),
      family('kmsd_event_loop_start_failures_total', 'Event loops started on load (--loop-start-load) that failed to start; the node served on without them', 'counter', () => [{ labels: {}, value: loops && loops.length > 1 ? Atomics.load(loops, 1) : 0 }]),
      // The main thread trims for the whole process; its count is shared with the other loops (cluster.ts).
      family('kmsd_memory_trims_total', 'Times freed malloc memory was given back to the system (once each time the node goes quiet after load; always 0 without glibc and the kmsd-crypto addon)', 'counter', () => [{ labels: {}, value: loops && loops.length > 2 ? Atomics.load(loops, 2) : mallocTrims() }]),
      // Every loop compacts its own heap; the counts of all of them are summed in the shared slot (cluster.ts).
      family('kmsd_memory_compactions_total', 'Full memory-reducing collections of an event loop\'s heap (once per loop each time it goes quiet after load), all loops together', 'counter', () => [{ labels: {}, value: loops && loops.length > 3 ? Atomics.load(loops, 3) : heapCompactions() }]),
      family('kmsd_audit_records_written_total', 'Audit records written by this process', 'counter', () => [{ labels: {}, value: counts.audits }]),
      // Read from the store at scrape time (every node over one store sees the same figures).
      family('kmsd_store_up', 'Whether the store answered this scrape (1) or could not be reached (0)', 'gauge', () => [{ labels: {}, value: census ? 1 : 0 }]),
      family('kmsd_keys', 'Keys in the store, by state', 'gauge', () => {
        if (!census) return [];
        const byName = new Map(Object.values(STATE_NAMES).map((name) => [name, 0]));
        for (const [state, n] of Object.entries(census.keysByState)) {
          const name = STATE_NAMES[state] ?? 'other';
          byName.set(name, (byName.get(name) ?? 0) + n);
        }
        return [...byName].map(([state, n]) => ({ labels: { state }, value: n }));
      }),
      family('kmsd_live_grants', 'Grants in force (created, not yet retired or revoked) in the store', 'gauge', () =>
        (census ? [{ labels: {}, value: census.grants }] : [])),
    ];
    for (const f of families) registry.registerMetric(f as never);
    return `${await processRegistry().metrics()}\n${await registry.metrics()}`;
  };

  return {
    contentType: METRICS_CONTENT_TYPE,
    request(operation, status, code, seconds) {
      let entry = own.operations.get(operation);
      if (!entry) own.operations.set(operation, (entry = { latency: tally(REQUEST_BUCKETS), answers: new Map() }));
      observe(entry.latency, REQUEST_BUCKETS, seconds);
      let codes = entry.answers.get(status);
      if (!codes) entry.answers.set(status, (codes = new Map()));
      codes.set(code, (codes.get(code) ?? 0) + 1);
    },
    audited: () => {
      own.audits++;
    },
    render,
    close() {
      if (closed || !channel || !loops) return;
      closed = true;
      // Counted out first, so no scrape starts waiting for this loop's answer.
      Atomics.sub(loops, 0, 1);
      channel.close();
    },
  };
}
