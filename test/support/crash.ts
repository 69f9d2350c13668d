import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { AuditEvent, Grant, Key } from '../../src/core/model.ts';
import { PostgresStore } from '../../src/store/postgres.ts';
import { verifyTrail } from '../../src/audit/verify.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/store/store.ts';
import { worldIdentities, type Reply, type TestUser } from '../harness.ts';
import { startKmsd, type Node } from './cluster.ts';
import { freshDatabase } from './postgres.ts';

/**
 * Issue #6 §1: kill kmsd with SIGKILL in the middle of concurrent create-key, create-grant,
 * retire-grant and revoke-grant (and, issue #26, CSMS create-secret and create-secret-version),
 * restart it, and check against what the clients were told:
 *
 * - every 200 is reflected (keys and grants created, grants ended);
 * - a refused request left nothing, and one that got no answer is all there or not at all
 *   (a grant present is exactly the grant some request asked for);
 * - the audit trail and the effects agree: each 200 has its one "allowed" record, and every
 *   "allowed" record's effect is there (they were committed in one transaction);
 * - SQLite's integrity_check is ok; the restarted server serves the same state.
 */
export interface CrashOptions {
  store: 'sqlite' | 'postgres';
  cycles: number;
  /** Concurrent clients. */
  clients?: number;
  log?: (line: string) => void;
}

export interface CrashReport {
  cycles: number;
  requests: number;
  answered200: number;
  refused: number;
  unanswered: number;
  keys: number;
  liveGrants: number;
}

interface SentGrant {
  keyId: string;
  name: string;
  operations: string[];
  retiringPrincipal: string | null;
}

/** What the clients know: confirmed state, and the requests whose outcome they never learnt. */
export class Model {
  keys = new Map<string, string>(); // key id -> alias
  grants = new Map<string, SentGrant>(); // live grant id -> what was asked
  ended = new Set<string>();
  pendingKeys = new Set<string>(); // aliases of create-key without an answer
  refusedKeys = new Set<string>();
  pendingGrants = new Map<string, SentGrant>(); // by name
  refusedGrants = new Set<string>(); // names
  pendingEnds = new Set<string>();
  ending = new Set<string>();
  allowed = new Set<string>(); // request ids answered 200 by a mutating operation
  // CSMS: secret name -> version id -> the value sent; values sent without an answer.
  secrets = new Map<string, Map<string, string>>();
  pendingSecrets = new Map<string, string>(); // name -> first value
  refusedSecrets = new Set<string>();
  pendingValues = new Map<string, Set<string>>(); // secret name -> values of unanswered new versions
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)];

/**
 * `clients` loops of create-key, create-grant, retire-grant and revoke-grant through `node`
 * until `stopAt`. With `unavailable`, a 5xx answer is one the store's outage explains (the
 * predicate checks its exact body): its outcome is unknown to the client, as for a request
 * that got no answer (the connection may have died during COMMIT).
 */
