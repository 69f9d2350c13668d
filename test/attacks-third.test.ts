import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto, { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testConfig } from '../src/config.ts';
import { startServer } from '../src/server.ts';
import { lockDataDir } from '../src/store/data-dir-lock.ts';
import { syncBuiltinESMExports } from 'node:module';
import { ManualClock } from '../src/core/runtime.ts';
import { ERR, hex, newGrant, newKey, raw, startWorld, type TestUser, type World } from './harness.ts';
import { runKmsd } from './support/run-kmsd.ts';
import { fromAddress } from './support/from-address.ts';

/** Issue #20: the third attack, each finding replayed. */

let world: World;
const clock = new ManualClock(Date.now());
before(async () => {
  world = await startWorld({ clock, config: { loginFailures: 10, workers: 1 } });
});
after(() => world.close());

const json = { 'content-type': 'application/json' };
const DENIED = ERR('KMS.0306', 'No access permissions.');

type Doc = { Version: string; Statement: unknown[] };
const doc = (...Statement: unknown[]): Doc => ({ Version: '5.0', Statement });
const SECRET = { Condition: { StringEquals: { 'g:ResourceTag/secret': ['yes'] } } };

/** Adds a fresh user of acme (or globex) holding these policies to the identities file, applied as SIGHUP applies it. */
async function userWith(policies: Array<string | Doc>, account = 'acme'): Promise<TestUser> {
  const path = join(world.dataDir, 'identities.json');
  const file = JSON.parse(readFileSync(path, 'utf8'));
  const entry = file.accounts.find((a: { name: string }) => a.name === account);
  const user: TestUser = {
    name: `u${hex(4)}`, id: hex(16), account, accountId: entry.id, projectId: entry.project_id,
    password: '', ak: `AKU${hex(6).toUpperCase()}`, sk: hex(20),
  };
  entry.users.push({ name: user.name, id: user.id, access_keys: [{ ak: user.ak, sk: user.sk }], policies });
  writeFileSync(path, JSON.stringify(file));
  await world.server.reloadIdentities();
  world.users[user.name] = user;
  return user;
}
const TOO_MANY = { error: { code: 429, title: 'Too Many Requests', message: 'The number of failed login attempts has reached the limit. Try again later.' } };

/** Counts the scrypt computations (password checks) node:crypto runs while `work` runs. */
async function countingScrypt<T>(work: () => Promise<T>): Promise<{ result: T; checks: number }> {
  const real = crypto.scrypt;
  let checks = 0;
  crypto.scrypt = ((...args: Parameters<typeof real>) => {
    checks++;
    return (real as (...a: unknown[]) => void)(...args);
  }) as typeof real;
  syncBuiltinESMExports();
  try {
    return { result: await work(), checks };
  } finally {
    crypto.scrypt = real;
    syncBuiltinESMExports();
  }
}

/** The ways one user can be named in a password login: by name in its domain (by name or id), or by id with any domain. */
function spellings(user: TestUser, password: string): string[] {
  const as = (u: Record<string, unknown>) => JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { ...u, password } } } } });
  return [
    as({ name: user.name, domain: { name: user.account } }),
    as({ name: user.name, domain: { id: user.accountId } }),
    as({ id: user.id }),
    as({ id: user.id, domain: { name: `other-${hex(4)}` } }),
    as({ id: user.id, domain: { name: user.account.toUpperCase() } }),
  ];
}

