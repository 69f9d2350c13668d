import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { DatabaseSync } from 'node:sqlite';
import { Writable } from 'node:stream';
import pino from 'pino';
import { PasswordGate } from '../src/auth/password-gate.ts';
import { MAX_WAITING } from '../src/auth/login-guard.ts';
import { DECISIONS } from '../src/core/decisions.ts';
import { verifyPassword } from '../src/auth/passwords.ts';
import { testConfig, type Config } from '../src/config.ts';
import { startServer } from '../src/server.ts';
import { startWorkers } from '../src/cluster.ts';
import { SAMPLE_MS } from '../src/loops-on-demand.ts';
import { freshDatabase, POSTGRES_SKIP } from './support/postgres.ts';
import { startBlackholeProxy } from './support/blackhole-proxy.ts';

/**
 * A declared identities file's passwords are put in force after kmsd listens
 * (src/identities-chain.ts, DECISIONS.declaredPasswordsAfterListen): every password login of
 * the node waits until they are, whatever user it names. These tests hold the scrypt of chosen
 * passwords on this thread (where the start's checks run) until they release it, so what a
 * login sees before and after is asserted, never timed.
 */

const BIN = fileURLToPath(new URL('../bin/kmsd.js', import.meta.url));
const ROOT_KEY = crypto.randomBytes(32).toString('base64');

