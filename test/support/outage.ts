import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresStore } from '../../src/store/postgres.ts';
import { ERR, raw, worldIdentities, type Reply, type TestUser } from '../harness.ts';
import { startKmsd, type Node } from './cluster.ts';
import { load, Model, reconcile, snapshot } from './crash.ts';
import { createDatabase, startOwnPostgres, terminateSessions, type OwnPostgres } from './own-postgres.ts';

/**
 * Issue #21 §1: two kmsd nodes under write load from both while their PostgreSQL goes away
 * (restart -m fast; stop -m immediate, then start; pg_terminate_backend of their sessions).
 * Every answer during the outage is a 200, a documented refusal, or 503 KMS.0104; no node
 * exits; /_kmsd/ready says 503 with a reason while the database is away and 200 after; every
 * node serves writes again within 5 s of the database's return; and afterwards the store holds
 * every acknowledged write and nothing half-written (the crash suite's reconciliation), with
 * each grant ended at most once (retires of the same grants fired through both nodes across
 * the fault).
 */
export type Fault = 'restart -m fast' | 'stop -m immediate, then start' | 'pg_terminate_backend mid-transaction';

export interface OutageReport {
  fault: Fault;
  requests: number;
  answered200: number;
  refused: number;
  /** 503 KMS.0104 answers. */
  unavailable: number;
  /** Requests that got no answer at all (must be 0: no node exits). */
  unanswered: number;
  /** From the database's return to a 200 of a write, per node (ms). */
  recoveryMs: number[];
  /** The slowest 503 while the database was away (ms). */
  slowest503Ms: number;
  /** Sessions ended while inside a transaction (pg_terminate_backend). */
  endedInTransaction: number;
}

export const UNAVAILABLE = ERR('KMS.0104', 'A system exception occurred. Contact technical support.');
const RECOVERY_LIMIT_MS = 5000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface OutageRig {
  postgres: OwnPostgres;
  nodes: Node[];
  run(fault: Fault, log: (line: string) => void): Promise<OutageReport>;
  close(): Promise<void>;
}

/** Own PostgreSQL, one database, two kmsd nodes (each KMSD_TEST_WORKERS event loops). */
export async function startOutageRig(clientsPerNode = 6): Promise<OutageRig> {
  const postgres = await startOwnPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-outage-'));
  const database = `kmsd_outage_${randomBytes(4).toString('hex')}`;
  const nodes: Node[] = [];
  try {
    const dbUrl = await createDatabase(postgres.url, database);
    const { path, users } = worldIdentities(dir);
    const spec = { store: dbUrl, identities: path, rootKey: randomBytes(32).toString('base64'), users };
    // One after the other, with time to spare: a start is mostly CPU, and a shared CI machine
    // may be busy (the faults, not the starts, are what this suite times).
    for (const name of ['a', 'b']) nodes.push(await startKmsd({ ...spec, dataDir: join(dir, name), startTimeoutMs: 120_000 }));
    // Every token the load and the burst use is had before any fault (a login is refused 503 while
    // the database is away, and the harness's client takes a refused login for no answer).
    for (const node of nodes) for (const [user, auth] of [['alice', 'token'], ['rita', 'token'], ['admin', 'token']] as const) await node.as(user, auth).getToken();
    const model = new Model();
    return {
      postgres,
      nodes,
      run: (fault, log) => runFault(fault, { postgres, database, dbUrl, nodes, users, model, clientsPerNode, log }),
      async close() {
        await Promise.all(nodes.map((n) => n.stop()));
        await postgres.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()));
    await postgres.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

interface RunContext {
  postgres: OwnPostgres;
  database: string;
  dbUrl: string;
  nodes: Node[];
  users: Record<string, TestUser>;
  model: Model;
  clientsPerNode: number;
  log: (line: string) => void;
}

/** Every 5xx of the outage is exactly 503 KMS.0104. */
function expectUnavailable(reply: Reply): void {
  assert.deepEqual([reply.status, reply.body], [503, UNAVAILABLE], `a 5xx other than 503 KMS.0104: ${reply.status} ${reply.text}`);
}

/** A create-key the model knows of: its key when 200, else (503) a key that may or may not exist. */
async function createKey(node: Node, model: Model, prefix: string): Promise<Reply> {
  const alias = `${prefix}-${randomBytes(6).toString('hex')}`;
  model.pendingKeys.add(alias);
  const r = await node.as('alice', 'token').kms('create-key', { key_alias: alias });
  if (r.status === 200) {
    model.pendingKeys.delete(alias);
    model.keys.set(r.body.key_info.key_id, alias);
    model.allowed.add(r.headers.get('x-request-id') as string);
  }
  return r;
}

/** The first write a node serves once the database is back: ms from `since` to its 200. */
async function firstWrite(node: Node, model: Model, since: number): Promise<number> {
  for (;;) {
    const r = await createKey(node, model, 'back').catch((error: unknown) => {
      assert.equal(node.process.exitCode, null, `the node exited: ${node.output()}`);
      throw error;
    });
    if (r.status === 200) return Date.now() - since;
    expectUnavailable(r);
    assert.ok(Date.now() - since < RECOVERY_LIMIT_MS + 2000, 'no write served within 7 s of the database\'s return');
    await sleep(50);
  }
}

const ready = (node: Node) => raw(node.url, 'GET', '/_kmsd/ready');

const storeUp = async (node: Node): Promise<string | undefined> =>
  /^kmsd_store_up (\d)$/m.exec((await raw(node.url, 'GET', '/_kmsd/metrics')).text)?.[1];

/** With the database stopped: a read, a signed call, a login and a scrape, each answered at once. */
async function whileAway(node: Node, users: Record<string, TestUser>): Promise<void> {
  const read = await node.as('alice', 'aksk').kms('list-keys', {});
  assert.deepEqual([read.status, read.body], [503, UNAVAILABLE]);
  const gus = users.gus;
  const login = await raw(node.url, 'POST', '/v3/auth/tokens', {
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: gus.name, password: gus.password, domain: { name: gus.account } } } }, scope: { project: { id: gus.projectId } } } }),
  });
  assert.deepEqual([login.status, login.body], [503, { error: { code: 503, title: 'Service Unavailable', message: 'The service is temporarily unavailable.' } }]);
  // A token the node has seen is still checked against the store: no answer but 503.
  const validate = await raw(node.url, 'GET', '/v3/auth/tokens', {
    headers: { 'X-Auth-Token': await node.as('alice', 'token').getToken(), 'X-Subject-Token': await node.as('rita', 'token').getToken() },
  });
  assert.deepEqual([validate.status, validate.body], [503, { error: { code: 503, title: 'Service Unavailable', message: 'The service is temporarily unavailable.' } }]);
  // The scrape still answers: the requests are counted, the store is down.
  assert.equal(await storeUp(node), '0');
}