describe('§3 the failed-login limit holds under concurrency, and the user is the resolved user', () => {
  test('300 concurrent wrong passwords for one user, from 5 addresses and 5 spellings: exactly 10 password checks, the rest 429', async () => {
    const victim = world.users.gina;
    const bodies = spellings(victim, 'wrong');
    const { result: answers, checks } = await countingScrypt(() => Promise.all(Array.from({ length: 300 }, (_, i) =>
      fromAddress(world.url, `127.0.3.${1 + (i % 5)}`, 'POST', '/v3/auth/tokens', json, bodies[Math.floor(i / 5) % bodies.length]))));
    assert.equal(checks, 10);
    assert.equal(answers.filter((a) => a.status === 401).length, 10);
    for (const a of answers.filter((x) => x.status !== 401)) assert.deepEqual([a.status, a.body], [429, TOO_MANY]);
    // The right password, by any spelling, from a fresh address: the user's budget is spent.
    for (const body of spellings(victim, victim.password)) {
      const r = await fromAddress(world.url, '127.0.3.9', 'POST', '/v3/auth/tokens', json, body);
      assert.deepEqual([r.status, r.body], [429, TOO_MANY]);
    }
  });

  test('300 concurrent logins naming 300 different users from one address: exactly 10 password checks', async () => {
    const { result: answers, checks } = await countingScrypt(() => Promise.all(Array.from({ length: 300 }, (_, i) =>
      fromAddress(world.url, '127.0.3.20', 'POST', '/v3/auth/tokens', json, JSON.stringify({
        auth: { identity: { methods: ['password'], password: { user: { name: `user-${i}`, password: 'wrong', domain: { name: 'acme' } } } } },
      })))));
    assert.equal(checks, 10);
    assert.equal(answers.filter((a) => a.status === 401).length, 10);
    assert.equal(answers.filter((a) => a.status === 429).length, 290);
  });

  test('a user named by id with a new domain name each time, from 5 addresses: one budget (10 checks), then 429', async () => {
    const victim = world.users.nobody;
    const { result: answers, checks } = await countingScrypt(async () => {
      const out = [];
      for (let i = 0; i < 40; i++) {
        out.push(await fromAddress(world.url, `127.0.3.${30 + (i % 5)}`, 'POST', '/v3/auth/tokens', json, JSON.stringify({
          auth: { identity: { methods: ['password'], password: { user: { id: victim.id, password: 'wrong', domain: { name: `d${i}-${hex(3)}` } } } } },
        })));
      }
      return out;
    });
    assert.equal(checks, 10);
    assert.deepEqual(answers.map((a) => a.status), [...Array(10).fill(401), ...Array(30).fill(429)]);
  });

  test('successful logins cost nothing: 40 concurrent right-password logins of one user from one address all log in', async () => {
    const user = world.users.greg;
    const body = spellings(user, user.password)[0];
    const { result: answers, checks } = await countingScrypt(() =>
      Promise.all(Array.from({ length: 40 }, () => fromAddress(world.url, '127.0.3.40', 'POST', '/v3/auth/tokens', json, body))));
    assert.deepEqual([...new Set(answers.map((a) => a.status))], [201]);
    assert.equal(checks, 40);
  });
});

const NOT_ENABLED = ERR('KMS.0317', 'The cmk partition is not enabled.');

describe('§1 a disabled key store stops every cryptographic use of its keys', () => {
  test('every cryptographic operation on a key of a disabled key store answers 400 KMS.0317; enabled again, they all work', async () => {
    const admin = world.as('admin', 'aksk');
    const ks = await admin.request('POST', `/v1.0/${admin.user.projectId}/keystores`, { keystore_alias: `ks-${hex(4)}` });
    const store = ks.body.keystore.keystore_id as string;
    const aes = await newKey(admin, { keystore_id: store });
    const rsa = await newKey(admin, { keystore_id: store, key_spec: 'RSA_2048', key_usage: 'ENCRYPT_DECRYPT' });
    const ec = await newKey(admin, { keystore_id: store, key_spec: 'EC_P256', key_usage: 'SIGN_VERIFY' });
    const hmac = await newKey(admin, { keystore_id: store, key_spec: 'HMAC_256', key_usage: 'GENERATE_VERIFY_MAC' });
    const outside = await newKey(admin);
    const message = Buffer.from('a message').toString('base64');
    const dek = randomBytes(32);
    const dekIn = Buffer.concat([dek, crypto.createHash('sha256').update(dek).digest()]).toString('hex');
    const ok = async (op: string, body: Record<string, unknown>) => {
      const r = await admin.kms(op, body);
      assert.equal(r.status, 200, `${op}: ${r.text}`);
      return r.body;
    };
    const data = (await ok('encrypt-data', { key_id: aes, plain_text: 'secret' })).cipher_text;
    const outsideData = (await ok('encrypt-data', { key_id: outside, plain_text: 'secret' })).cipher_text;
    const rsaData = (await ok('encrypt-data', { key_id: rsa, plain_text: 'secret', encryption_algorithm: 'RSAES_OAEP_SHA_256' })).cipher_text;
    const wrapped = (await ok('encrypt-datakey', { key_id: aes, plain_text: dekIn, datakey_plain_length: '32' })).cipher_text;
    const signature = (await ok('sign', { key_id: ec, message, signing_algorithm: 'ECDSA_SHA_256', message_type: 'RAW' })).signature;
    const mac = (await ok('generate-mac', { key_id: hmac, mac_algorithm: 'HMAC_SHA_256', message })).mac;
    const uses: Array<[string, Record<string, unknown>]> = [
      ['encrypt-data', { key_id: aes, plain_text: 'x' }],
      ['decrypt-data', { cipher_text: data }],
      ['create-datakey', { key_id: aes }],
      ['create-datakey-without-plaintext', { key_id: aes }],
      ['encrypt-datakey', { key_id: aes, plain_text: dekIn, datakey_plain_length: '32' }],
      ['decrypt-datakey', { key_id: aes, cipher_text: wrapped, datakey_cipher_length: '32' }],
      ['encrypt-data', { key_id: rsa, plain_text: 'x', encryption_algorithm: 'RSAES_OAEP_SHA_256' }],
      ['decrypt-data', { key_id: rsa, cipher_text: rsaData, encryption_algorithm: 'RSAES_OAEP_SHA_256' }],
      ['sign', { key_id: ec, message, signing_algorithm: 'ECDSA_SHA_256', message_type: 'RAW' }],
      ['verify', { key_id: ec, message, signature, signing_algorithm: 'ECDSA_SHA_256', message_type: 'RAW' }],
      ['get-publickey', { key_id: ec }],
      ['generate-mac', { key_id: hmac, mac_algorithm: 'HMAC_SHA_256', message }],
      ['verify-mac', { key_id: hmac, mac_algorithm: 'HMAC_SHA_256', message, mac }],
      ['create-rsa-datakey-pair', { key_id: aes, key_spec: 'RSA_2048' }],
      ['create-ec-datakey-pair', { key_id: aes, key_spec: 'ECC_NIST_P256' }],
      ['re-encrypt', { cipher_text: data, destination_key_id: outside }],
      ['re-encrypt', { cipher_text: outsideData, destination_key_id: aes }],
    ];
    assert.equal((await admin.request('POST', `/v1.0/${admin.user.projectId}/keystores/${store}/disable`)).status, 200);
    for (const [op, body] of uses) {
      const r = await admin.kms(op, body);
      assert.deepEqual([op, r.status, r.body], [op, 400, NOT_ENABLED]);
    }
    assert.equal((await admin.request('POST', `/v1.0/${admin.user.projectId}/keystores/${store}/enable`)).status, 200);
    for (const [op, body] of uses) await ok(op, body);
  });

  test('no core file but src/core/material.ts reads key material from the store (where the key-store rule lives)', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const readers = readdirSync('src/core').filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .filter((f) => readFileSync(`src/core/${f}`, 'utf8').includes('.getMaterial('));
    assert.deepEqual(readers, ['material.ts']);
  });
});

