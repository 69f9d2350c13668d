import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { testConfig } from '../src/config.ts';
import { IdentitiesError, parseIdentities } from '../src/identities.ts';
import { StartError } from '../src/root-key.ts';
import { describeServing } from '../src/cli/serve.ts';
import { startServer } from '../src/server.ts';
import { signedHeaders } from './support/sdk-signer.ts';
import { Client, startWorld, worldIdentities } from './harness.ts';

const valid = () => ({ accounts: [{ name: 'acme', users: [{ name: 'admin', password: 'pw', access_keys: [{ ak: 'AK1', sk: 'SK1' }], policies: ['*:*:*'] }] }] });

describe('the identities file', () => {
  const BAD: Array<[string, (f: any) => void, string]> = [
    ['no accounts', (f) => (f.accounts = []), 'accounts: must be a non-empty array'],
    ['a bad account name', (f) => (f.accounts[0].name = 'a b'), 'accounts[0].name: must be 1-64 letters, digits, _ . -'],
    ['a short account id', (f) => (f.accounts[0].id = 'abc'), 'accounts[0].id: must be 32 lower-case hex characters'],
    ['no users', (f) => (f.accounts[0].users = []), 'accounts[0].users: must be a non-empty array'],
    ['an empty password', (f) => (f.accounts[0].users[0].password = ''), 'accounts[0].users[0].password: must be a string of 1-256 characters'],
    ['an AK with a dash', (f) => (f.accounts[0].users[0].access_keys[0].ak = 'A-K'), 'accounts[0].users[0].access_keys[0].ak: must be 1-128 letters and digits'],
    ['a missing SK', (f) => delete f.accounts[0].users[0].access_keys[0].sk, 'accounts[0].users[0].access_keys[0].sk: must be a string of 1-256 characters'],
    ['a malformed policy', (f) => (f.accounts[0].users[0].policies = ['kms:everything']), 'accounts[0].users[0].policies[0]: must be an action pattern such as "kms:cmk:*" or a system role name'],
    ['a user twice', (f) => f.accounts[0].users.push({ name: 'admin' }), 'accounts[0].users[1].name: "admin" is declared twice'],
    ['an AK twice', (f) => f.accounts[0].users.push({ name: 'u2', access_keys: [{ ak: 'AK1', sk: 'x' }] }), 'accounts[0].users[1].access_keys[0].ak: "AK1" is declared twice'],
  ];
  for (const [what, change, message] of BAD) {
    test(`${what} is refused with a message naming the entry`, () => {
      const file = valid();
      change(file);
      assert.throws(() => parseIdentities(file), (e: Error) => e instanceof IdentitiesError && e.message === message);
    });
  }

  test('a malformed file stops the start, naming the bad entry, before the store is touched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-ids-'));
    try {
      const file = valid();
      file.accounts[0].users[0].policies = ['nope'];
      writeFileSync(join(dir, 'ids.json'), JSON.stringify(file));
      const config = testConfig({ dataDir: dir, identities: join(dir, 'ids.json'), port: 0 });
      await assert.rejects(startServer(config, { logger: false }), (e: Error) =>
        e instanceof StartError && e.message === `identities file ${join(dir, 'ids.json')}: accounts[0].users[0].policies[0]: must be an action pattern such as "kms:cmk:*" or a system role name`);
      writeFileSync(join(dir, 'ids.json'), '{"accounts": [');
      await assert.rejects(startServer(config, { logger: false }), /not valid JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('applying the same file again on restart changes nothing: same ids, tokens still valid', async () => {
    const world = await startWorld();
    const dir = world.dataDir;
    const token = await world.as('alice').getToken();
    const snapshot = () => world.server.store.read(async (tx) => {
      const acme = await tx.findAccountByName('acme');
      const alice = await tx.findUser(acme!.id, 'alice');
      return { acme, alice, keys: await tx.accessKeysOfUser(alice!.id).then((ks) => ks.map((k) => k.ak)), projects: await tx.projectsOfAccount(acme!.id) };
    });
    const before = await snapshot();
    const identities = join(dir, 'identities.json');
    await world.server.close();
    const again = await startServer(testConfig({ dataDir: dir, identities, port: 0 }), { clock: world.clock, logger: false });
    try {
      const after = await again.store.read(async (tx) => {
        const acme = await tx.findAccountByName('acme');
        const alice = await tx.findUser(acme!.id, 'alice');
        return { acme, alice, keys: await tx.accessKeysOfUser(alice!.id).then((ks) => ks.map((k) => k.ak)), projects: await tx.projectsOfAccount(acme!.id) };
      });
      assert.deepEqual(after, before);
      const r = await fetch(`${again.url}/v1.0/${world.users.alice.projectId}/kms/list-keys`, { method: 'POST', headers: { 'X-Auth-Token': token }, body: '{}' });
      assert.equal(r.status, 200);
    } finally {
      await again.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Counts scrypt calls: passwords.ts imports scrypt by name, which syncBuiltinESMExports re-binds.
  /** Counts scrypt's calls, and the most under way at once; `held`: each one answers only once it resolves. */
  async function countingScrypt(held?: Promise<void>): Promise<{ count(): number; mostAtOnce(): number; resetMost(): void; restore(): void }> {
    const crypto = (await import('node:crypto')).default;
    const { syncBuiltinESMExports } = await import('node:module');
    const original = crypto.scrypt;
    let calls = 0;
    let underWay = 0;
    let most = 0;
    crypto.scrypt = ((...args: unknown[]) => {
      calls++;
      most = Math.max(most, ++underWay);
      const answer = args.at(-1) as (...result: unknown[]) => void;
      args[args.length - 1] = (...result: unknown[]) => {
        underWay--;
        if (held) void held.then(() => answer(...result));
        else answer(...result);
      };
      return (original as (...a: unknown[]) => void)(...args);
    }) as typeof original;
    syncBuiltinESMExports();
    return {
      count: () => calls,
      mostAtOnce: () => most,
      resetMost: () => { most = 0; },
      restore() {
        crypto.scrypt = original;
        syncBuiltinESMExports();
      },
    };
  }

  /** Rejects after `ms` (a start that waits for scrypt held back never resolves). */
  const within = <T>(ms: number, what: string, work: Promise<T>): Promise<T> =>
    Promise.race([work, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms).unref())]);

  const login = async (url: string, account: string, password: string) => (await fetch(`${url}/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'admin', password, domain: { name: account } } } }, scope: { project: { name: 'cn-north-4' } } } }),
  })).status;

  test('a declared file: every start checks each password with scrypt, and nothing faster that could confirm it is stored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-ids-'));
    const path = join(dir, 'ids.json');
    const scrypt = await countingScrypt();
    try {
      writeFileSync(path, JSON.stringify(valid()));
      const start = () => startServer(testConfig({ dataDir: dir, identities: path, port: 0 }), { logger: false });
      // The check runs after the node listens, and a node stopped stops it at once: these wait for it.
      const serveUntilInForce = async () => {
        const server = await start();
        await server.identitiesSettled();
        await server.close();
      };
      await serveUntilInForce();
      assert.equal(scrypt.count(), 1, 'a new user: its password is hashed');
      await serveUntilInForce();
      assert.equal(scrypt.count(), 2, 'the same file again: the password is checked against the stored hash');
      const { DatabaseSync } = await import('node:sqlite');
      const db = new DatabaseSync(join(dir, 'kmsd.db'), { readOnly: true });
      try {
        assert.deepEqual(db.prepare("SELECT name FROM settings WHERE name LIKE 'password-checked:%'").all(), []);
      } finally {
        db.close();
      }
      const file = valid();
      file.accounts[0].users[0].password = 'new password';
      writeFileSync(path, JSON.stringify(file));
      const third = await start();
      try {
        // The start's check runs after it listens; a password login waits for it (declared-passwords.test.ts).
        assert.equal(await login(third.url, 'acme', 'pw'), 401);
        assert.equal(await login(third.url, 'acme', 'new password'), 201);
        assert.equal(scrypt.count(), 6, 'a changed password: checked against the stored hash, then hashed anew; then the two logins');
      } finally {
        await third.close();
      }
    } finally {
      scrypt.restore();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a fresh data directory serves before its development passwords are hashed (both at once); a password login waits for them, AK/SK does not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-dev-fresh-'));
    const hashing = Promise.withResolvers<void>();
    const scrypt = await countingScrypt(hashing.promise);
    const config = testConfig({ dataDir: dir, identities: null, port: 0 });
    try {
      const server = await within(10_000, 'the start', startServer(config, { logger: false }));
      try {
        const admin = JSON.parse(readFileSync(join(dir, 'dev-identities.json'), 'utf8')).accounts[0].users[0];
        const projectId = (await describeServing(server, config)).accounts[0].project_id;
        const path = `/v1.0/${projectId}/kms/list-keys`;
        const body = '{}';
        const signed = signedHeaders(server.url, 'POST', path, { ak: admin.access_keys[0].ak, sk: admin.access_keys[0].sk, projectId }, { 'Content-Type': 'application/json' }, body);
        assert.equal((await fetch(`${server.url}${path}`, { method: 'POST', headers: signed, body })).status, 200, 'AK/SK served while scrypt is held');
        let answered = false;
        const loggingIn = login(server.url, 'dev', admin.password).then((status) => ((answered = true), status));
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(answered, false, 'the login waits for the passwords');
        assert.equal(scrypt.count(), 2);
        assert.equal(scrypt.mostAtOnce(), 2, 'admin\'s and app\'s hashes under way together');
        hashing.resolve();
        assert.equal(await loggingIn, 201);
        assert.equal(await login(server.url, 'dev', `${admin.password}x`), 401);
      } finally {
        await server.close();
      }
    } finally {
      hashing.resolve();
      scrypt.restore();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a fresh development start stopped before its passwords were stored: the next start hashes them before it serves; changed ones are checked two at a time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-dev-stopped-'));
    const hashing = Promise.withResolvers<void>();
    const held = await countingScrypt(hashing.promise);
    const config = testConfig({ dataDir: dir, identities: null, port: 0 });
    const devFile = join(dir, 'dev-identities.json');
    try {
      await (await within(10_000, 'the first start', startServer(config, { logger: false }))).close();
    } finally {
      hashing.resolve();
      held.restore();
    }
    const scrypt = await countingScrypt();
    const admin = JSON.parse(readFileSync(devFile, 'utf8')).accounts[0].users[0];
    try {
      const second = await startServer(config, { logger: false });
      try {
        assert.equal(scrypt.count(), 2, 'both new passwords hashed before it served');
        assert.equal(await login(second.url, 'dev', admin.password), 201);
      } finally {
        await second.close();
      }
      // Both passwords edited by hand: each is checked against its stored hash and hashed anew
      // before the transaction, two users at a time.
      const dev = JSON.parse(readFileSync(devFile, 'utf8'));
      for (const user of dev.accounts[0].users) user.password = `edited ${user.name}`;
      writeFileSync(devFile, JSON.stringify(dev));
      scrypt.resetMost();
      const third = await startServer(config, { logger: false });
      try {
        assert.equal(scrypt.count(), 3 + 4, 'the login\'s check, then a check and a hash for each edited password');
        assert.equal(scrypt.mostAtOnce(), 2);
        assert.equal(await login(third.url, 'dev', 'edited admin'), 201);
        assert.equal(await login(third.url, 'dev', admin.password), 401);
      } finally {
        await third.close();
      }
    } finally {
      scrypt.restore();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the development account (its password is in clear beside the database): a match is remembered, a restart runs no scrypt', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-dev-'));
    const scrypt = await countingScrypt();
    try {
      const start = () => startServer(testConfig({ dataDir: dir, identities: null, port: 0 }), { logger: false });
      const first = await start();
      // A fresh data directory's development passwords are hashed after kmsd listens.
      await first.identitiesSettled();
      await first.close();
      assert.equal(scrypt.count(), 2, 'the new development users (admin, app): their passwords are hashed');
      const second = await start();
      await second.close();
      assert.equal(scrypt.count(), 2, 'an unchanged development account: no scrypt');
      const devFile = join(dir, 'dev-identities.json');
      const dev = JSON.parse(readFileSync(devFile, 'utf8'));
      dev.accounts[0].users[0].password = 'edited by hand';
      writeFileSync(devFile, JSON.stringify(dev));
      const third = await start();
      try {
        assert.equal(scrypt.count(), 4, 'an edited password: checked against the stored hash, then hashed anew');
        assert.equal(await login(third.url, 'dev', 'edited by hand'), 201);
      } finally {
        await third.close();
      }
      const remembered = async () => {
        const { DatabaseSync } = await import('node:sqlite');
        const db = new DatabaseSync(join(dir, 'kmsd.db'), { readOnly: true });
        try {
          return db.prepare("SELECT count(*) AS n FROM settings WHERE name LIKE 'password-checked:%'").get()?.n;
        } finally {
          db.close();
        }
      };
      assert.ok(Number(await remembered()) > 0);
      // The same directory given a declared file (a copy of the development one): no record stays.
      const declared = join(dir, 'declared.json');
      writeFileSync(declared, JSON.stringify(dev));
      await (await startServer(testConfig({ dataDir: dir, identities: declared, port: 0 }), { logger: false })).close();
      assert.equal(await remembered(), 0);
    } finally {
      scrypt.restore();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an access key removed from the file stops working at the next start', async () => {
    const world = await startWorld();
    const dir = world.dataDir;
    const gus = world.users.gus;
    assert.equal((await world.as('gus', 'aksk').kms('list-retirable-grants', {})).status, 403);
    await world.server.close();
    const path = join(dir, 'identities.json');
    const file = JSON.parse(readFileSync(path, 'utf8'));
    for (const account of file.accounts) for (const user of account.users) if (user.name === 'gus') user.access_keys = [];
    writeFileSync(path, JSON.stringify(file));
    const again = await startServer(testConfig({ dataDir: dir, identities: path, port: 0 }), { clock: world.clock, logger: false });
    try {
      const client = new Client({ ...world, url: again.url }, gus, 'aksk');
      const r = await client.kms('list-retirable-grants', {});
      assert.equal(r.status, 401);
      assert.equal(r.body.error_msg, 'Incorrect IAM authentication information: Get secretKey failed,ak:******,err:ak not exist');
    } finally {
      await again.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the root key', () => {
  test('starting with another root key fails with a clear message and changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-root-'));
    try {
      const { path } = worldIdentities(dir);
      const first = await startServer(testConfig({ dataDir: dir, identities: path, port: 0 }), { logger: false });
      await first.close();
      const db = readFileSync(join(dir, 'kmsd.db'));
      const other = randomBytes(32).toString('base64');
      await assert.rejects(
        startServer(testConfig({ dataDir: dir, identities: path, port: 0, rootKey: other }), { logger: false }),
        (e: Error) => e instanceof StartError && e.message === 'the root key does not match the one this store was created with; refusing to start (nothing was changed)',
      );
      assert.deepEqual(readFileSync(join(dir, 'kmsd.db')), db);
      await assert.rejects(startServer(testConfig({ dataDir: dir, port: 0, rootKey: 'short' }), { logger: false }), /KMSD_ROOT_KEY must hold 32 bytes in base64/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a development start generates the root key file with mode 0600', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-dev-'));
    try {
      const server = await startServer(testConfig({ dataDir: dir, port: 0 }), { logger: false });
      await server.close();
      const { statSync } = await import('node:fs');
      assert.equal(statSync(join(dir, 'root.key')).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, 'dev-identities.json')).mode & 0o777, 0o600);
      assert.equal(Buffer.from(readFileSync(join(dir, 'root.key'), 'utf8').trim(), 'base64').length, 32);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
