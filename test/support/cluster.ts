import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, worldIdentities, type TestUser, type World } from '../harness.ts';
import { freshDatabase } from './postgres.ts';

const BIN = fileURLToPath(new URL('../../bin/kmsd.js', import.meta.url));

export interface Node {
  url: string;
  process: ChildProcess;
  /** Everything the node wrote to stdout and stderr so far. */
  output(): string;
  as(user: string, auth?: 'token' | 'aksk'): Client;
  stop(): Promise<void>;
}

export interface Cluster {
  dir: string;
  databaseUrl: string;
  identities: string;
  rootKey: string;
  users: Record<string, TestUser>;
  nodes: Node[];
  /** Starts one more node on the same database (e.g. to restart one). */
  startNode(): Promise<Node>;
  close(): Promise<void>;
}

export interface NodeSpec {
  /** "sqlite" (in dataDir) or a postgres:// URL. */
  store: string;
  dataDir: string;
  identities: string;
  /** base64; "" for none (a sealed store). */
  rootKey: string;
  users: Record<string, TestUser>;
  /** More environment (e.g. KMSD_LOG_LEVEL, KMSD_RATE_LIMIT). */
  env?: Record<string, string>;
  /** How long the node may take to serve on every event loop (default 30 s). */
  startTimeoutMs?: number;
  /** A command that runs kmsd (e.g. prlimit with its flags), given the node binary and its arguments after its own. */
  launcher?: string[];
}

/**
 * Event loops per node (`--workers`): KMSD_TEST_WORKERS, else 2, so the suites that start
 * real processes (cluster, crash, workers) prove every promise across worker threads too.
 */
export const TEST_WORKERS = process.env.KMSD_TEST_WORKERS ?? '2';

/**
 * Nodes still running, killed when this test file's process exits however it exits: a file
 * stopped by test/support/file-deadline.ts (process.exit) runs no t.after or after hook.
 */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts a kmsd process (the real CLI) and waits for its address. */
export async function startKmsd(spec: NodeSpec): Promise<Node> {
  const [command, ...args] = [...(spec.launcher ?? []), process.execPath, BIN, 'serve'];
  const child = spawn(command, args, {
    env: {
      ...process.env,
      KMSD_PORT: '0', KMSD_STORE: spec.store, KMSD_IDENTITIES: spec.identities,
      // "" starts without one (a sealed store).
      ...(spec.rootKey !== '' && { KMSD_ROOT_KEY: spec.rootKey }),
      KMSD_DATA_DIR: spec.dataDir, KMSD_LOG_LEVEL: 'warn', KMSD_WORKERS: TEST_WORKERS, KMSD_LOOP_START_LOAD: '0', ...spec.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left running behind the failure.
      child.kill('SIGKILL');
      reject(new Error(`node did not start: ${out}`));
    }, spec.startTimeoutMs ?? 30_000);
    child.on('exit', (code) => reject(new Error(`node exited with ${code}: ${out}`)));
    // The banner comes once the main thread serves; with several loops, the workers join after it.
    const loops = Number(spec.env?.KMSD_WORKERS ?? TEST_WORKERS);
    child.stdout?.on('data', () => {
      const m = /serving the Huawei Cloud KMS v1\.0 API at (https?:\/\/\S+)/.exec(out);
      if (m && (loops <= 1 || out.includes(`kmsd: all ${loops} event loops are serving`))) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  const clients = new Map<string, Client>();
  const world = { url, users: spec.users } as unknown as World;
  return {
    url,
    process: child,
    output: () => out,
    as(user, auth = 'token') {
      const key = `${user}/${auth}`;
      if (!clients.has(key)) clients.set(key, new Client(world, spec.users[user], auth));
      return clients.get(key) as Client;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** `size` kmsd processes over one fresh PostgreSQL database, started together. */
export async function startCluster(size = 2): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-cluster-'));
  const db = await freshDatabase();
  const { path, users } = worldIdentities(dir);
  const base = { dir, databaseUrl: db.url, identities: path, rootKey: randomBytes(32).toString('base64'), users };
  const startNode = () => startKmsd({ ...base, store: db.url, dataDir: join(dir, `node-${randomBytes(4).toString('hex')}`) });
  // A node that fails to start must not leave the others running (and the test process waiting on their pipes).
  const started = await Promise.allSettled(Array.from({ length: size }, startNode));
  const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(nodes.map((n) => n.stop()));
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
    throw failed.reason;
  }
  return {
    ...base,
    nodes,
    startNode,
    async close() {
      // Every node stopped and the database dropped even when one stop fails.
      const stopped = await Promise.allSettled(nodes.map((n) => n.stop()));
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
      const failed = stopped.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}
