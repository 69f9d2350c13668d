import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callerDraft, noteBody, recordingStore } from '../src/api/audit.ts';
import type { Principal } from '../src/auth/authenticate.ts';
import { systemClock } from '../src/core/runtime.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import type { Store } from '../src/store/store.ts';

/**
 * A write runs again after a conflict, or when its PostgreSQL group is undone
 * (docs/postgres-performance.md): the request's record must name what the request named, not the
 * key or grant an earlier, rolled-back run made. Here a real SQLite store whose writes run once,
 * are rolled back, and run again.
 */
test('a write that made a key, was rolled back and is refused when it runs again: the refusal names the key the request named, not the one never committed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-draft-'));
  const store = new SqliteStore(join(dir, 'kmsd.db'));
  try {
    const UNDONE = new Error('undone');
    const runningTwice: Store = {
      driver: store.driver,
      read: (work) => store.read(work),
      write: async (work) => {
        await store.write(async (tx) => {
          await work(tx);
          throw UNDONE;
        }).catch((error: unknown) => {
          if (error !== UNDONE) throw error;
        });
        return store.write(work);
      },
      close: () => store.close(),
    };
    const principal = { userId: 'u1', userName: 'alice', accountId: 'acct', accountName: 'a', projectId: null, policies: [], accessKey: null } as unknown as Principal;
    const draft = callerDraft('req-1', 'create-key', principal, '127.0.0.1');
    noteBody(draft, { key_id: 'asked-for' });
    const refused = new Error('KMS.2404');
    let runs = 0;
    const recording = recordingStore(runningTwice, systemClock, draft);
    await assert.rejects(recording.write(async () => {
      runs++;
      if (runs === 1) return { keyId: 'made-and-rolled-back', grantId: 'g'.repeat(64) };
      throw refused;
    }), refused);
    assert.equal(runs, 2);
    assert.deepEqual([draft.keyId, draft.grantId, draft.recorded], ['asked-for', null, false]);
    assert.deepEqual(await store.read((tx) => tx.listAuditChain(0, 10)), []);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