describe('§2 re-encrypt needs the decrypt-data right on the source and the encrypt-data right on the destination', () => {
  test('a user denied decrypt-data on secret keys cannot re-encrypt a secret key\'s ciphertext to a key it may decrypt with', async () => {
    const admin = world.as('admin');
    const secret = await newKey(admin, { tags: [{ key: 'secret', value: 'yes' }] });
    const open = await newKey(admin);
    const ct = (await admin.kms('encrypt-data', { key_id: secret, plain_text: 'the secret' })).body.cipher_text;
    const eve = world.as((await userWith([doc(
      { Effect: 'Allow', Action: ['kms:cmk:reEncrypt', 'kms:cmk:encryptData', 'kms:cmk:decryptData'] },
      { Effect: 'Deny', Action: ['kms:cmk:decryptData'], ...SECRET },
    )])).name, 'aksk');
    assert.deepEqual(await eve.kms('decrypt-data', { cipher_text: ct }).then((r) => [r.status, r.body]), [403, DENIED]);
    const moved = await eve.kms('re-encrypt', { cipher_text: ct, destination_key_id: open });
    assert.deepEqual([moved.status, moved.body], [403, DENIED]);
    // The same user moves an open key's ciphertext freely, and into the secret key (encrypt is not denied).
    const mine = (await eve.kms('encrypt-data', { key_id: open, plain_text: 'mine' })).body.cipher_text;
    assert.equal((await eve.kms('re-encrypt', { cipher_text: mine, destination_key_id: secret })).status, 200);
  });

  const rows: Array<[string, Array<string | Doc>, 200 | 403]> = [
    ['re-encrypt alone (no decrypt-data, no encrypt-data)', [doc({ Effect: 'Allow', Action: ['kms:cmk:reEncrypt'] })], 403],
    ['re-encrypt and encrypt-data, no decrypt-data', [doc({ Effect: 'Allow', Action: ['kms:cmk:reEncrypt', 'kms:cmk:encryptData'] })], 403],
    ['re-encrypt and decrypt-data, no encrypt-data', [doc({ Effect: 'Allow', Action: ['kms:cmk:reEncrypt', 'kms:cmk:decryptData'] })], 403],
    ['decrypt-data and encrypt-data, no re-encrypt', [doc({ Effect: 'Allow', Action: ['kms:cmk:encryptData', 'kms:cmk:decryptData'] })], 403],
    ['all three', [doc({ Effect: 'Allow', Action: ['kms:cmk:reEncrypt', 'kms:cmk:encryptData', 'kms:cmk:decryptData'] })], 200],
    ['NotAction decrypt-data (everything else allowed)', [doc({ Effect: 'Allow', NotAction: ['kms:cmk:decryptData'] })], 403],
    ['decrypt-data allowed only on another key (Resource)', [doc(
      { Effect: 'Allow', Action: ['kms:cmk:reEncrypt', 'kms:cmk:encryptData'] },
      { Effect: 'Allow', Action: ['kms:cmk:decryptData'], Resource: ['kms:*:*:KeyId:00000000-0000-0000-0000-000000000000'] },
    )], 403],
    ['the OTC alias kms:cmk:crypto (every cryptographic action)', ['kms:cmk:crypto'], 200],
  ];
  for (const [what, policies, status] of rows) {
    test(`${what}: ${status}`, async () => {
      const admin = world.as('admin');
      const [a, b] = [await newKey(admin), await newKey(admin)];
      const ct = (await admin.kms('encrypt-data', { key_id: a, plain_text: 'x' })).body.cipher_text;
      const r = await world.as((await userWith(policies)).name, 'aksk').kms('re-encrypt', { cipher_text: ct, destination_key_id: b });
      if (status === 403) assert.deepEqual([r.status, r.body], [403, DENIED]);
      else assert.equal(r.status, 200, r.text);
    });
  }

  test('a grantee whose own policies deny decrypt-data cannot re-encrypt through its decrypt-data grant', async () => {
    const admin = world.as('admin');
    const [a, b] = [await newKey(admin), await newKey(admin)];
    const ct = (await admin.kms('encrypt-data', { key_id: a, plain_text: 'x' })).body.cipher_text;
    const gus = await userWith([doc({ Effect: 'Deny', Action: ['kms:cmk:decryptData'] })], 'globex');
    await newGrant(admin, a, gus.id, ['decrypt-data']);
    await newGrant(admin, b, gus.id, ['encrypt-data']);
    const r = await world.as(gus.name, 'aksk').kms('re-encrypt', { cipher_text: ct, destination_key_id: b });
    assert.deepEqual([r.status, r.body], [403, DENIED]);
  });
});