export async function load(
  node: Node, model: Model, users: Record<string, TestUser>, clients: number, stopAt: Promise<void>,
  unavailable?: (reply: Reply) => void,
) {
  const owner = node.as('alice', 'token');
  const grantee = node.as('greg', 'aksk');
  const intruder = node.as('rita', 'aksk');
  const keeper = node.as('admin', 'token');
  let stopped = false;
  void stopAt.then(() => (stopped = true));
  const counts = { requests: 0, ok: 0, refused: 0, unanswered: 0, unavailable: 0 };
  const send = async (client: typeof owner, op: string, body: Record<string, unknown>, path?: string): Promise<Reply | null> => {
    counts.requests++;
    let r: Reply;
    try {
      // A CSMS call names its path (POST /v1/{project_id}/secrets...); a KMS one its operation.
      r = path === undefined ? await client.kms(op, body) : await client.request('POST', path, body);
    } catch {
      counts.unanswered++;
      return null;
    }
    if (unavailable && r.status >= 500) {
      unavailable(r);
      counts.unavailable++;
      // The store is away: the next request in a moment, not in a tight loop of 503s.
      await new Promise((resolve) => setTimeout(resolve, 20));
      return null;
    }
    if (r.status === 200) {
      counts.ok++;
      model.allowed.add(r.headers.get('x-request-id') as string);
    } else counts.refused++;
    return r;
  };
  const loop = async () => {
    while (!stopped) {
      const roll = Math.random();
      // Not a grant whose ending went unanswered (pendingEnds): it may be ended already (a lost
      // COMMIT that committed), and ending it again would be 400 KMS.2501; reconcile settles it.
      const live = [...model.grants.keys()].filter((g) => !model.ending.has(g) && !model.pendingEnds.has(g));
      if (roll >= 0.9 && model.keys.size > 0) {
        // CSMS: a new secret, or a new version of a confirmed one (values unique, to be found again).
        const value = `v-${randomBytes(8).toString('hex')}`;
        const base = `/v1/${keeper.user.projectId}/secrets`;
        // Below 20 versions a secret keeps every one (past it the oldest unstaged goes).
        const names = [...model.secrets.keys()].filter((n) => (model.secrets.get(n) as Map<string, string>).size + (model.pendingValues.get(n)?.size ?? 0) < 15);
        if (names.length === 0 || Math.random() < 0.4) {
          const name = `crash-${randomBytes(6).toString('hex')}`;
          model.pendingSecrets.set(name, value);
          const r = await send(keeper, 'create-secret', { name, secret_string: value }, base);
          if (r === null) continue;
          model.pendingSecrets.delete(name);
          if (r.status === 200) model.secrets.set(name, new Map([['v1', value]]));
          else model.refusedSecrets.add(name);
        } else {
          const name = pick(names);
          const pending = model.pendingValues.get(name) ?? new Set<string>();
          model.pendingValues.set(name, pending.add(value));
          const r = await send(keeper, 'create-secret-version', { secret_string: value }, `${base}/${name}/versions`);
          if (r === null) continue;
          pending.delete(value);
          assert.equal(r.status, 200, `a version of a confirmed secret: ${r.status} ${r.text}`);
          (model.secrets.get(name) as Map<string, string>).set(r.body.version_metadata.id, value);
        }
      } else if (roll < 0.15 || model.keys.size === 0) {
        const alias = `crash-${randomBytes(6).toString('hex')}`;
        model.pendingKeys.add(alias);
        const r = await send(owner, 'create-key', { key_alias: alias });
        if (r === null) continue;
        model.pendingKeys.delete(alias);
        if (r.status === 200) model.keys.set(r.body.key_info.key_id, alias);
        else model.refusedKeys.add(alias);
      } else if (roll < 0.6 || live.length === 0) {
        // One in ten names a key that does not exist: refused, and nothing may remain of it.
        const doomed = Math.random() < 0.1;
        const sent: SentGrant = {
          keyId: doomed ? crypto.randomUUID() : pick([...model.keys.keys()]), name: `g${randomBytes(8).toString('hex')}`,
          operations: pick([['describe-key', 'retire-grant'], ['encrypt-data', 'decrypt-data', 'retire-grant'], ['describe-key']]),
          retiringPrincipal: Math.random() < 0.5 ? users.rita.id : null,
        };
        model.pendingGrants.set(sent.name, sent);
        const r = await send(owner, 'create-grant', {
          key_id: sent.keyId, grantee_principal: users.greg.id, operations: sent.operations, name: sent.name,
          ...(sent.retiringPrincipal && { retiring_principal: sent.retiringPrincipal }),
        });
        if (r === null) continue;
        model.pendingGrants.delete(sent.name);
        if (r.status === 200) model.grants.set(r.body.grant_id, sent);
        else model.refusedGrants.add(sent.name);
      } else {
        const grantId = pick(live);
        const grant = model.grants.get(grantId) as SentGrant;
        if (grant.retiringPrincipal === null && Math.random() < 0.1) {
          // A retire by someone the grant does not name: refused, and the grant stays.
          const r = await send(intruder, 'retire-grant', { key_id: grant.keyId, grant_id: grantId });
          // 403, or 400 KMS.2501 when another client ended the grant first.
          if (r !== null) assert.ok(r.status === 403 || r.body?.error?.error_code === 'KMS.2501', `retire by a stranger: ${r.status} ${r.text}`);
          continue;
        }
        const retire = grant.operations.includes('retire-grant') && Math.random() < 0.6;
        model.ending.add(grantId);
        const r = await send(retire ? grantee : owner, retire ? 'retire-grant' : 'revoke-grant', { key_id: grant.keyId, grant_id: grantId });
        model.ending.delete(grantId);
        if (r === null) {
          model.pendingEnds.add(grantId);
          continue;
        }
        assert.equal(r.status, 200, `ending a live grant: ${r.status} ${r.text}`);
        model.grants.delete(grantId);
        model.ended.add(grantId);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
  return counts;
}

/** Waits (up to 10 s) until no other session is connected to the test database. */
export async function sessionsEnded(url: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (let i = 0; i < 200; i++) {
      const { rows } = await client.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'");
      if (rows[0].n === 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('sessions of the killed kmsd node did not end within 10 s');
  } finally {
    await client.end();
  }
}

/** The CSMS secrets of an account, with their versions and stages, read while kmsd is down. */
async function secretsSnapshot(store: Store, accountId: string, region: string) {
  return store.read(async (tx) => {
    const secrets = await tx.secrets.listSecrets(accountId, region, undefined, 1_000_000);
    return Promise.all(secrets.map(async (secret) => ({
      secret, versions: await tx.secrets.listVersions(secret.secretId), stages: await tx.secrets.stagesOf(secret.secretId),
    })));
  });
}

/**
 * CSMS after a crash: every confirmed secret and version is there, a refused secret is not, and
 * nothing half-written: each secret has its v1, versions numbered without gaps up to its count,
 * SYSCURRENT on the newest version, and each version is one some request asked for (its value is
 * checked through the restarted server).
 */
function reconcileSecrets(model: Model, state: Awaited<ReturnType<typeof secretsSnapshot>>, audit: AuditEvent[]): void {
  const byName = new Map(state.map((s) => [s.secret.name, s]));
  for (const name of model.refusedSecrets) assert.equal(byName.has(name), false, `refused secret ${name} exists`);
  for (const [name, versions] of model.secrets) {
    const found = byName.get(name);
    assert.ok(found, `confirmed secret ${name} lost`);
    for (const id of versions.keys()) assert.ok(found.versions.some((v) => v.versionId === id), `confirmed version ${name}/${id} lost`);
  }
  for (const { secret, versions, stages } of state) {
    if (!model.secrets.has(secret.name)) {
      assert.ok(model.pendingSecrets.has(secret.name), `secret ${secret.name} nobody asked for`);
      model.secrets.set(secret.name, new Map([['v1', model.pendingSecrets.get(secret.name) as string]]));
    }
    assert.deepEqual(versions.map((v) => v.versionId), Array.from({ length: secret.versionCount }, (_, i) => `v${i + 1}`), `versions of ${secret.name}`);
    const current = stages.find((st) => st.name === 'SYSCURRENT');
    assert.equal(current?.versionId, `v${secret.versionCount}`, `SYSCURRENT of ${secret.name}`);
    assert.ok(audit.some((e) => e.outcome === 'allowed' && e.operation === 'create-secret' && e.secretId === secret.secretId), `secret ${secret.name} without its record`);
    // Versions no answer told about: their ids are learnt from the store, values checked after restart.
    const known = model.secrets.get(secret.name) as Map<string, string>;
    for (const v of versions) if (!known.has(v.versionId)) known.set(v.versionId, '');
  }
  model.pendingSecrets.clear();
}

/** Everything the store holds for the account, read in one transaction. */
export async function snapshot(store: Store, accountId: string, region: string) {
  return store.read(async (tx) => {
    const keys = (await tx.listKeys(accountId, region, {}, 0, 1_000_000)).items.filter((k) => !k.defaultKey);
    const grants: Grant[] = [];
    for (const key of keys) {
      const page = await tx.listGrants(key.keyId, 0, 1_000_000);
      assert.equal(page.total, page.items.length, `grant count of ${key.keyId} disagrees with its grants`);
      grants.push(...page.items);
    }
    const audit = await tx.listAudit({}, 0, 10_000_000);
    return { keys, grants, audit };
  });
}

/** Reconciles the model with the store after a crash; throws on any broken promise. */
export function reconcile(model: Model, state: { keys: Key[]; grants: Grant[]; audit: AuditEvent[] }, gus: string): void {
  const keysByAlias = new Map(state.keys.map((k) => [k.alias, k]));
  for (const [keyId, alias] of model.keys) assert.equal(keysByAlias.get(alias)?.keyId, keyId, `confirmed key ${alias} lost`);
  for (const alias of model.refusedKeys) assert.equal(keysByAlias.has(alias), false, `refused key ${alias} exists`);
  for (const key of state.keys) {
    assert.equal(key.state, '2', `key ${key.keyId} in state ${key.state}`);
    if (model.keys.has(key.keyId)) continue;
    assert.ok(model.pendingKeys.has(key.alias), `key ${key.alias} nobody asked for`);
    model.keys.set(key.keyId, key.alias);
  }
  model.pendingKeys.clear();

  const present = new Map(state.grants.map((g) => [g.grantId, g]));
  const same = (g: Grant, sent: SentGrant) =>
    g.keyId === sent.keyId && g.name === sent.name && g.granteePrincipal === gus && g.granteeType === 'user' &&
    JSON.stringify(g.operations) === JSON.stringify(sent.operations) && g.retiringPrincipal === sent.retiringPrincipal;
  for (const [grantId, sent] of model.grants) {
    const g = present.get(grantId);
    if (model.pendingEnds.has(grantId) && !g) continue;
    assert.ok(g, `confirmed grant ${grantId} lost`);
    assert.ok(same(g, sent), `grant ${grantId} differs from what was asked`);
  }
  for (const grantId of model.ended) assert.equal(present.has(grantId), false, `ended grant ${grantId} is back`);
  for (const g of state.grants) {
    if (model.grants.has(g.grantId)) continue;
    assert.equal(model.refusedGrants.has(g.name as string), false, `refused grant ${g.name} exists`);
    const sent = model.pendingGrants.get(g.name as string);
    assert.ok(sent && same(g, sent), `grant ${g.grantId} (${g.name}) nobody asked for, or half written`);
    model.grants.set(g.grantId, sent);
  }
  for (const grantId of model.pendingEnds) {
    if (present.has(grantId)) continue;
    model.grants.delete(grantId);
    model.ended.add(grantId);
  }
  model.pendingGrants.clear();
  model.pendingEnds.clear();

  // The trail and the effects were committed together.
  const allowed = state.audit.filter((e) => e.outcome === 'allowed');
  const byRequest = new Map<string, number>();
  for (const e of allowed) byRequest.set(e.requestId, (byRequest.get(e.requestId) ?? 0) + 1);
  for (const id of model.allowed) assert.equal(byRequest.get(id), 1, `200 request ${id} has ${byRequest.get(id) ?? 0} records`);
  const ends = allowed.filter((e) => e.operation === 'retire-grant' || e.operation === 'revoke-grant');
  const endedByTrail = new Set(ends.map((e) => e.grantId));
  // A grant ends once: one "allowed" retire or revoke at most, whichever node or retry it was.
  assert.equal(ends.length, endedByTrail.size, `a grant ended more than once: ${ends.filter((e, i) => ends.findIndex((f) => f.grantId === e.grantId) !== i).map((e) => e.grantId).join(', ')}`);
  for (const e of allowed) {
    if (e.operation === 'create-key') assert.ok(state.keys.some((k) => k.keyId === e.keyId), `recorded key ${e.keyId} missing`);
    if (e.operation === 'create-grant') assert.equal(present.has(e.grantId as string), !endedByTrail.has(e.grantId), `recorded grant ${e.grantId}`);
  }
  for (const g of state.grants) assert.ok(allowed.some((e) => e.operation === 'create-grant' && e.grantId === g.grantId), `grant ${g.grantId} without its record`);
  for (const grantId of model.ended) assert.ok(endedByTrail.has(grantId), `ended grant ${grantId} without its record`);
}

export async function runCrashCycles(options: CrashOptions): Promise<CrashReport> {
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-crash-'));
  const db = options.store === 'postgres' ? await freshDatabase() : null;
  const { path, users } = worldIdentities(dir);
  const spec = { store: db?.url ?? 'sqlite', dataDir: join(dir, 'data'), identities: path, rootKey: randomBytes(32).toString('base64'), users };
  const openStore = async (): Promise<Store> => (db ? PostgresStore.open(db.url) : new SqliteStore(join(spec.dataDir, 'kmsd.db')));
  const model = new Model();
  const report: CrashReport = { cycles: 0, requests: 0, answered200: 0, refused: 0, unanswered: 0, keys: 0, liveGrants: 0 };
  try {
    for (let cycle = 1; cycle <= options.cycles; cycle++) {
      const node = await startKmsd(spec);
      await node.as('alice', 'token').getToken();
      const killAfter = 300 + Math.floor(Math.random() * 1700);
      const killed = new Promise<void>((resolve) => setTimeout(() => {
        node.process.kill('SIGKILL');
        resolve();
      }, killAfter));
      const exited = new Promise((r) => node.process.once('exit', r));
      const counts = await load(node, model, users, options.clients ?? 16, killed);
      await exited;
      if (!db) {
        const raw = new DatabaseSync(join(spec.dataDir, 'kmsd.db'));
        const check = raw.prepare('PRAGMA integrity_check').all().map((row) => ({ ...row }));
        raw.close();
        assert.deepEqual(check, [{ integrity_check: 'ok' }], `integrity_check after cycle ${cycle}`);
      }
      // PostgreSQL finishes a COMMIT whose message arrived before the kill, after kmsd is gone;
      // the check reads at READ COMMITTED, statement by statement, so it waits until the dead
      // node's sessions have ended (nothing of it can still land between two of its reads).
      if (db) await sessionsEnded(db.url);
      const store = await openStore();
      try {
        const state = await snapshot(store, users.alice.accountId, 'cn-north-4');
        reconcile(model, state, users.greg.id);
        reconcileSecrets(model, await secretsSnapshot(store, users.admin.accountId, 'cn-north-4'), state.audit);
        // A kill mid-commit leaves the audit chain whole: a record and its move of the head commit together or not at all.
        const verdict = await verifyTrail(store);
        assert.equal(verdict.intact, true, `audit chain after cycle ${cycle}: ${JSON.stringify(verdict)}`);
      } finally {
        await store.close();
      }
      // The restarted server serves what was promised.
      const again = await startKmsd(spec);
      try {
        // A kill before any create-key was answered or committed leaves no key to look at.
        const sample = model.keys.size ? pick([...model.keys.keys()]) : null;
        if (sample !== null) {
          const listed = await again.as('alice', 'token').kms('list-grants', { key_id: sample, limit: '100' });
          const expected = [...model.grants.values()].filter((g) => g.keyId === sample).length;
          assert.deepEqual([listed.status, listed.body.total], [200, expected], 'after restart');
        }
        // Every secret value opens, and is the value a request sent (unanswered ones: one of those).
        const keeper = again.as('admin', 'token');
        for (const [name, versions] of model.secrets) {
          for (const [id, sent] of versions) {
            const r = await keeper.request('GET', `/v1/${keeper.user.projectId}/secrets/${name}/versions/${id}`);
            assert.equal(r.status, 200, `value of ${name}/${id}: ${r.text}`);
            const value = r.body.version.secret_string;
            if (sent === '') {
              assert.ok(model.pendingValues.get(name)?.has(value), `value of ${name}/${id} nobody sent`);
              versions.set(id, value);
              model.pendingValues.get(name)?.delete(value);
            } else assert.equal(value, sent, `value of ${name}/${id}`);
          }
        }
        model.pendingValues.clear();
      } finally {
        await again.stop();
      }
      Object.assign(report, {
        cycles: cycle, requests: report.requests + counts.requests, answered200: report.answered200 + counts.ok,
        refused: report.refused + counts.refused, unanswered: report.unanswered + counts.unanswered,
        keys: model.keys.size, liveGrants: model.grants.size,
      });
      log(`cycle ${cycle}: killed after ${killAfter} ms; ${counts.requests} requests (${counts.ok} × 200, ${counts.refused} refused, ${counts.unanswered} unanswered); ${model.keys.size} keys, ${model.grants.size} live grants, ${model.secrets.size} secrets`);
    }
    return report;
  } finally {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}