/** Holds this thread's scrypt computations of the given passwords until release(). */
function holdScrypt(passwords: string[], counted: string[] = passwords): { release(): void; held(): number; calls(): number; restore(): void } {
  const real = crypto.scrypt;
  const waiting: Array<() => void> = [];
  let releasedAll = false;
  let calls = 0;
  crypto.scrypt = ((password: crypto.BinaryLike, ...rest: unknown[]) => {
    const run = () => (real as (...a: unknown[]) => void)(password, ...rest);
    const chosen = typeof password === 'string' && passwords.includes(password);
    if (typeof password === 'string' && counted.includes(password)) calls++;
    if (!releasedAll && chosen) waiting.push(run);
    else run();
  }) as typeof real;
  syncBuiltinESMExports();
  return {
    held: () => waiting.length,
    /** Scrypt computations of the `counted` passwords so far (the held ones by default), held or not. */
    calls: () => calls,
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

/** An identities file of one account "acme" whose users have these passwords (user0, user1, ...). */
const file = (passwords: string[]) => ({ accounts: [{ name: 'acme', users: passwords.map((password, i) => ({ name: `user${i}`, password })) }] });

/** POST /v3/auth/tokens over a connection of its own (so several loops of one port each get some). */
function post(url: string, identity: unknown): Promise<{ status: number; body: string; token: string | undefined }> {
  const body = JSON.stringify({ auth: { identity, scope: { project: { name: 'cn-north-4' } } } });
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v3/auth/tokens`, {
      method: 'POST', agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' },
    }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode as number, body: text, token: res.headers['x-subject-token'] as string | undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const passwordLogin = (url: string, name: string, password: string) =>
  post(url, { methods: ['password'], password: { user: { name, password, domain: { name: 'acme' } } } });
const login = async (url: string, name: string, password: string): Promise<number> => (await passwordLogin(url, name, password)).status;

/** Whether the promise is still pending after the event loop has turned a few times (and the server answered others). */
async function pending(p: Promise<unknown>): Promise<boolean> {
  const marker = Symbol('pending');
  return (await Promise.race([p, new Promise((r) => setTimeout(() => r(marker), 150))])) === marker;
}

const WRONG = { error: { code: 401, title: 'Unauthorized', message: 'The username or password is wrong.' } };
const UNAVAILABLE = { error: { code: 503, title: 'Service Unavailable', message: 'The service is temporarily unavailable.' } };

function scratch(): { dir: string; path: string; write(passwords: string[]): void; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-declared-'));
  const path = join(dir, 'ids.json');
  return { dir, path, write: (passwords) => writeFileSync(path, JSON.stringify(file(passwords))), done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A log stream for pino and the lines written to it, parsed. */
function logLines(): { lines: Array<Record<string, unknown>>; stream: Writable } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, stream };
}

/** Starts and stops a node once its file's passwords are in force, so the file's users and hashes are stored. */
async function serveOnce(config: Config): Promise<void> {
  const server = await startServer(config, { logger: false });
  await server.identitiesSettled();
  await server.close();
}

describe('declared passwords, put in force after the node listens', () => {
  test('the node listens before the check; every password login waits for it, a known user\'s or not; then the old password is refused and the new one accepted; tokens do not wait', async () => {
    const s = scratch();
    const config = testConfig({ dataDir: s.dir, identities: s.path, port: 0, loginFailures: 0 });
    let hold: ReturnType<typeof holdScrypt> | null = null;
    try {
      s.write(['old pw', 'user1 pw']);
      const first = await startServer(config, { logger: false });
      let token: string;
      try {
        const answer = await passwordLogin(first.url, 'user0', 'old pw');
        assert.equal(answer.status, 201);
        token = answer.token as string;
      } finally {
        await first.close();
      }
      // user0's password changes; the check of the new one is held: the start returns anyway.
      s.write(['new pw', 'user1 pw']);
      hold = holdScrypt(['new pw']);
      const second = await startServer(config, { logger: false });
      try {
        // The node serves: a token login (and every request that is not a password login) does not wait.
        const byToken = await post(second.url, { methods: ['token'], token: { id: token } });
        assert.equal(byToken.status, 201);
        assert.ok(hold.held() >= 1, 'the check of the file\'s new password is held, and the node serves');
        // Ready as soon as it serves (what a load balancer waits for); password logins wait.
        const ready = await fetch(`${second.url}/_kmsd/ready`);
        assert.deepEqual([ready.status, await ready.json()], [200, { status: 'ready', store: 'sqlite' }]);
        const withOld = passwordLogin(second.url, 'user0', 'old pw');
        const withNew = passwordLogin(second.url, 'user0', 'new pw');
        const otherUser = passwordLogin(second.url, 'user1', 'user1 pw');
        const nobody = passwordLogin(second.url, 'nobody', 'old pw');
        for (const waiting of [withOld, withNew, otherUser, nobody]) assert.equal(await pending(waiting), true);
        hold.release();
        const [oldAnswer, newAnswer, otherAnswer, nobodyAnswer] = await Promise.all([withOld, withNew, otherUser, nobody]);
        assert.equal(oldAnswer.status, 401);
        assert.deepEqual(JSON.parse(oldAnswer.body), WRONG);
        assert.equal(newAnswer.status, 201);
        assert.equal(otherAnswer.status, 201);
        assert.equal(nobodyAnswer.status, 401);
        assert.deepEqual(JSON.parse(nobodyAnswer.body), WRONG);
        // Once in force, nothing waits.
        assert.equal(await login(second.url, 'user0', 'old pw'), 401);
        assert.equal(await login(second.url, 'user0', 'new pw'), 201);
      } finally {
        hold.release();
        await second.close();
      }
    } finally {
      hold?.restore();
      s.done();
    }
  });

  test('a reload that fails once the file is in force changes nothing: the passwords in force stay and logins stop waiting', async () => {
    const s = scratch();
    const config = testConfig({ dataDir: s.dir, identities: s.path, port: 0, loginFailures: 0 });
    try {
      s.write(['pw']);
      const server = await startServer(config, { logger: false });
      try {
        await server.identitiesSettled();
        // The file names user0 with an id it does not have: the whole apply is refused.
        writeFileSync(s.path, JSON.stringify({ accounts: [{ name: 'acme', users: [{ name: 'user0', id: 'f'.repeat(32), password: 'other pw' }] }] }));
        await assert.rejects(server.reloadIdentities(), /identities: user "user0" of "acme" exists with id [0-9a-f]{32}, the file says f{32}/);
        assert.equal(await login(server.url, 'user0', 'pw'), 201);
        assert.equal(await login(server.url, 'user0', 'other pw'), 401);
      } finally {
        await server.close();
      }
    } finally {
      s.done();
    }
  });

  test('a node stopped during its check stops checking and writes none of its passwords (the file is applied at its next start), and warns of nothing', async () => {
    const s = scratch();
    const config = testConfig({ dataDir: s.dir, identities: s.path, port: 0, loginFailures: 0 });
    const passwords = (tag: string) => Array.from({ length: 40 }, (_, i) => `${tag} ${i}`);
    try {
      s.write(passwords('A'));
      await serveOnce(config);
      s.write(passwords('B'));
      const { lines, stream } = logLines();
      const server = await startServer(config, { logger: pino({ level: 'debug' }, stream) });
      await server.close();
      // A stop soon after the start (Ctrl-C) is not a problem to report.
      assert.deepEqual(lines.filter((l) => Number(l.level) >= 40), []);
      assert.deepEqual(lines.filter((l) => String(l.msg).startsWith('the start\'s identities file')).map((l) => l.msg),
        ['the start\'s identities file was not put in force: kmsd is stopping (it is at the next start)']);
      const db = new DatabaseSync(join(s.dir, 'kmsd.db'), { readOnly: true });
      try {
        const hash = (db.prepare("SELECT password_hash FROM users WHERE name = 'user39'").get() as { password_hash: string }).password_hash;
        assert.equal(await verifyPassword('A 39', hash), true, 'the last user\'s stored password is still the one before');
      } finally {
        db.close();
      }
    } finally {
      s.done();
    }
  });

  test('a node stopped with a password login waiting: the login gets the 503 at once (logged as the gate\'s, not the store\'s), the check stops and writes nothing, the node stops within its grace', async () => {
    const s = scratch();
    const { lines, stream } = logLines();
    const config = testConfig({ dataDir: s.dir, identities: s.path, port: 0, loginFailures: 0, shutdownGrace: 20_000 });
    const passwords = (tag: string) => Array.from({ length: 3 }, (_, i) => `${tag} ${i}`);
    let hold: ReturnType<typeof holdScrypt> | null = null;
    try {
      s.write(passwords('A'));
      await serveOnce(config);
      s.write(passwords('B'));
      // user0's check is held; the others (user1's and user2's: one against the stored hash, one new hash each) end before the stop.
      hold = holdScrypt(['B 0'], passwords('B'));
      const server = await startServer(config, { logger: pino({ level: 'info' }, stream) });
      let closing: Promise<void> | null = null;
      try {
        const waiting = passwordLogin(server.url, 'user1', 'A 1');
        assert.equal(await pending(waiting), true);
        while (hold.calls() < 5) await new Promise((r) => setTimeout(r, 20));
        const started = performance.now();
        closing = server.close('SIGTERM');
        // Answered while the check is still held: the stop did not wait for it, nor for the grace.
        const answer = await waiting;
        assert.deepEqual([answer.status, JSON.parse(answer.body)], [503, UNAVAILABLE]);
        assert.ok(performance.now() - started < 10_000, `answered after ${performance.now() - started} ms, not after the grace`);
        assert.equal(hold.held(), 1);
        hold.release();
        await closing;
        assert.ok(performance.now() - started < 15_000, `stopped after ${performance.now() - started} ms, not after the grace`);
      } finally {
        hold.release();
        await (closing ?? server.close());
      }
      const refused = lines.filter((l) => l.msg === 'password login refused: the identities file\'s passwords are not in force yet');
      assert.deepEqual(refused.map((l) => l.reason), ['stopping']);
      assert.deepEqual(lines.filter((l) => l.msg === 'store unavailable'), []);
      const db = new DatabaseSync(join(s.dir, 'kmsd.db'), { readOnly: true });
      try {
        const hash = (db.prepare("SELECT password_hash FROM users WHERE name = 'user2'").get() as { password_hash: string }).password_hash;
        assert.equal(await verifyPassword('A 2', hash), true, 'the stopped check wrote none of the file\'s passwords, not even those checked before the stop');
      } finally {
        db.close();
      }
    } finally {
      hold?.restore();
      s.done();
    }
  });

  test('past MAX_WAITING logins waiting on one loop, the next is refused at once (\'too many waiting\'); the node stopping lets every one go', async () => {
    const gate = new PasswordGate();
    gate.close();
    const waiting = Array.from({ length: MAX_WAITING }, () => gate.passable(60_000));
    const started = performance.now();
    assert.equal(await gate.passable(60_000), 'too many waiting');
    assert.ok(performance.now() - started < 1000);
    assert.equal(await pending(Promise.race(waiting)), true);
    gate.stop();
    assert.deepEqual(new Set(await Promise.all(waiting)), new Set(['stopping']));
    // Stopping is for good: an apply ending afterwards does not open it.
    gate.open();
    assert.equal(await gate.passable(60_000), 'stopping');
  });

  test('a stop once the passwords are in force leaves the gate open: a password login reaching its handler during the grace is served (201), not refused', async () => {
    const gate = new PasswordGate();
    gate.stop();
    assert.equal(await gate.passable(60_000), null);
    const s = scratch();
    try {
      s.write(['pw 0']);
      const server = await startServer(testConfig({ dataDir: s.dir, identities: s.path, port: 0, loginFailures: 0 }), { logger: false });
      try {
        await server.identitiesSettled();
        // The first step of close(): the chain stops; a reload asked afterwards does not close the gate either.
        await server.stopIdentities();
        await assert.rejects(server.reloadIdentities(), /kmsd is stopping/);
        assert.equal(await login(server.url, 'user0', 'pw 0'), 201);
      } finally {
        await server.close();
      }
    } finally {
      s.done();
    }
  });

  test('a login waiting on the check counts once against the failed-login budget', async () => {
    const s = scratch();
    // 3 failures a minute: five wrong passwords sent while the check is held are three 401s and two 429s, as without a wait.
    const config = testConfig({ dataDir: s.dir, identities: s.path, port: 0, loginFailures: 3 });
    let hold: ReturnType<typeof holdScrypt> | null = null;
    try {
      s.write(['old pw']);
      await serveOnce(config);
      s.write(['new pw']);
      hold = holdScrypt(['new pw']);
      const server = await startServer(config, { logger: false });
      try {
        const wrong = Array.from({ length: 5 }, () => login(server.url, 'user0', 'old pw'));
        assert.equal(await pending(Promise.race(wrong)), true);
        hold.release();
        assert.deepEqual((await Promise.all(wrong)).sort(), [401, 401, 401, 429, 429]);
      } finally {
        hold.release();
        await server.close();
      }
    } finally {
      hold?.restore();
      s.done();
    }
  });

  test('with two event loops, a login on either loop waits for the main thread\'s apply', async () => {
    const s = scratch();
    const config = testConfig({ dataDir: s.dir, identities: s.path, port: 0, workers: 2, logLevel: 'silent', loginFailures: 0 });
    let hold: ReturnType<typeof holdScrypt> | null = null;
    try {
      s.write(['old pw']);
      await serveOnce(testConfig({ dataDir: s.dir, identities: s.path, port: 0 }));
      s.write(['new pw']);
      hold = holdScrypt(['new pw']);
      const server = await startWorkers(config, (error) => assert.fail(String(error)));
      try {
        await server.joined;
        // Ten connections of their own: the kernel spreads them over both loops. A loop that did
        // not wait would answer the old password 201 (the stored hash) at once.
        const logins = Array.from({ length: 10 }, () => login(server.url, 'user0', 'old pw'));
        assert.equal(await pending(Promise.race(logins)), true);
        hold.release();
        assert.deepEqual(await Promise.all(logins), Array(10).fill(401));
        assert.deepEqual(await Promise.all(Array.from({ length: 4 }, () => login(server.url, 'user0', 'new pw'))), Array(4).fill(201));
      } finally {
        hold.release();
        await server.close();
      }
    } finally {
      hold?.restore();
      s.done();
    }
  });

  test('with two event loops, a stop with password logins waiting on both: every one gets the 503 at once, the check stops and writes nothing, the node stops within its grace', async () => {
    const s = scratch();
    const config = testConfig({ dataDir: s.dir, identities: s.path, port: 0, workers: 2, logLevel: 'silent', loginFailures: 0, shutdownGrace: 8000 });
    let hold: ReturnType<typeof holdScrypt> | null = null;
    try {
      s.write(['old pw']);
      await serveOnce(testConfig({ dataDir: s.dir, identities: s.path, port: 0 }));
      s.write(['new pw']);
      hold = holdScrypt(['new pw']);
      const server = await startWorkers(config, (error) => assert.fail(String(error)));
      let closing: Promise<void> | null = null;
      try {
        await server.joined;
        // Ten connections of their own: the kernel spreads them over both loops.
        const logins = Array.from({ length: 10 }, async () => {
          const answer = await passwordLogin(server.url, 'user0', 'old pw');
          return [answer.status, JSON.parse(answer.body), performance.now()];
        });
        assert.equal(await pending(Promise.race(logins)), true);
        await new Promise((r) => setTimeout(r, 500));
        const started = performance.now();
        closing = server.close('SIGTERM');
        // Every one answered while the check is still held: neither the workers' stop nor the grace held them.
        const answers = await Promise.all(logins);
        assert.deepEqual(answers.map(([status, body]) => [status, body]), Array(10).fill([503, UNAVAILABLE]));
        for (const [, , at] of answers) assert.ok((at as number) - started < 4000, `answered ${(at as number) - started} ms after the stop, not after the grace`);
        assert.equal(hold.held(), 1);
        hold.release();
        await closing;
        assert.ok(performance.now() - started < 8000, `stopped after ${performance.now() - started} ms, not after the grace`);
      } finally {
        hold.release();
        await (closing ?? server.close());
      }
      const db = new DatabaseSync(join(s.dir, 'kmsd.db'), { readOnly: true });
      try {
        const hash = (db.prepare("SELECT password_hash FROM users WHERE name = 'user0'").get() as { password_hash: string }).password_hash;
        assert.equal(await verifyPassword('old pw', hash), true, 'the stopped check wrote nothing');
      } finally {
        db.close();
      }
    } finally {
      hold?.restore();
      s.done();
    }
  });

  test('with two event loops, the worker loop\'s logins wait on the gate too: proven by answers sent while the main thread is blocked (503 at their deadline, never 201 with the replaced password)', async () => {
    const s = scratch();
    const config = testConfig({ dataDir: s.dir, identities: s.path, port: 0, workers: 2, logLevel: 'silent', loginFailures: 0, requestTimeout: 1000, headerTimeout: 800 });
    let hold: ReturnType<typeof holdScrypt> | null = null;
    try {
      s.write(['old pw']);
      await serveOnce(testConfig({ dataDir: s.dir, identities: s.path, port: 0 }));
      s.write(['new pw']);
      hold = holdScrypt(['new pw']);
      const server = await startWorkers(config, (error) => assert.fail(String(error)));
      try {
        assert.equal(await server.joined, 2);
        // Another process opens ten connections (the kernel spreads them over both loops'
        // sockets as it accepts them: before 'go', so that a sender slow to start on a loaded
        // machine cannot miss the window below), then sends a login with the replaced password
        // on each and says when each answer came.
        const sender = spawn(process.execPath, ['--input-type=module', '-e', `
          import { connect } from 'node:net';
          const url = new URL(process.argv[1]);
          const body = JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'user0', password: 'old pw', domain: { name: 'acme' } } } } } });
          const sockets = await Promise.all(Array.from({ length: 10 }, () => new Promise((resolve) => { const s = connect(Number(url.port), url.hostname, () => resolve(s)); })));
          console.log('go');
          await Promise.all(sockets.map((s) => new Promise((resolve) => {
            let answer = '';
            s.on('data', (d) => (answer += d));
            s.on('end', () => {
              console.log(JSON.stringify({ status: Number(answer.split(' ')[1]), at: Date.now() }));
              resolve();
            });
            s.write('POST /v3/auth/tokens HTTP/1.1\\r\\nhost: ' + url.host + '\\r\\ncontent-type: application/json\\r\\nconnection: close\\r\\ncontent-length: ' + Buffer.byteLength(body) + '\\r\\n\\r\\n' + body);
          })));`, server.url], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        sender.stdout.on('data', (d) => (out += d));
        const done = new Promise<void>((resolve) => sender.once('exit', () => resolve()));
        while (!out.includes('go\n')) await new Promise((r) => setTimeout(r, 5));
        // This thread is the main loop: blocked, it answers nothing; an answer that arrives
        // meanwhile came from the worker loop.
        const until = Date.now() + 4000;
        while (Date.now() < until) { /* blocked */ }
        hold.release();
        await done;
        const answers = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { status: number; at: number });
        assert.equal(answers.length, 10);
        const byWorker = answers.filter((a) => a.at < until);
        assert.ok(byWorker.length >= 1, `no connection reached the worker loop: ${out}`);
        assert.deepEqual(byWorker.map((a) => a.status), byWorker.map(() => 503));
        for (const a of answers) assert.notEqual(a.status, 201);
        assert.equal(await login(server.url, 'user0', 'new pw'), 201);
      } finally {
        hold.release();
        await server.close();
      }
    } finally {
      hold?.restore();
      s.done();
    }
  });

  test('a loop started on load during the check waits too: it never accepts the password the file replaced', async () => {
    const s = scratch();
    const config = testConfig({ dataDir: s.dir, identities: s.path, port: 0, workers: 2, loopStartLoad: 60, logLevel: 'silent', loginFailures: 0 });
    let hold: ReturnType<typeof holdScrypt> | null = null;
    try {
      s.write(['old pw']);
      await serveOnce(testConfig({ dataDir: s.dir, identities: s.path, port: 0 }));
      s.write(['new pw']);
      hold = holdScrypt(['new pw']);
      const server = await startWorkers(config, (error) => assert.fail(String(error)));
      try {
        // The main thread busy past a whole sample: the other loop starts, while the check is held.
        const until = performance.now() + SAMPLE_MS * 2.5;
        while (performance.now() < until) { /* busy, as a loaded main thread is */ }
        assert.equal(await server.joined, 2);
        assert.equal(hold.held(), 1);
        const logins = Array.from({ length: 10 }, () => login(server.url, 'user0', 'old pw'));
        assert.equal(await pending(Promise.race(logins)), true);
        hold.release();
        assert.deepEqual(await Promise.all(logins), Array(10).fill(401));
        assert.deepEqual(await Promise.all(Array.from({ length: 4 }, () => login(server.url, 'user0', 'new pw'))), Array(4).fill(201));
      } finally {
        hold.release();
        await server.close();
      }
    } finally {
      hold?.restore();
      s.done();
    }
  });

  test('SQLite: a SIGHUP during the start\'s check waits for it, then its file (the newest) is in force', async () => {
    const s = scratch();
    await reloadDuringTheStartsCheck(testConfig({ dataDir: s.dir, identities: s.path, port: 0, loginFailures: 0 }), s, 8).finally(s.done);
  });

  test('PostgreSQL: the 80-user replay of a SIGHUP during the start\'s check ends with the newest file in force for every user', { skip: POSTGRES_SKIP }, async () => {
    const s = scratch();
    const db = await freshDatabase();
    try {
      await reloadDuringTheStartsCheck(testConfig({ dataDir: s.dir, identities: s.path, port: 0, loginFailures: 0, store: db.url, rootKey: ROOT_KEY }), s, 80);
    } finally {
      await db.drop();
      s.done();
    }
  });

  test('PostgreSQL, the real binary: kill -HUP as soon as it serves (its 80 checks under way): the reloaded file is in force for every user', { skip: POSTGRES_SKIP }, async () => {
    const s = scratch();
    const db = await freshDatabase();
    const passwords = (tag: string) => Array.from({ length: 80 }, (_, i) => `${tag} ${i}`);
    try {
      s.write(passwords('A'));
      await serveOnce(testConfig({ dataDir: s.dir, identities: s.path, port: 0, store: db.url, rootKey: ROOT_KEY }));
      s.write(passwords('B'));
      const node = spawnNode(db.url, s.path, s.dir);
      try {
        const url = await node.serving;
        s.write(passwords('C'));
        node.child.kill('SIGHUP');
        await node.printed('kmsd: identities reloaded');
        // A user for whom an older file won would refuse C's password.
        for (let i = 0; i < 80; i += 2) {
          assert.deepEqual(await Promise.all([login(url, `user${i}`, `C ${i}`), login(url, `user${i + 1}`, `C ${i + 1}`)]), [201, 201], `user${i}, user${i + 1}`);
        }
        for (const i of [0, 41, 79]) assert.equal(await login(url, `user${i}`, `B ${i}`), 401);
      } finally {
        await node.stop();
      }
    } finally {
      await db.drop();
      s.done();
    }
  });

  test('PostgreSQL: the store away during the start\'s apply: password logins wait and get 503, never the replaced password; in force once the store is back', { skip: POSTGRES_SKIP }, async () => {
    const s = scratch();
    const db = await freshDatabase();
    const direct = new URL(db.url);
    const proxy = await startBlackholeProxy(Number(direct.port));
    const viaProxy = new URL(db.url);
    viaProxy.port = String(proxy.port);
    let hold: ReturnType<typeof holdScrypt> | null = null;
    try {
      const config = testConfig({ dataDir: s.dir, identities: s.path, port: 0, loginFailures: 0, store: viaProxy.toString(), rootKey: ROOT_KEY, requestTimeout: 1500, headerTimeout: 1000 });
      s.write(['old pw']);
      await serveOnce(config);
      s.write(['new pw']);
      hold = holdScrypt(['new pw']);
      const server = await startServer(config, { logger: false });
      try {
        proxy.pause();
        hold.release();
        // The apply's transaction cannot finish; the node keeps trying. A login waits its deadline, then 503.
        const answer = await passwordLogin(server.url, 'user0', 'old pw');
        assert.equal(answer.status, 503);
        assert.deepEqual(JSON.parse(answer.body), UNAVAILABLE);
        const nobody = await passwordLogin(server.url, 'nobody', 'old pw');
        assert.deepEqual([nobody.status, JSON.parse(nobody.body)], [503, UNAVAILABLE]);
        proxy.resume();
        // The next try (within a second or so) puts the file in force; logins waiting meanwhile get its answer.
        let status = 503;
        for (let i = 0; i < 20 && status === 503; i++) status = await login(server.url, 'user0', 'new pw');
        assert.equal(status, 201);
        assert.equal(await login(server.url, 'user0', 'old pw'), 401);
      } finally {
        proxy.resume();
        await server.close();
      }
    } finally {
      hold?.restore();
      await proxy.close();
      await db.drop();
      s.done();
    }
  });

  test('PostgreSQL, two nodes: a node killed as soon as it serves leaves a user its file re-enables or gives other policies with no usable password on the other node (never the old one); once a node applies the file, the new one', { skip: POSTGRES_SKIP }, async () => {
    const s = scratch();
    const db = await freshDatabase();
    const fillers = (tag: string) => Array.from({ length: 40 }, (_, i) => ({ name: `filler${i}`, password: `${tag} filler ${i}` }));
    const v1 = [{ name: 'user0', password: 'admin pw' }, { name: 'user1', password: 'pwC-1' }, { name: 'user2', password: 'pwOLD-2' }, ...fillers('old')];
    // v2 drops user1 (disabled: its password is refused); v3 (node A's) lists it again with a new
    // password, and gives user2 a new password and the administrator's policy. The 40 fillers'
    // new passwords keep A's check (after it listens) busy for a second or more.
    const v2 = v1.filter((u) => u.name !== 'user1');
    const v3 = [{ name: 'user0', password: 'admin pw' }, { name: 'user1', password: 'pwNEW-1' }, { name: 'user2', password: 'pwR-2', policies: ['*:*:*'] }, ...fillers('new')];
    const write = (path: string, users: unknown[]) => writeFileSync(path, JSON.stringify({ accounts: [{ name: 'acme', users }] }));
    const aDir = mkdtempSync(join(tmpdir(), 'kmsd-declared-a-'));
    const aIds = join(aDir, 'ids.json');
    try {
      const config = testConfig({ dataDir: s.dir, identities: s.path, port: 0, loginFailures: 0, store: db.url, rootKey: ROOT_KEY });
      write(s.path, v1);
      const b = await startServer(config, { logger: false });
      try {
        await b.identitiesSettled();
        write(s.path, v2);
        await b.reloadIdentities();
        assert.equal(await login(b.url, 'user1', 'pwC-1'), 401);
        assert.equal(await login(b.url, 'user2', 'pwOLD-2'), 201);
        // Node A starts with v3 and is killed as soon as it serves: its pre-listen transaction
        // (user1 enabled, user2's policies) is in, its passwords are not.
        write(aIds, v3);
        const a = spawnNode(db.url, aIds, aDir);
        await a.serving;
        a.child.kill('SIGKILL');
        await a.exited;
        for (const [user, password] of [['user1', 'pwC-1'], ['user1', 'pwNEW-1'], ['user2', 'pwOLD-2'], ['user2', 'pwR-2']]) {
          const answer = await passwordLogin(b.url, user, password);
          assert.deepEqual([answer.status, JSON.parse(answer.body)], [401, WRONG], `${user} ${password} on node B`);
        }
        // Users whose rows did not change keep their password (the old state, as before node A started).
        assert.equal(await login(b.url, 'user0', 'admin pw'), 201);
        assert.equal(await login(b.url, 'filler7', 'old filler 7'), 201);
        // Node A again, its apply completed: node B accepts the new passwords, and only them.
        const again = await startServer(testConfig({ dataDir: aDir, identities: aIds, port: 0, store: db.url, rootKey: ROOT_KEY }), { logger: false });
        await again.identitiesSettled();
        await again.close();
        assert.equal(await login(b.url, 'user1', 'pwNEW-1'), 201);
        assert.equal(await login(b.url, 'user2', 'pwR-2'), 201);
        assert.equal(await login(b.url, 'filler7', 'new filler 7'), 201);
        assert.equal(await login(b.url, 'user1', 'pwC-1'), 401);
        assert.equal(await login(b.url, 'user2', 'pwOLD-2'), 401);
      } finally {
        await b.close();
      }
    } finally {
      rmSync(aDir, { recursive: true, force: true });
      await db.drop();
      s.done();
    }
  });

  test('PostgreSQL, two nodes: a node killed as soon as it serves leaves every user a grant its seed created widens (user grantee, each user of a domain grantee, retiring principal), and every user of the account of a key it created, with no usable password on the other node; once a node applies the file, the new ones', { skip: POSTGRES_SKIP }, async () => {
    const s = scratch();
    const db = await freshDatabase();
    const fillers = (tag: string) => Array.from({ length: 40 }, (_, i) => ({ name: `filler${i}`, password: `${tag} filler ${i}` }));
    const KEY = '3060aa64-d032-4edb-9bdb-58f569a2057a';
    // v1: no grant. v3 (node A's) rotates user2's, user4's and g1's leaked passwords (their
    // policies and enabled state unchanged) and seeds a grant to acme/user2 retired by
    // acme/user4, and one to the whole globex account (g0 keeps its password), on a key it
    // creates in the account "owner" (o0 keeps its password: the new key is new to it).
    const accounts = (tag: 'old' | 'new') => [
      { name: 'acme', users: [{ name: 'user0', password: 'admin pw' }, { name: 'user2', password: `pw-${tag}-2` }, { name: 'user4', password: `pw-${tag}-4` }, ...fillers(tag)] },
      { name: 'globex', users: [{ name: 'g0', password: 'g admin' }, { name: 'g1', password: `pw-${tag}-g1` }] },
      { name: 'owner', users: [{ name: 'o0', password: 'o admin' }] },
    ];
    const v3 = {
      accounts: accounts('new'),
      keys: [{ account: 'owner', key_id: KEY, alias: 'fixture-orders' }],
      grants: [
        { key_id: KEY, name: 'user2-decrypts', grantee: 'acme/user2', operations: ['decrypt-data', 'describe-key'], retiring: 'acme/user4' },
        { key_id: KEY, name: 'globex-describes', grantee_type: 'domain', grantee: 'globex', operations: ['describe-key'] },
      ],
    };
    const globexLogin = (url: string, name: string, password: string, domain = 'globex') =>
      post(url, { methods: ['password'], password: { user: { name, password, domain: { name: domain } } } });
    const aDir = mkdtempSync(join(tmpdir(), 'kmsd-declared-a-'));
    const aIds = join(aDir, 'ids.json');
    try {
      const config = testConfig({ dataDir: s.dir, identities: s.path, port: 0, loginFailures: 0, store: db.url, rootKey: ROOT_KEY });
      writeFileSync(s.path, JSON.stringify({ accounts: accounts('old') }));
      const b = await startServer(config, { logger: false });
      try {
        await b.identitiesSettled();
        assert.equal(await login(b.url, 'user2', 'pw-old-2'), 201);
        assert.equal((await globexLogin(b.url, 'g1', 'pw-old-g1')).status, 201);
        writeFileSync(aIds, JSON.stringify(v3));
        const a = spawnNode(db.url, aIds, aDir);
        await a.serving;
        a.child.kill('SIGKILL');
        await a.exited;
        const refused = [
          await passwordLogin(b.url, 'user2', 'pw-old-2'), await passwordLogin(b.url, 'user2', 'pw-new-2'),
          await passwordLogin(b.url, 'user4', 'pw-old-4'), await passwordLogin(b.url, 'user4', 'pw-new-4'),
          await globexLogin(b.url, 'g1', 'pw-old-g1'), await globexLogin(b.url, 'g0', 'g admin'),
          await globexLogin(b.url, 'o0', 'o admin', 'owner'),
        ];
        assert.deepEqual(refused.map((r) => [r.status, JSON.parse(r.body)]), refused.map(() => [401, WRONG]));
        // Users no seeded grant names keep their password (the old state, as before node A started).
        assert.equal(await login(b.url, 'user0', 'admin pw'), 201);
        assert.equal(await login(b.url, 'filler7', 'old filler 7'), 201);
        // Node A again (the grants exist now), its apply completed: node B accepts the new passwords, and only them.
        const again = await startServer(testConfig({ dataDir: aDir, identities: aIds, port: 0, store: db.url, rootKey: ROOT_KEY }), { logger: false });
        await again.identitiesSettled();
        await again.close();
        assert.equal(await login(b.url, 'user2', 'pw-new-2'), 201);
        assert.equal(await login(b.url, 'user4', 'pw-new-4'), 201);
        assert.equal((await globexLogin(b.url, 'g1', 'pw-new-g1')).status, 201);
        assert.equal((await globexLogin(b.url, 'g0', 'g admin')).status, 201);
        assert.equal((await globexLogin(b.url, 'o0', 'o admin', 'owner')).status, 201);
        assert.equal(await login(b.url, 'user2', 'pw-old-2'), 401);
        assert.equal((await globexLogin(b.url, 'g1', 'pw-old-g1')).status, 401);
      } finally {
        await b.close();
      }
    } finally {
      rmSync(aDir, { recursive: true, force: true });
      await db.drop();
      s.done();
    }
  });

  test('PostgreSQL: while the store refuses the apply\'s write, its tries again reuse the passwords checked: no scrypt is redone', { skip: POSTGRES_SKIP }, async () => {
    const s = scratch();
    const db = await freshDatabase();
    const dbName = new URL(db.url).pathname.slice(1);
    let hold: ReturnType<typeof holdScrypt> | null = null;
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const config = testConfig({ dataDir: s.dir, identities: s.path, port: 0, loginFailures: 0, store: db.url, rootKey: ROOT_KEY, requestTimeout: 1500, headerTimeout: 1000 });
      s.write(['old pw']);
      await serveOnce(config);
      s.write(['new pw']);
      hold = holdScrypt(['new pw']);
      const server = await startServer(config, { logger: false });
      try {
        // The check has read the stored hash and is held; the database now refuses every write.
        while (hold.held() < 1) await new Promise((r) => setTimeout(r, 20));
        await admin.query(`ALTER DATABASE "${dbName}" SET default_transaction_read_only = on`);
        await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name <> 'kmsd-node-lock'", [dbName]);
        hold.release();
        // Its new password: one check against the stored hash, one new hash.
        while (hold.calls() < 2) await new Promise((r) => setTimeout(r, 20));
        // Three tries again (one a second) while the writes are refused.
        await new Promise((r) => setTimeout(r, 3 * DECISIONS.declaredPasswordsAfterListen.retryMs + 500));
        assert.equal(hold.calls(), 2, 'tries again redid no scrypt');
        assert.equal((await passwordLogin(server.url, 'user0', 'old pw')).status, 503);
        await admin.query(`ALTER DATABASE "${dbName}" RESET default_transaction_read_only`);
        await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name <> 'kmsd-node-lock'", [dbName]);
        await server.identitiesSettled();
        assert.equal(await login(server.url, 'user0', 'new pw'), 201);
        assert.equal(await login(server.url, 'user0', 'old pw'), 401);
      } finally {
        hold.release();
        await admin.query(`ALTER DATABASE "${dbName}" RESET default_transaction_read_only`).catch(() => undefined);
        await server.close();
      }
    } finally {
      hold?.restore();
      await admin.end();
      await db.drop();
      s.done();
    }
  });

  test('PostgreSQL: a fresh data directory\'s development account, its apply refused by the store: its tries again reuse the new hashes (no scrypt redone)', { skip: POSTGRES_SKIP }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-dev-retry-'));
    const db = await freshDatabase();
    const dbName = new URL(db.url).pathname.slice(1);
    // Every scrypt held (the development passwords are generated by the start itself).
    const real = crypto.scrypt;
    const waiting: Array<() => void> = [];
    let holding = true;
    let calls = 0;
    crypto.scrypt = ((...args: unknown[]) => {
      calls++;
      const run = () => (real as (...a: unknown[]) => void)(...args);
      if (holding) waiting.push(run);
      else run();
    }) as typeof real;
    syncBuiltinESMExports();
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    const endSessions = () => admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name <> 'kmsd-node-lock'", [dbName]);
    try {
      const config = testConfig({ dataDir: dir, identities: null, port: 0, loginFailures: 0, store: db.url, rootKey: ROOT_KEY, requestTimeout: 1500, headerTimeout: 1000 });
      const server = await startServer(config, { logger: false });
      try {
        // admin's and app's new passwords are being hashed; the database now refuses every write.
        while (waiting.length < 2) await new Promise((r) => setTimeout(r, 20));
        await admin.query(`ALTER DATABASE "${dbName}" SET default_transaction_read_only = on`);
        await endSessions();
        holding = false;
        for (const run of waiting.splice(0)) run();
        // Three tries again (one a second) while the writes are refused.
        await new Promise((r) => setTimeout(r, 3 * DECISIONS.declaredPasswordsAfterListen.retryMs + 500));
        assert.equal(calls, 2, 'tries again redid no scrypt');
        await admin.query(`ALTER DATABASE "${dbName}" RESET default_transaction_read_only`);
        await endSessions();
        await server.identitiesSettled();
        assert.equal(calls, 2);
      } finally {
        holding = false;
        for (const run of waiting.splice(0)) run();
        await admin.query(`ALTER DATABASE "${dbName}" RESET default_transaction_read_only`).catch(() => undefined);
        await server.close();
      }
    } finally {
      crypto.scrypt = real;
      syncBuiltinESMExports();
      await admin.end();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('PostgreSQL: a node killed during its check leaves nothing that makes another node\'s logins wait or tells who exists', { skip: POSTGRES_SKIP }, async () => {
    const s = scratch();
    const db = await freshDatabase();
    const users = 80;
    const oldPasswords = Array.from({ length: users }, (_, i) => `old ${i}`);
    const newPasswords = Array.from({ length: users }, (_, i) => `new ${i}`);
    try {
      const config = testConfig({ dataDir: s.dir, identities: s.path, port: 0, loginFailures: 0, store: db.url, rootKey: ROOT_KEY });
      s.write(oldPasswords);
      const other = await startServer(config, { logger: false });
      try {
        assert.equal(await login(other.url, 'user0', 'old 0'), 201);
        const settingsBefore = await settingNames(db.url);
        // A second node (the real binary, its own process) starts with new passwords for all 80
        // users (~2 s of scrypt after it listens) and is killed as soon as it serves.
        const killedDir = mkdtempSync(join(tmpdir(), 'kmsd-declared-killed-'));
        const killedIds = join(killedDir, 'ids.json');
        writeFileSync(killedIds, JSON.stringify(file(newPasswords)));
        const killed = spawnNode(db.url, killedIds, killedDir);
        await killed.serving;
        killed.child.kill('SIGKILL');
        await killed.exited;
        rmSync(killedDir, { recursive: true, force: true });
        // Nothing was marked, nothing of its passwords committed: the other node answers at once, as before.
        assert.deepEqual(await settingNames(db.url), settingsBefore);
        const started = performance.now();
        assert.equal(await login(other.url, 'user5', 'old 5'), 201);
        assert.equal(await login(other.url, 'user5', 'new 5'), 401, 'the killed node\'s check had not committed');
        const nobody = await passwordLogin(other.url, 'nobody', 'old 5');
        assert.deepEqual([nobody.status, JSON.parse(nobody.body)], [401, WRONG]);
        assert.ok(performance.now() - started < 5000, 'no login waited for the killed node');
      } finally {
        await other.close();
      }
      // And the next start of a node with the new file puts it in force.
      s.write(newPasswords);
      const next = await startServer(config, { logger: false });
      try {
        assert.equal(await login(next.url, 'user5', 'new 5'), 201);
        assert.equal(await login(next.url, 'user5', 'old 5'), 401);
      } finally {
        await next.close();
      }
    } finally {
      await db.drop();
      s.done();
    }
  });
});

/**
 * File A stored; a start with file B whose check is held; a SIGHUP with file C meanwhile;
 * logins with B's and C's passwords sent during the window. Once released: C in force for every user.
 */
async function reloadDuringTheStartsCheck(config: Config, s: ReturnType<typeof scratch>, users: number): Promise<void> {
  const passwords = (tag: string) => Array.from({ length: users }, (_, i) => `${tag} ${i}`);
  let hold: ReturnType<typeof holdScrypt> | null = null;
  try {
    s.write(passwords('A'));
    await serveOnce(config);
    s.write(passwords('B'));
    hold = holdScrypt(['B 0']);
    const server = await startServer(config, { logger: false });
    try {
      const duringB = login(server.url, 'user1', 'B 1');
      const duringC = login(server.url, 'user1', 'C 1');
      s.write(passwords('C'));
      const reloaded = server.reloadIdentities();
      assert.equal(await pending(reloaded), true, 'the reload waits for the start\'s apply');
      assert.equal(await pending(duringB), true);
      hold.release();
      assert.deepEqual(await reloaded, []);
      assert.equal(await duringB, 401);
      assert.equal(await duringC, 201);
      // A user for whom an older file won would refuse C's password.
      for (let i = 0; i < users; i += 2) {
        assert.deepEqual(
          await Promise.all([login(server.url, `user${i}`, `C ${i}`), login(server.url, `user${i + 1}`, `C ${i + 1}`)]),
          [201, 201], `user${i}, user${i + 1}`,
        );
      }
      for (const i of [0, users / 2 + 1, users - 1]) assert.equal(await login(server.url, `user${i}`, `B ${i}`), 401);
    } finally {
      hold.release();
      await server.close();
    }
  } finally {
    hold?.restore();
  }
}

/** `kmsd serve` (the real binary, one loop) on a PostgreSQL store; `serving` resolves with its URL once it prints its banner. */
function spawnNode(store: string, identities: string, dataDir: string) {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: { ...process.env, KMSD_PORT: '0', KMSD_STORE: store, KMSD_IDENTITIES: identities, KMSD_ROOT_KEY: ROOT_KEY, KMSD_DATA_DIR: dataDir, KMSD_LOG_LEVEL: 'warn', KMSD_WORKERS: '1', KMSD_LOGIN_FAILURES: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const seen: Array<{ text: string; resolve: () => void }> = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const onData = (d: Buffer) => {
    out += d;
    for (const w of seen) if (out.includes(w.text)) w.resolve();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const printed = (text: string): Promise<void> => new Promise<void>((resolve, reject) => {
    seen.push({ text, resolve });
    onData(Buffer.alloc(0));
    void exited.then(() => reject(new Error(`kmsd exited before printing "${text}": ${out}`)));
  });
  return {
    child,
    exited,
    serving: printed('serving the Huawei Cloud KMS').then(() => (/API at (http:\/\/\S+)/.exec(out) as RegExpExecArray)[1]),
    printed,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Every setting's name in the database (what a node could leave behind). */
async function settingNames(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query('SELECT name FROM settings ORDER BY name')).rows.map((r) => r.name as string);
  } finally {
    await client.end();
  }
}