describe('§4 alias operations check every key they touch', () => {
  test('a user denied kms:alias:* on secret keys can neither move a secret key\'s alias away nor list its aliases', async () => {
    const admin = world.as('admin');
    const secret = await newKey(admin, { tags: [{ key: 'secret', value: 'yes' }] });
    const open = await newKey(admin);
    const alias = `alias/secret-${hex(4)}`;
    assert.equal((await admin.request('POST', `/v1.0/${admin.user.projectId}/kms/aliases`, { key_id: secret, alias })).status, 201);
    const eve = world.as((await userWith(['kms:*:*', doc({ Effect: 'Deny', Action: ['kms:alias:*'], ...SECRET })])).name, 'aksk');
    const base = `/v1.0/${eve.user.projectId}/kms`;
    // What held already: create and delete on the secret key are refused.
    assert.deepEqual(await eve.request('POST', `${base}/aliases`, { key_id: secret, alias: `alias/x-${hex(4)}` }).then((r) => [r.status, r.body]), [403, DENIED]);
    assert.deepEqual(await eve.request('DELETE', `${base}/aliases`, { key_id: secret, aliases: [alias] }).then((r) => [r.status, r.body]), [403, DENIED]);
    // The attack: move the alias to a key the user may change.
    const moved = await eve.request('POST', `${base}/alias/associate`, { alias, target_key_id: open });
    assert.deepEqual([moved.status, moved.body], [403, DENIED]);
    const listed = await eve.request('GET', `${base}/aliases?key_id=${secret}`);
    assert.deepEqual([listed.status, listed.body], [403, DENIED]);
    // The alias stayed on the secret key; the open key's aliases are the user's to list.
    const still = await admin.request('GET', `${base}/aliases?key_id=${secret}`);
    assert.deepEqual(still.body.aliases.map((a: { alias: string }) => a.alias), [alias]);
    assert.equal((await eve.request('GET', `${base}/aliases?key_id=${open}`)).status, 200);
  });
});

