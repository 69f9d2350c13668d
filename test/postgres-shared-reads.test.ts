import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { Account, Grant, Key, User } from '../src/core/model.ts';
import { PostgresStore } from '../src/store/postgres.ts';
import { freshDatabase, POSTGRES_SKIP } from './support/postgres.ts';

/**
 * Shared reads (src/store/postgres.ts MemoExecutor, postgres-memo.ts `arriving`): a read that
 * misses the memo waits for the same statement another request already sent, under conditions
 * that keep the retire guarantee and a node's pool moving. Two stores on one database are two
 * nodes; answers are delayed by wrapping pg's query.
 */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const keyId = '11111111-0000-4000-8000-000000000000';
const key = {
  keyId, accountId: 'acct', region: 'r', alias: 'k', description: '', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', origin: 'kms',
  state: '2', creationDate: 1000, scheduledDeletionDate: null, defaultKey: false, rotationEnabled: false, rotationInterval: 365, lastRotationTime: null,
  rotationDue: null, rotations: 0, materialVersion: 1, keystoreId: '0', materialExpires: null, importDigest: null,
} as unknown as Key;
const grant = (grantId: string) => ({
  grantId, keyId, granteePrincipal: 'gus', granteeType: 'user', operations: ['encrypt-data'], issuingPrincipal: 'x',
  retiringPrincipal: null, name: null, creationDate: 1,
}) as unknown as Grant;

const query = pg.Client.prototype.query;
/** Answers of statements `matching` come `ms` late (the first `times` of them). */
function delay(matching: (text: string) => boolean, ms: number, times = Infinity): void {
  let left = times;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text ?? '';
    const answer = (query as (...a: unknown[]) => unknown).apply(this, args);
    if (!(answer instanceof Promise) || !matching(text) || left <= 0) return answer;
    left--;
    return answer.then(async (result) => (await sleep(ms), result));
  } as typeof query;
}

describe('shared reads on a PostgreSQL node', { skip: POSTGRES_SKIP }, () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let A: PostgresStore;
  before(async () => {
    database = await freshDatabase();
    A = await PostgresStore.open(database.url, { poolSize: 2 });
    await A.write(async (tx) => {
      await tx.insertAccount({ id: 'acct', name: 'acct', disabled: false } as Account);
      await tx.insertUser({ id: 'gus', accountId: 'acct', name: 'gus', passwordHash: 'x', policies: [], disabled: false } as unknown as User);
      await tx.insertKey(key);
    });
  });
  after(async () => {
    pg.Client.prototype.query = query;
    await A?.close();
    await database?.drop();
  });

  test('a read sent before a retire committed elsewhere is not shared with a request after the retire\'s 200', async () => {
    const grantId = '1'.repeat(64);
    await A.write((tx) => tx.insertGrant(grant(grantId), 100));
    // A shared answer is waited for up to 200 ms at this deadline: the late one below comes sooner.
    const B = await PostgresStore.open(database.url, { poolSize: 4, deadlineMs: 20_000 });
    try {
      const names = () => B.read(async (tx) => (await tx.grantsNaming(keyId, 'gus', 'acct')).map((g) => g.grantId));
      // B stands at the current versions, the key's grants not remembered.
      await B.read((tx) => tx.getUserAndAccount('gus'));
      delay((text) => /\bFROM grants\b/.test(text) && !text.includes('FOR UPDATE'), 180, 1);
      // Its grants read is sent now and answered in 180 ms, with the grant.
      const early = names();
      await sleep(20);
      // The retire, on the other node: its 200.
      assert.equal(await A.write((tx) => tx.deleteGrant(grantId)), true);
      const next = await names();
      assert.deepEqual([await early, next], [[grantId], []]);
    } finally {
      pg.Client.prototype.query = query;
      await B.close();
    }
  });

  test('a pool full of reads that miss the same row as a read still waiting for a connection keeps moving: all answered, none 503', async () => {
    const B = await PostgresStore.open(database.url, { poolSize: 2, deadlineMs: 4000 });
    try {
      // B stands at the current versions; the key is not remembered.
      await B.read((tx) => tx.getUserAndAccount('gus'));
      // Version reads answered 300 ms late (a loaded database).
      delay((text) => text.includes('string_agg'), 300);
      // Two new requests take both connections for their version reads...
      const first = B.read((tx) => tx.getKey(keyId));
      const second = B.read((tx) => tx.getKey(keyId));
      await sleep(50);
      // ...while a later read of a request (no version read of its own) misses the key and waits for a connection.
      const later = B.read((tx) => tx.getKey(keyId), { sameRequest: true });
      const answers = await Promise.allSettled([first, second, later]);
      assert.deepEqual(answers.map((a) => (a.status === 'fulfilled' ? a.value?.keyId : String(a.reason))), [keyId, keyId, keyId]);
    } finally {
      pg.Client.prototype.query = query;
      await B.close();
    }
  });

  test('a read whose shared answer is late (a slow or dead connection) sends its own after a while, and is answered first', async () => {
    const B = await PostgresStore.open(database.url, { poolSize: 4, deadlineMs: 8000 });
    try {
      await B.read((tx) => tx.getUserAndAccount('gus'));
      // The first key read is answered 3 s late; the same read sent after it is not.
      delay((text) => text.includes('FROM keys WHERE key_id') && !text.includes('FOR UPDATE'), 3000, 1);
      const order: string[] = [];
      const slow = B.read((tx) => tx.getKey(keyId)).then(() => order.push('slow'));
      await sleep(50);
      const waiting = B.read((tx) => tx.getKey(keyId)).then(() => order.push('waiting'));
      await Promise.all([slow, waiting]);
      assert.deepEqual(order, ['waiting', 'slow']);
    } finally {
      pg.Client.prototype.query = query;
      await B.close();
    }
  });
});