/**
 * Retires of the same grants from both nodes, each retried while it gets 503: per grant at
 * most one 200 and otherwise KMS.2501 (a 503 whose COMMIT was lost may have been the one).
 */
async function retireBurst(ctx: RunContext, grants: Map<string, { keyId: string; name: string }>, started: Promise<void>) {
  await started;
  const retirers = [ctx.nodes[0].as('greg', 'aksk'), ctx.nodes[1].as('rita', 'token'), ctx.nodes[1].as('greg', 'aksk'), ctx.nodes[0].as('rita', 'token')];
  const answers = new Map<string, Reply[]>();
  await Promise.all([...grants].flatMap(([grantId, { keyId }]) => retirers.map(async (client, i) => {
    await sleep(i * 150);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = await client.kms('retire-grant', { key_id: keyId, grant_id: grantId });
      if (r.status < 500) {
        answers.set(grantId, [...(answers.get(grantId) ?? []), r]);
        return;
      }
      expectUnavailable(r);
      assert.ok(Date.now() < deadline, 'a retire kept getting 503 for 20 s');
      await sleep(50);
    }
  })));
  for (const [grantId, replies] of answers) {
    const ok = replies.filter((r) => r.status === 200);
    assert.ok(ok.length <= 1, `grant ${grantId} retired ${ok.length} times`);
    for (const r of replies.filter((x) => x.status !== 200)) assert.deepEqual([r.status, r.body], [400, ERR('KMS.2501', 'Invalid grant ID.')]);
    // The model: ended, with its one record in the trail (reconcile checks it whichever retire it was).
    if (ok.length === 1) {
      ctx.model.allowed.add(ok[0].headers.get('x-request-id') as string);
      ctx.model.ended.add(grantId);
    } else ctx.model.pendingEnds.add(grantId);
    ctx.model.grants.delete(grantId);
    ctx.model.ending.delete(grantId);
  }
}