describe('§5 condition keys never match members every object inherits', () => {
  const INHERITED = ['constructor', 'toString', '__proto__'];
  for (const name of INHERITED) {
    test(`g:ResourceTag/${name} is absent on a key without that tag, present on a key with it`, async () => {
      const admin = world.as('admin');
      const plain = await newKey(admin);
      const tagged = await newKey(admin, { tags: [{ key: name, value: 'Yes' }] });
      // Deny every key that lacks the tag: applies to the plain key, not to the tagged one.
      const guarded = world.as((await userWith(['kms:*:*', doc({ Effect: 'Deny', Action: ['kms:cmk:*'], Condition: { Null: { [`g:ResourceTag/${name}`]: 'true' } } })])).name, 'aksk');
      assert.deepEqual(await guarded.kms('describe-key', { key_id: plain }).then((r) => [r.status, r.body]), [403, DENIED]);
      assert.equal((await guarded.kms('describe-key', { key_id: tagged })).status, 200);
      // String operators on the name: refused or allowed by the tag's value, never 500.
      const ignoreCase = world.as((await userWith([doc({ Effect: 'Allow', Action: ['kms:cmk:get'], Condition: { StringEqualsIgnoreCase: { [`g:ResourceTag/${name}`]: 'yes' } } })])).name, 'aksk');
      assert.deepEqual(await ignoreCase.kms('describe-key', { key_id: plain }).then((r) => [r.status, r.body]), [403, DENIED]);
      assert.equal((await ignoreCase.kms('describe-key', { key_id: tagged })).status, 200);
      const like = world.as((await userWith([doc({ Effect: 'Allow', Action: ['kms:cmk:get'], Condition: { StringLike: { [`g:ResourceTag/${name}`]: '*' } } })])).name, 'aksk');
      assert.deepEqual(await like.kms('describe-key', { key_id: plain }).then((r) => [r.status, r.body]), [403, DENIED]);
    });
  }

  test('g:RequestTag/constructor on create-key: absent unless the request carries that tag', async () => {
    const owner = world.as((await userWith(['kms:*:*', doc({ Effect: 'Deny', Action: ['kms:cmk:create'], Condition: { Null: { 'g:RequestTag/constructor': 'true' } } })])).name, 'aksk');
    assert.deepEqual(await owner.kms('create-key', { key_alias: `k-${hex(4)}` }).then((r) => [r.status, r.body]), [403, DENIED]);
    assert.equal((await owner.kms('create-key', { key_alias: `k-${hex(4)}`, tags: [{ key: 'constructor', value: 'x' }] })).status, 200);
  });

  test('a system role name that is an inherited member ("constructor", "toString") is refused when the identities file is read', async () => {
    const { checkPolicy, PolicyError } = await import('../src/auth/policy.ts');
    for (const name of ['constructor', 'toString', '__proto__']) assert.throws(() => checkPolicy(name), PolicyError);
  });
});

describe('§7 a refused request is in the trail of the key its input names, the ciphertext\'s header included', () => {
  const keyTrail = (keyId: string) => world.server.store.read((tx) => tx.listAudit({ keyId }, 0, 1000));

  test('after a retire, the grantee\'s decrypt-data with the ciphertext alone is refused and recorded under the key', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    const greg = world.as('greg', 'aksk');
    const grantId = await newGrant(admin, keyId, world.users.greg.id, ['decrypt-data', 'retire-grant']);
    const ct = (await admin.kms('encrypt-data', { key_id: keyId, plain_text: 'x' })).body.cipher_text;
    assert.equal((await greg.kms('decrypt-data', { cipher_text: ct })).status, 200);
    assert.equal((await greg.kms('retire-grant', { key_id: keyId, grant_id: grantId })).status, 200);
    const refused = await greg.kms('decrypt-data', { cipher_text: ct });
    assert.deepEqual([refused.status, refused.body], [403, DENIED]);
    const trail = (await keyTrail(keyId)).map((e) => [e.operation, e.userId, e.outcome, e.status, e.errorCode]);
    assert.deepEqual(trail.slice(-2), [
      ['retire-grant', world.users.greg.id, 'allowed', 200, null],
      ['decrypt-data', world.users.greg.id, 'denied', 403, 'KMS.0306'],
    ]);
  });

  test('re-encrypt refused: recorded under the source key, whether named by source_key_id or only by the ciphertext', async () => {
    const admin = world.as('admin');
    const [a, b] = [await newKey(admin), await newKey(admin)];
    const ct = (await admin.kms('encrypt-data', { key_id: a, plain_text: 'x' })).body.cipher_text;
    const nobody = world.as('nobody', 'aksk');
    for (const body of [{ cipher_text: ct, destination_key_id: b }, { cipher_text: ct, source_key_id: a, destination_key_id: b }]) {
      assert.equal((await nobody.kms('re-encrypt', body)).status, 403);
    }
    const trail = (await keyTrail(a)).filter((e) => e.operation === 're-encrypt').map((e) => [e.userId, e.outcome, e.status]);
    assert.deepEqual(trail, [[world.users.nobody.id, 'denied', 403], [world.users.nobody.id, 'denied', 403]]);
  });
});

const kmsd = runKmsd;

