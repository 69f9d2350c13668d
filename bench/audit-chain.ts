import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent, Key } from '../src/core/model.ts';
import { PostgresStore } from '../src/store/postgres.ts';
import { SharedLock } from '../src/store/shared-lock.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import type { Store } from '../src/store/store.ts';

/**
 * The audit chain's cost on the write path (issue #22 §3), below HTTP: two stores on one
 * database (two nodes on PostgreSQL; two worker threads' stores on SQLite) commit units that
 * each create a key of its own and append its record, from CONCURRENCY writers at once, for
 * SECONDS. Every unit touches a different key, so the only lock they share is the chain's
 * head: the figure shows what chaining serialises. Run it on a tree before the chain for the
 * comparison (the units call only what both have).
 *
 *   node bench/audit-chain.ts [postgres://... (a fresh, empty database)] [--seconds N] [--concurrency N]
 */
const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const SECONDS = option('--seconds', 5);
const CONCURRENCY = option('--concurrency', 32);
const url = args.find((a) => a.startsWith('postgres'));

const key = (): Key => ({
  keyId: randomUUID(), accountId: 'bench', region: 'cn-north-4', alias: `k-${randomUUID()}`, description: '', spec: 'AES_256',
  usage: 'ENCRYPT_DECRYPT', origin: 'kms', state: '2', creationDate: Date.now(), scheduledDeletionDate: null, defaultKey: false,
  rotationEnabled: false, rotationInterval: 365, lastRotationTime: null, rotationDue: null, rotations: 0, materialVersion: 1,
  keystoreId: '0', materialExpires: null, importDigest: null,
});
const record = (keyId: string): AuditEvent => ({
  time: Date.now(), requestId: randomUUID(), accountId: 'bench', userId: 'u', accessKeyId: null, claimedAccessKeyId: null, source: '127.0.0.1',
  operation: 'create-key', keyId, grantId: null, sequence: null, outcome: 'allowed', status: 200, errorCode: null, count: 1,
});

const dir = url ? null : mkdtempSync(join(tmpdir(), 'kmsd-chain-bench-'));
const lock = new SharedLock();
const open = (): Promise<Store> | Store =>
  url ? PostgresStore.open(url) : new SqliteStore(join(dir as string, 'kmsd.db'), { writeLock: new SharedLock(lock.buffer) });
const stores = [await open(), await open()];
const latencies: number[] = [];
const end = Date.now() + SECONDS * 1000;
await Promise.all(Array.from({ length: CONCURRENCY }, async (_, i) => {
  const store = stores[i % stores.length];
  while (Date.now() < end) {
    const started = performance.now();
    await store.write(async (tx) => {
      const k = key();
      await tx.insertKey(k);
      await tx.insertAudit(record(k.keyId));
    });
    latencies.push(performance.now() - started);
  }
}));
for (const s of stores) await s.close();
if (dir) rmSync(dir, { recursive: true, force: true });
latencies.sort((a, b) => a - b);
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(1);
process.stdout.write(`${url ? 'postgres' : 'sqlite'}: ${(latencies.length / SECONDS).toFixed(0)} units/s, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms (${CONCURRENCY} writers over 2 stores, ${SECONDS} s)\n`);