async function runFault(fault: Fault, ctx: RunContext): Promise<OutageReport> {
  const { nodes, postgres, model, users } = ctx;
  const alice = nodes[0].as('alice', 'token');
  // Grants for the retire burst, on a key of their own, kept out of the load's hands.
  const made = await createKey(nodes[0], model, 'burst');
  assert.equal(made.status, 200, made.text);
  const burstKey = made.body.key_info.key_id as string;
  const burst = new Map<string, { keyId: string; name: string }>();
  for (let i = 0; i < 4; i++) {
    const name = `burst${randomBytes(6).toString('hex')}`;
    const operations = ['describe-key', 'retire-grant'];
    const r = await alice.kms('create-grant', { key_id: burstKey, grantee_principal: users.greg.id, operations, name, retiring_principal: users.rita.id });
    assert.equal(r.status, 200, r.text);
    model.allowed.add(r.headers.get('x-request-id') as string);
    burst.set(r.body.grant_id, { keyId: burstKey, name });
    model.grants.set(r.body.grant_id, { keyId: burstKey, name, operations, retiringPrincipal: users.rita.id });
    model.ending.add(r.body.grant_id);
  }

  let stopLoad!: () => void;
  const loadStopped = new Promise<void>((resolve) => (stopLoad = resolve));
  let slowest503Ms = 0;
  const loads = nodes.map((node) => load(node, model, users, ctx.clientsPerNode, loadStopped, expectUnavailable));
  // Awaited below; a failure before then is reported there, not as an unhandled rejection.
  for (const running of loads) running.catch(() => undefined);
  await sleep(800);

  let endedInTransaction = 0;
  let recoveryMs: number[] = [];
  let counts: Awaited<(typeof loads)[number]>[];
  let faultStarted!: () => void;
  const burstStarted = new Promise<void>((resolve) => (faultStarted = resolve));
  const burstDone = retireBurst(ctx, burst, burstStarted);
  burstDone.catch(() => undefined);
  try {
    let back: number;
    faultStarted();
    if (fault === 'restart -m fast') {
      await postgres.restart('fast');
      back = Date.now();
    } else if (fault === 'stop -m immediate, then start') {
      await postgres.stop('immediate');
      // While it is away: each node answers a write 503 KMS.0104 promptly, and is not ready.
      for (const node of nodes) {
        const started = Date.now();
        const r = await createKey(node, model, 'away');
        slowest503Ms = Math.max(slowest503Ms, Date.now() - started);
        expectUnavailable(r);
        const probe = await ready(node);
        assert.equal(probe.status, 503);
        assert.deepEqual(probe.body, { status: 'unavailable', store: 'postgres', reason: probe.body.reason });
        assert.match(probe.body.reason, /^the store is unreachable: PostgreSQL refuses connections$/);
        await whileAway(node, ctx.users);
      }
      await sleep(1000);
      await postgres.start();
      back = Date.now();
    } else {
      const until = Date.now() + 1500;
      while (Date.now() < until) {
        endedInTransaction += (await terminateSessions(postgres.url, ctx.database)).inTransaction;
        await sleep(100);
      }
      back = Date.now();
    }
    recoveryMs = await Promise.all(nodes.map((node) => firstWrite(node, ctx.model, back)));
    for (const ms of recoveryMs) assert.ok(ms < RECOVERY_LIMIT_MS, `a node served writes again only ${ms} ms after the database's return`);
    for (const node of nodes) {
      const probe = await ready(node);
      assert.deepEqual([probe.status, probe.body], [200, { status: 'ready', store: 'postgres' }]);
      assert.equal(await storeUp(node), '1');
    }
    await sleep(800);
  } catch (error) {
    // The first failure is the one reported: the load and the burst (which fail too when the
    // database was left stopped) end before the test does, without hiding it.
    stopLoad();
    await Promise.allSettled([...loads, burstDone]);
    throw error;
  }
  stopLoad();
  counts = await Promise.all(loads);
  await burstDone;
  for (const node of nodes) {
    assert.equal(node.process.exitCode, null, `a node exited: ${node.output()}`);
    assert.doesNotMatch(node.output(), /worker thread failed|Connection terminated unexpectedly/);
  }
  const store = await PostgresStore.open(ctx.dbUrl);
  try {
    reconcile(model, await snapshot(store, users.alice.accountId, 'cn-north-4'), users.greg.id);
  } finally {
    await store.close();
  }
  const sum = (k: keyof (typeof counts)[number]) => counts.reduce((n, c) => n + c[k], 0);
  const report: OutageReport = {
    fault, requests: sum('requests'), answered200: sum('ok'), refused: sum('refused'), unavailable: sum('unavailable'),
    unanswered: sum('unanswered'), recoveryMs, slowest503Ms, endedInTransaction,
  };
  assert.equal(report.unanswered, 0, 'a request got no answer');
  if (fault === 'pg_terminate_backend mid-transaction') assert.ok(endedInTransaction > 0, 'no session was ended inside a transaction');
  ctx.log(JSON.stringify(report));
  return report;
}