/** A child process running test/support/lock-holder.ts: its lines, one at a time. */
function spawnHolder(args: string[], host?: string) {
  const node = process.execPath;
  const script = join(import.meta.dirname, 'support', 'lock-holder.ts');
  const child = host
    ? spawn('unshare', ['-u', 'sh', '-c', `hostname "$0" && exec "$@"`, host, node, script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
    : spawn(node, [script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const queue: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (l) => (waiting.length > 0 ? (waiting.shift() as (line: string) => void)(l) : queue.push(l)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = () => (queue.length > 0 ? Promise.resolve(queue.shift() as string) : new Promise<string>((resolve) => waiting.push(resolve)));
  return { child, line, exited };
}

/** A process holding `dir`'s lock (under hostname `host` when given): what it said, its pid, and kill -9. */
async function holdIn(dir: string, what: string, host?: string) {
  const holder = spawnHolder(['hold', dir, what], host);
  const said = await holder.line();
  return {
    said,
    pid: holder.child.pid as number,
    kill: async () => {
      holder.child.kill('SIGKILL');
      await holder.exited;
    },
  };
}

describe('§8 a running kmsd holds its data directory', () => {
  test('reset --yes and a second serve on the directory of a running kmsd refuse with one line (exit 2) and change nothing; stopped, reset works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-locked-'));
    const server = await startServer(testConfig({ dataDir: dir, port: 0 }), { logger: false });
    let closed = false;
    try {
      const files = readdirSync(dir).sort();
      assert.deepEqual(files, ['dev-identities.json', 'kmsd.db', 'kmsd.db-shm', 'kmsd.db-wal', 'kmsd.lock', 'root.key']);
      const held = `${dir} is in use by a running kmsd serve (pid ${process.pid}; ${join(dir, 'kmsd.lock')}): stop it first`;
      const reset = await kmsd(['reset', '--data-dir', dir, '--yes']);
      assert.deepEqual(reset, { code: 2, out: '', err: `kmsd: ${held}; nothing was deleted\n` });
      const second = await kmsd(['serve', '--data-dir', dir, '--port', '0']);
      assert.deepEqual([second.code, second.err], [2, `kmsd: ${held}\n`]);
      assert.deepEqual(readdirSync(dir).sort(), files);
      // Still serving, the same store.
      assert.deepEqual((await raw(server.url, 'GET', '/_kmsd/ready')).body, { status: 'ready', store: 'sqlite' });
      await server.close();
      closed = true;
      const done = await kmsd(['reset', '--data-dir', dir, '--yes']);
      assert.equal(done.code, 0, done.err);
      // The lock file stays (removing it could let two later processes lock two files of one name).
      assert.deepEqual(readdirSync(dir), ['kmsd.lock']);
      const again = await kmsd(['reset', '--data-dir', dir, '--yes']);
      assert.deepEqual(again, { code: 0, out: `nothing to reset: ${dir} is empty\n`, err: '' });
    } finally {
      if (!closed) await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the lock is the kernel\'s: held in this process, not taken twice; a killed holder\'s lock is taken at once; another hostname does not block', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-held-'));
    const lockFile = join(dir, 'kmsd.lock');
    try {
      const lock = lockDataDir(dir, 'test');
      assert.throws(() => lockDataDir(dir, 'again'), { message: `${dir} is in use by a running kmsd test (pid ${process.pid}; ${lockFile}): stop it first` });
      lock.release();
      lock.release();
      lockDataDir(dir, 'test').release();
      // Held by another process, then that process is killed (-9): taken at once, nothing to guess.
      const holder = await holdIn(dir, 'serve');
      assert.equal(holder.said, 'held');
      assert.throws(() => lockDataDir(dir, 'test'), { message: `${dir} is in use by a running kmsd serve (pid ${holder.pid}; ${lockFile}): stop it first` });
      await holder.kill();
      lockDataDir(dir, 'test').release();
      // A holder written by a process on another host, which is gone (a container recreated with a new hostname): not a lock.
      const db = new DatabaseSync(lockFile);
      db.prepare('UPDATE holder SET pid = 1, host = ?, what = ?').run('old-container', 'serve');
      db.close();
      lockDataDir(dir, 'test').release();
      // A holder running under another hostname (its own UTS namespace), where unshare works: held while it runs, free once it is killed.
      if (spawnSync('unshare', ['-u', 'true']).status === 0) {
        const other = await holdIn(dir, 'serve', 'recreated-container');
        assert.equal(other.said, 'held');
        assert.throws(() => lockDataDir(dir, 'test'), { message: `${dir} is in use by a running kmsd serve (pid ${other.pid} on recreated-container; ${lockFile}): stop it first` });
        await other.kill();
        lockDataDir(dir, 'test').release();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('two processes racing for 100 directories never both hold one (the stale-lock takeover raced 7 times in 300)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kmsd-race-'));
    try {
      const dirs = Array.from({ length: 100 }, (_, i) => join(root, `d${i}`));
      // Each holds the lock file a kmsd that is gone left behind: where the old lock raced (taking a stale lock over).
      for (const dir of dirs) {
        mkdirSync(dir);
        lockDataDir(dir, 'serve').release();
      }
      const racers = [spawnHolder(['race']), spawnHolder(['race'])];
      const outcomes: string[] = [];
      try {
        // Both try each directory at the same moment; each keeps what it took.
        for (const dir of dirs) {
          for (const r of racers) r.child.stdin.write(`${dir}\n`);
          const [a, b] = await Promise.all(racers.map((r) => r.line()));
          outcomes.push([a, b].map((x) => (x === 'took' ? 'took' : 'refused')).join(' '));
        }
      } finally {
        for (const r of racers) r.child.stdin.end();
        await Promise.all(racers.map((r) => r.exited));
      }
      // Exactly one of the two holds each directory.
      assert.deepEqual(outcomes.filter((o) => o !== 'took refused' && o !== 'refused took'), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('reset on a read-only data directory refuses with one line (exit 2), no stack', async (t) => {
    if (spawnSync('unshare', ['-m', 'true']).status !== 0) return t.skip('needs unshare -m (a mount namespace) to mount the directory read-only');
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-readonly-'));
    try {
      writeFileSync(join(dir, 'kmsd.db'), '');
      writeFileSync(join(dir, 'root.key'), '');
      const run = () => new Promise<{ code: number | null; err: string }>((resolve) => {
        const child = spawn('unshare', ['-m', 'sh', '-c', 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"', dir,
          join(import.meta.dirname, '..', 'node_modules', '.bin', 'node'), join(import.meta.dirname, '..', 'bin', 'kmsd.js'), 'reset', '--data-dir', dir, '--yes'], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (d) => (err += d));
        child.on('exit', (code) => resolve({ code, err }));
      });
      const lockFile = join(dir, 'kmsd.lock');
      assert.deepEqual(await run(), { code: 2, err: `kmsd: cannot lock ${dir}: cannot open ${lockFile} (unable to open database file); nothing was deleted\n` });
      lockDataDir(dir, 'test').release(); // kmsd.lock now exists: read-only, it opens but cannot be written
      assert.deepEqual(await run(), { code: 2, err: `kmsd: cannot lock ${dir}: ${lockFile}: attempt to write a readonly database; nothing was deleted\n` });
      assert.deepEqual(readdirSync(dir).sort(), ['kmsd.db', 'kmsd.lock', 'root.key']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('/_kmsd/ready answers 503 once the store\'s files are gone from under a running kmsd', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-gone-'));
    const server = await startServer(testConfig({ dataDir: dir, port: 0 }), { logger: false });
    try {
      assert.equal((await raw(server.url, 'GET', '/_kmsd/ready')).status, 200);
      for (const name of ['kmsd.db', 'kmsd.db-wal', 'kmsd.db-shm']) rmSync(join(dir, name), { force: true });
      const r = await raw(server.url, 'GET', '/_kmsd/ready');
      assert.deepEqual([r.status, r.body], [503, { status: 'unavailable', store: 'sqlite', reason: 'the store\'s files are gone (deleted or replaced since kmsd opened them): restart kmsd' }]);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('§9 key generation is bounded per caller and leaves password checks their threads', () => {
  /** Counts node:crypto's generateKeyPair calls in flight (each holds a libuv pool thread) while `work` runs. */
  async function countingGenerations<T>(work: (inFlight: () => number) => Promise<T>): Promise<{ result: T; max: number }> {
    const real = crypto.generateKeyPair;
    let now = 0;
    let max = 0;
    crypto.generateKeyPair = ((...args: unknown[]) => {
      const callback = args.pop() as (...r: unknown[]) => void;
      max = Math.max(max, ++now);
      return (real as (...a: unknown[]) => void)(...args, (...r: unknown[]) => {
        now--;
        callback(...r);
      });
    }) as typeof real;
    syncBuiltinESMExports();
    try {
      return { result: await work(() => now), max };
    } finally {
      crypto.generateKeyPair = real;
      syncBuiltinESMExports();
    }
  }

  test('12 generations in flight from one caller (data-key pairs, RSA keys, import parameters) run one at a time; another account\'s generation and a password login are served meanwhile', async () => {
    const alice = world.as('alice', 'aksk');
    const aes = await newKey(alice);
    const external = await Promise.all([1, 2, 3].map(() => newKey(alice, { origin: 'external' })));
    const flood = () => [
      ...[1, 2, 3, 4, 5].map(() => alice.kms('create-rsa-datakey-pair', { key_id: aes, key_spec: 'RSA_2048' })),
      ...[1, 2, 3, 4].map(() => alice.kms('create-key', { key_alias: `rsa-${hex(4)}`, key_spec: 'RSA_2048', key_usage: 'SIGN_VERIFY' })),
      ...external.map((keyId) => alice.kms('get-parameters-for-import', { key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_256' })),
    ];
    const alone = await countingGenerations(() => Promise.all(flood()));
    assert.deepEqual([...new Set(alone.result.map((r) => r.status))], [200]);
    assert.equal(alone.max, 1);

    const boss = world.as('boss', 'aksk');
    const bossAes = await newKey(boss);
    const gus = world.users.gus;
    const { result, max } = await countingGenerations(async () => {
      let aliceDone = 0;
      const floods = flood().map((p) => p.then((r) => (aliceDone++, r)));
      const other = boss.kms('create-ec-datakey-pair', { key_id: bossAes, key_spec: 'ECC_NIST_P256' }).then((r) => ({ status: r.status, aliceDone }));
      const login = fromAddress(world.url, '127.0.9.1', 'POST', '/v3/auth/tokens', json, spellings(gus, gus.password)[0]).then((r) => ({ status: r.status, aliceDone }));
      return { other: await other, login: await login, alice: await Promise.all(floods) };
    });
    assert.equal(max, 2);
    assert.deepEqual([...new Set(result.alice.map((r) => r.status))], [200]);
    // Neither waited for the flood: each was answered while most of it was still to come.
    assert.equal(result.other.status, 200);
    assert.equal(result.login.status, 201);
    assert.ok(result.other.aliceDone <= 4, `boss's pair came after ${result.other.aliceDone} of alice's 12`);
    assert.ok(result.login.aliceDone <= 4, `the login came after ${result.login.aliceDone} of alice's 12`);
  });

  test('libuv\'s pool is sized for the loops: kmsd serve --workers 3 has 5 pool threads (3 generations + 2 for password checks); UV_THREADPOOL_SIZE set wins', async () => {
    // Review: a gate of one generation per loop filled the 4 threads with 3 loops or more.
    const poolThreads = async (env: Record<string, string>) => {
      const dir = mkdtempSync(join(tmpdir(), 'kmsd-pool-'));
      const child = spawn(join(import.meta.dirname, '..', 'node_modules', '.bin', 'node'), [join(import.meta.dirname, '..', 'bin', 'kmsd.js'), 'serve', '--data-dir', dir, '--port', '0', '--workers', '3'],
        { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, UV_THREADPOOL_SIZE: undefined, ...env } });
      try {
        await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
        // The pool starts whole at its first use (the development account's password hash at start).
        for (let i = 0; i < 100; i++) {
          const names = readdirSync(`/proc/${child.pid}/task`).map((t) => { try { return readFileSync(`/proc/${child.pid}/task/${t}/comm`, 'utf8').trim(); } catch { return ''; } });
          const pool = names.filter((n) => n === 'libuv-worker').length;
          if (pool > 0) return pool;
          await new Promise((r) => setTimeout(r, 50));
        }
        return 0;
      } finally {
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
        rmSync(dir, { recursive: true, force: true });
      }
    };
    assert.equal(await poolThreads({}), 5);
    assert.equal(await poolThreads({ UV_THREADPOOL_SIZE: '9' }), 9);
  });
});

describe('§10 decided and documented', () => {
  test('another account\'s key store answers 403 KMS.0322, an unknown one 404 KMS.0316', async () => {
    const boss = world.as('boss');
    const theirs = (await boss.request('POST', `/v1.0/${boss.user.projectId}/keystores`, { keystore_alias: `ks-${hex(4)}` })).body.keystore.keystore_id;
    const admin = world.as('admin');
    const other = await admin.request('GET', `/v1.0/${admin.user.projectId}/keystores/${theirs}`);
    assert.deepEqual([other.status, other.body], [403, ERR('KMS.0322', 'The user has no permission to access the partition.')]);
    const unknown = await admin.request('GET', `/v1.0/${admin.user.projectId}/keystores/${crypto.randomUUID()}`);
    assert.deepEqual([unknown.status, unknown.body], [404, ERR('KMS.0316', 'No exist partition_id.')]);
  });

  test('a grantee holding create-grant grants its operations to a whole account; the owner sees it (issuing_principal) and revokes it', async () => {
    const admin = world.as('admin');
    const keyId = await newKey(admin);
    await newGrant(admin, keyId, world.users.gus.id, ['describe-key', 'create-grant']);
    const gus = world.as('gus', 'aksk');
    const made = await gus.kms('create-grant', { key_id: keyId, grantee_principal: world.users.admin.accountId, grantee_principal_type: 'domain', operations: ['describe-key'] });
    assert.equal(made.status, 200, made.text);
    const escalate = await gus.kms('create-grant', { key_id: keyId, grantee_principal: hex(16), operations: ['decrypt-data'] });
    assert.deepEqual([escalate.status, escalate.body], [403, DENIED]);
    const listed = (await admin.kms('list-grants', { key_id: keyId })).body.grants.find((g: { grant_id: string }) => g.grant_id === made.body.grant_id);
    assert.deepEqual([listed.issuing_principal, listed.grantee_principal_type], [world.users.gus.id, 'domain']);
    assert.equal((await admin.kms('revoke-grant', { key_id: keyId, grant_id: made.body.grant_id })).status, 200);
  });
});
