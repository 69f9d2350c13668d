import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { testConfig } from '../src/config.ts';
import { startServer } from '../src/server.ts';
import { startWorkers } from '../src/cluster.ts';

/**
 * A declared identities file's passwords are checked against their stored scrypt hashes after
 * the node listens (src/auth/declared-passwords.ts). These tests hold the scrypt of chosen
 * passwords on this thread (where the start's checks run) until they release it, so what a
 * login sees before and after a check is asserted, never timed.
 */

/** Holds this thread's scrypt computations of the given passwords until release(). */
function holdScrypt(passwords: string[]): { release(): void; held(): number; restore(): void } {
  const real = crypto.scrypt;
  const waiting: Array<() => void> = [];
  let releasedAll = false;
  crypto.scrypt = ((password: crypto.BinaryLike, ...rest: unknown[]) => {
    const run = () => (real as (...a: unknown[]) => void)(password, ...rest);
    if (!releasedAll && typeof password === 'string' && passwords.includes(password)) waiting.push(run);
    else run();
  }) as typeof real;
  syncBuiltinESMExports();
  return {
    held: () => waiting.length,
    release() {
      releasedAll = true;
      for (const run of waiting.splice(0)) run();
    },
    restore() {
      crypto.scrypt = real;
      syncBuiltinESMExports();
    },
  };
}

const file = (admin: string, bob: string) => ({
  accounts: [{ name: 'acme', users: [{ name: 'admin', password: admin }, { name: 'bob', password: bob }] }],
});

/** A password login over a connection of its own (so several loops of one port each get some). */
function login(url: string, name: string, password: string): Promise<number> {
  const body = JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name, password, domain: { name: 'acme' } } } }, scope: { project: { name: 'cn-north-4' } } } });
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v3/auth/tokens`, {
      method: 'POST', agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode as number));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The settings marking users whose declared password is not checked yet. */
function marks(dir: string): number {
  const db = new DatabaseSync(join(dir, 'kmsd.db'), { readOnly: true });
  try {
    return Number(db.prepare("SELECT count(*) AS n FROM settings WHERE name LIKE 'password-unchecked:%'").get()?.n);
  } finally {
    db.close();
  }
}

/** Whether the promise is still pending after the event loop has turned a few times (and the server answered others). */
async function pending(p: Promise<unknown>): Promise<boolean> {
  const marker = Symbol('pending');
  return (await Promise.race([p, new Promise((r) => setTimeout(() => r(marker), 100))])) === marker;
}

describe('declared passwords, checked after the node listens', () => {
  test('the start does not wait for scrypt; a login waits for its own user\'s check only, and is checked against the file\'s password', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-declared-'));
    const path = join(dir, 'ids.json');
    const config = testConfig({ dataDir: dir, identities: path, port: 0 });
    let hold: ReturnType<typeof holdScrypt> | null = null;
    try {
      writeFileSync(path, JSON.stringify(file('old admin', 'bob pw')));
      // New users too: their hashes are made after the start, and a login waits for them.
      const first = await startServer(config, { logger: false });
      try {
        assert.equal(await login(first.url, 'admin', 'old admin'), 201);
        assert.equal(await login(first.url, 'bob', 'bob pw'), 201);
      } finally {
        await first.close();
      }
      assert.equal(marks(dir), 0, 'every check committed before close() returned');

      // The admin's password changes in the file; its check is held: the start returns anyway.
      writeFileSync(path, JSON.stringify(file('new admin', 'bob pw')));
      hold = holdScrypt(['new admin']);
      const second = await startServer(config, { logger: false });
      try {
        assert.equal(hold.held(), 1, 'the admin\'s check is held, and the node listens');
        // Bob does not wait for the admin's check.
        assert.equal(await login(second.url, 'bob', 'bob pw'), 201);
        assert.equal(await login(second.url, 'bob', 'wrong'), 401);
        assert.equal(marks(dir), 1, 'bob\'s check committed; the admin is still marked');
        // The admin's logins, with the new and with the old password, wait for its check.
        const withNew = login(second.url, 'admin', 'new admin');
        const withOld = login(second.url, 'admin', 'old admin');
        assert.equal(await pending(withNew), true);
        assert.equal(await pending(withOld), true);
        hold.release();
        assert.equal(await withNew, 201);
        assert.equal(await withOld, 401, 'the stored hash the start found is not in force any more');
        assert.equal(marks(dir), 0);
      } finally {
        hold.release();
        await second.close();
      }
    } finally {
      hold?.restore();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('SIGHUP while a start\'s check is held: the reload checks before it commits, and the held check writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-declared-'));
    const path = join(dir, 'ids.json');
    const config = testConfig({ dataDir: dir, identities: path, port: 0 });
    let hold: ReturnType<typeof holdScrypt> | null = null;
    try {
      writeFileSync(path, JSON.stringify(file('first', 'bob pw')));
      await (await startServer(config, { logger: false })).close();
      // The start's file says "second" (held); the reload's says "first" again, the stored one.
      writeFileSync(path, JSON.stringify(file('second', 'bob pw')));
      hold = holdScrypt(['second']);
      const server = await startServer(config, { logger: false });
      try {
        const waiting = login(server.url, 'admin', 'first');
        assert.equal(await pending(waiting), true);
        writeFileSync(path, JSON.stringify(file('first', 'bob pw')));
        assert.deepEqual(await server.reloadIdentities(), []);
        assert.equal(marks(dir), 0, 'the reload cleared the start\'s marks');
        assert.equal(await waiting, 201, 'the waiting login sees the reload\'s passwords');
        hold.release();
        // The held check, once released, finds its mark gone: it must not write "second".
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(await login(server.url, 'admin', 'first'), 201);
        assert.equal(await login(server.url, 'admin', 'second'), 401);
      } finally {
        hold.release();
        await server.close();
      }
      // And the next start (nothing held) agrees: "first" is the stored password.
      hold.restore();
      hold = null;
      const again = await startServer(config, { logger: false });
      try {
        assert.equal(await login(again.url, 'admin', 'first'), 201);
        assert.equal(await login(again.url, 'admin', 'second'), 401);
      } finally {
        await again.close();
      }
    } finally {
      hold?.restore();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('with two event loops, a login on either loop waits for the main thread\'s check', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-declared-'));
    const path = join(dir, 'ids.json');
    const config = testConfig({ dataDir: dir, identities: path, port: 0, workers: 2, logLevel: 'silent' });
    let hold: ReturnType<typeof holdScrypt> | null = null;
    try {
      writeFileSync(path, JSON.stringify(file('old admin', 'bob pw')));
      await (await startServer(testConfig({ dataDir: dir, identities: path, port: 0 }), { logger: false })).close();
      writeFileSync(path, JSON.stringify(file('new admin', 'bob pw')));
      hold = holdScrypt(['new admin']);
      const server = await startWorkers(config, (error) => assert.fail(String(error)));
      try {
        await server.joined;
        // Ten connections of their own: the kernel spreads them over both loops. A loop that did
        // not wait would answer the new password 401 (the old hash) at once.
        const logins = Array.from({ length: 10 }, () => login(server.url, 'admin', 'new admin'));
        assert.equal(await pending(Promise.race(logins)), true);
        hold.release();
        assert.deepEqual(await Promise.all(logins), Array(10).fill(201));
        assert.deepEqual(await Promise.all(Array.from({ length: 4 }, () => login(server.url, 'admin', 'old admin'))), Array(4).fill(401));
      } finally {
        hold.release();
        await server.close();
      }
    } finally {
      hold?.restore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
