import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '../src/core/runtime.ts';
import { hex, newGrant, newKey, startWorld, type World } from './harness.ts';

/** The client commands of the CLI, spawned through the real binary against a real kmsd; exact output in both formats. */
const BIN = fileURLToPath(new URL('../bin/kmsd.js', import.meta.url));
const VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
// The server's clock stays within the signature window of the real clock the CLI signs with.
const clock = new ManualClock(Date.now());
let world: World;
let dir: string;
before(async () => {
  world = await startWorld({ clock });
  dir = mkdtempSync(join(tmpdir(), 'kmsd-cli-client-'));
});
after(async () => {
  await world.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** Runs kmsd with the world's endpoint and a user's credentials in the environment (unless `env` says otherwise). */
function kmsd(args: string[], options: { env?: Record<string, string | undefined>; stdin?: string | Buffer; as?: string } = {}): Promise<Run> {
  const user = world.users[options.as ?? 'boss'];
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH, HOME: dir, KMSD_PROFILES_FILE: join(dir, 'none.json'),
    KMSD_ENDPOINT: world.url, HUAWEICLOUD_SDK_AK: user.ak, HUAWEICLOUD_SDK_SK: user.sk, ...options.env,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const child = spawn(process.execPath, [BIN, ...args], { env: env as NodeJS.ProcessEnv });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  child.stdin.end(options.stdin ?? '');
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

const ok = (r: Run, out: string) => assert.deepEqual(r, { code: 0, out, err: '' });
const iso = (ms: string) => new Date(Number(ms)).toISOString();
const line = (cells: string[], widths: number[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');

test('kmsd --version, and --help on every command and subcommand (serve and audit too)', async () => {
  ok(await kmsd(['--version']), `kmsd ${VERSION}\n`);
  for (const args of [['serve', '--help'], ['audit', '--help'], ['keys', '--help'], ['keys', 'list', '--help'], ['keys', 'create', '-h'],
    ['grants', '--help'], ['grants', 'retire', '--help'], ['encrypt', '--help'], ['decrypt', '--help'], ['datakey', '--help'],
    ['random', '--help'], ['call', '--help'], ['openapi', '--help'], ['--help']]) {
    const r = await kmsd(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.equal(r.err, '');
    assert.match(r.out, new RegExp(`^usage: kmsd ${args[0] === '--help' ? '<command>' : args[0]}`), args.join(' '));
  }
  const help = await kmsd(['grants', '--help']);
  assert.match(help.out, /^ {2}retire <key-id> <grant-id> /m);
  assert.match(help.out, /HUAWEICLOUD_SDK_AK\/SK/);
});

describe('kmsd keys', () => {
  test('create, describe, disable, enable, delete, cancel-delete: a record for people, one JSON line for scripts', async () => {
    const alias = `k${hex(5)}`;
    const created = await kmsd(['keys', 'create', alias, '--description', 'cli key']);
    assert.equal(created.code, 0, created.err);
    const keyId = /^key_id +(\S+)$/m.exec(created.out)?.[1] as string;
    const { accountId } = world.users.boss;
    assert.equal(created.out, `key_id     ${keyId}\ndomain_id  ${accountId}\nregion_id  cn-north-4\n`);
    const created2 = await kmsd(['keys', 'create', `k${hex(5)}`, '--output', 'json']);
    assert.match(created2.out, /^\{"key_info":\{"key_id":"[0-9a-f-]{36}","domain_id":"[0-9a-f]{32}","region_id":"cn-north-4"\}\}\n$/);

    const at = iso(String(clock.now()));
    ok(await kmsd(['keys', 'describe', keyId]), [
      `key_id                     ${keyId}`, `domain_id                  ${accountId}`, `key_alias                  ${alias}`,
      'realm                      cn-north-4', 'key_spec                   AES_256', 'key_usage                  ENCRYPT_DECRYPT',
      'key_description            cli key', `creation_date              ${at}`, 'scheduled_deletion_date', 'key_state                  2 (enabled)',
      'default_key_flag           0', 'key_type                   1', 'expiration_time', 'origin                     kms',
      'key_rotation_enabled       false', 'sys_enterprise_project_id  0', 'keystore_id                0', '',
    ].join('\n'));
    const described = await kmsd(['keys', 'describe', keyId, '-o', 'json']);
    assert.equal(described.out, `${JSON.stringify({ key_info: {
      key_id: keyId, domain_id: accountId, key_alias: alias, realm: 'cn-north-4', key_spec: 'AES_256', key_usage: 'ENCRYPT_DECRYPT',
      key_description: 'cli key', creation_date: String(clock.now()), scheduled_deletion_date: '', key_state: '2', default_key_flag: '0',
      key_type: '1', expiration_time: '', origin: 'kms', key_rotation_enabled: 'false', sys_enterprise_project_id: '0', keystore_id: '0',
    } })}\n`);

    ok(await kmsd(['keys', 'disable', keyId]), `key_id     ${keyId}\nkey_state  3 (disabled)\n`);
    ok(await kmsd(['keys', 'enable', keyId, '--output', 'json']), `{"key_info":{"key_id":"${keyId}","key_state":"2"}}\n`);
    ok(await kmsd(['keys', 'delete', keyId, '--pending-days', '10']), `key_id     ${keyId}\nkey_state  4 (pending-deletion)\n`);
    ok(await kmsd(['keys', 'cancel-delete', keyId, '-o', 'json']), `{"key_id":"${keyId}","key_state":"3"}\n`);
    ok(await kmsd(['keys', 'delete', keyId, '-o', 'json']), `{"key_id":"${keyId}","key_state":"4"}\n`);
  });

  test('list: every key of the account on every page, as a table or one JSON array', async () => {
    const keys = [];
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      keys.push(await newKey(world.as('boss'), { key_alias: `list${i}-${hex(3)}` }));
    }
    const all = (await world.as('boss').kms('list-keys', { key_spec: 'ALL' })).body.key_details as Array<Record<string, string>>;
    assert.ok(keys.every((k) => all.some((d) => d.key_id === k)));
    const STATE: Record<string, string> = { 2: 'enabled', 3: 'disabled', 4: 'pending-deletion' };
    const widths = [36, Math.max(5, ...all.map((k) => k.key_alias.length)), Math.max(5, ...all.map((k) => STATE[k.key_state].length)), 7, 15];
    const table = [
      line(['KEY ID', 'ALIAS', 'STATE', 'SPEC', 'USAGE', 'CREATED'], widths),
      ...all.map((k) => line([k.key_id, k.key_alias, STATE[k.key_state], 'AES_256', 'ENCRYPT_DECRYPT', iso(k.creation_date)], widths)),
    ].join('\n');
    ok(await kmsd(['keys', 'list', '--page-size', '2']), `${table}\n`);
    ok(await kmsd(['keys', 'list', '-o', 'json']), `${JSON.stringify(all)}\n`);
    ok(await kmsd(['keys', 'list', '--state', '1']), 'KEY ID  ALIAS  STATE  SPEC  USAGE  CREATED\n');
    ok(await kmsd(['keys', 'list', '--state', '1', '-o', 'json']), '[]\n');
  });
});

describe('kmsd grants', () => {
  test('create, list, list-retirable, retire, revoke in both formats', async () => {
    const keyId = await newKey(world.as('boss'));
    const rita = world.users.rita;
    const created = await kmsd(['grants', 'create', keyId, '--grantee', rita.id, '--operations', 'describe-key,retire-grant', '--name', 'app', '--retiring-principal', rita.id]);
    assert.equal(created.code, 0, created.err);
    const grantId = /^grant_id  ([0-9a-f]{64})$/m.exec(created.out)?.[1] as string;
    assert.equal(created.out, `grant_id  ${grantId}\n`);
    const json = await kmsd(['grants', 'create', keyId, '--grantee', rita.id, '--operations', 'encrypt-data', '--type', 'user', '-o', 'json']);
    const second = JSON.parse(json.out).grant_id as string;
    assert.equal(json.out, `{"grant_id":"${second}"}\n`);
    const created_at = iso(String(clock.now()));
    const [a, b] = [grantId, second].sort();
    const rows: Record<string, string[]> = {
      [grantId]: [grantId, rita.id, 'user', 'describe-key,retire-grant', 'app', created_at],
      [second]: [second, rita.id, 'user', 'encrypt-data', '', created_at],
    };
    const widths = [64, 32, 4, 25, 4];
    ok(await kmsd(['grants', 'list', keyId, '--page-size', '1']), `${[line(['GRANT ID', 'GRANTEE', 'TYPE', 'OPERATIONS', 'NAME', 'CREATED'], widths), line(rows[a], widths), line(rows[b], widths)].join('\n')}\n`);
    const listed = await world.as('boss').kms('list-grants', { key_id: keyId });
    ok(await kmsd(['grants', 'list', keyId, '-o', 'json']), `${JSON.stringify(listed.body.grants)}\n`);

    const retirable = await kmsd(['grants', 'list-retirable'], { as: 'rita' });
    assert.equal(retirable.code, 0, retirable.err);
    assert.equal(retirable.out, `${line(['KEY ID', 'GRANT ID', 'GRANTEE', 'OPERATIONS', 'NAME'], [36, 64, 32, 25])}\n${line([keyId, grantId, rita.id, 'describe-key,retire-grant', 'app'], [36, 64, 32, 25])}\n`);
    const retirableJson = await kmsd(['grants', 'list-retirable', '-o', 'json'], { as: 'rita' });
    assert.deepEqual(JSON.parse(retirableJson.out).map((g: { grant_id: string }) => g.grant_id), [grantId]);

    ok(await kmsd(['grants', 'retire', keyId, grantId], { as: 'rita' }), `retired grant ${grantId}\n`);
    ok(await kmsd(['grants', 'revoke', keyId, second, '--output', 'json']), '{}\n');
    ok(await kmsd(['grants', 'list', keyId]), 'GRANT ID  GRANTEE  TYPE  OPERATIONS  NAME  CREATED\n');
  });
});

describe('kmsd encrypt, decrypt, datakey, random', () => {
  test('encrypt from stdin to stdout, decrypt back byte for byte; files with --in/--out; AAD', async () => {
    const keyId = await newKey(world.as('boss'));
    const text = 'card 4111 — naïve\nsecond line\n';
    const enc = await kmsd(['encrypt', '--key-id', keyId, '--aad', 'order-7'], { stdin: text });
    assert.equal(enc.code, 0, enc.err);
    assert.match(enc.out, /^[0-9A-Za-z+/=]{128,}\n$/);
    ok(await kmsd(['decrypt', '--aad', 'order-7'], { stdin: enc.out }), text);
    writeFileSync(join(dir, 'plain.txt'), text);
    ok(await kmsd(['encrypt', '--key-id', keyId, '--in', join(dir, 'plain.txt'), '--out', join(dir, 'cipher.txt')]), '');
    ok(await kmsd(['decrypt', '--in', join(dir, 'cipher.txt'), '--out', join(dir, 'back.txt')]), '');
    assert.equal(readFileSync(join(dir, 'back.txt'), 'utf8'), text);
    const json = await kmsd(['encrypt', '--key-id', keyId, '-o', 'json'], { stdin: 'hi' });
    const cipher = JSON.parse(json.out).cipher_text;
    assert.equal(json.out, `{"key_id":"${keyId}","cipher_text":"${cipher}"}\n`);
    ok(await kmsd(['decrypt', '-o', 'json'], { stdin: cipher }), `{"key_id":"${keyId}","plain_text":"hi","plain_text_base64":"aGk="}\n`);
    const wrongAad = await kmsd(['decrypt', '--aad', 'other'], { stdin: enc.out });
    assert.equal(wrongAad.code, 3);
    assert.match(wrongAad.err, /^kmsd: KMS\.2201 Invalid cipher_text\. \(HTTP 400, request [0-9a-f]{32}\)\n$/);
    const binary = await kmsd(['encrypt', '--key-id', keyId], { stdin: Buffer.from([0xff, 0xfe, 0x00]) });
    assert.deepEqual(binary, { code: 2, out: '', err: 'kmsd: encrypt takes UTF-8 text; for binary data encrypt a data key (kmsd datakey) and use it locally\n' });
  });

  test('datakey and random', async () => {
    const keyId = await newKey(world.as('boss'));
    const dk = await kmsd(['datakey', '--key-id', keyId, '--length', '128']);
    assert.equal(dk.code, 0, dk.err);
    assert.match(dk.out, new RegExp(`^key_id       ${keyId}\nplain_text   [0-9A-F]{32}\ncipher_text  [0-9A-F]+\n$`));
    const bare = await kmsd(['datakey', '--key-id', keyId, '--no-plaintext', '-o', 'json']);
    assert.match(bare.out, new RegExp(`^\\{"key_id":"${keyId}","cipher_text":"[0-9A-F]+"\\}\n$`));
    assert.match((await kmsd(['random'])).out, /^[0-9A-F]{64}\n$/i);
    assert.match((await kmsd(['random', '--bits', '64', '-o', 'json'])).out, /^\{"random_data":"[0-9A-F]{16}"\}\n$/i);
  });
});

describe('kmsd call: any operation', () => {
  test('the answer as indented JSON, or one line; "-" reads the input from stdin', async () => {
    const keyId = await newKey(world.as('boss'));
    const r = await kmsd(['call', 'get-key-rotation-status', `{"key_id":"${keyId}"}`]);
    ok(r, `{\n  "key_rotation_enabled": false,\n  "rotation_interval": 0,\n  "last_rotation_time": "",\n  "number_of_rotations": 0\n}\n`);
    ok(await kmsd(['call', 'enable-key-rotation', '-', '-o', 'json'], { stdin: `{"key_id":"${keyId}"}` }), '{}\n');
    const quotas = await kmsd(['call', 'user-quotas', '-o', 'json']);
    assert.match(quotas.out, /^\{"quotas":\{"resources":\[\{"type":"CMK","used":\d+,"quota":100000\},\{"type":"grant_per_CMK","used":\d+,"quota":100\}\]\}\}\n$/);
  });

  test('refusals exit 3 with the KMS code; usage mistakes exit 2; an unreachable server exits 4', async () => {
    const missing = crypto.randomUUID();
    const refused = await kmsd(['call', 'describe-key', `{"key_id":"${missing}"}`]);
    assert.equal(refused.code, 3);
    assert.match(refused.err, /^kmsd: KMS\.0207 The key does not exist\. \(HTTP 404, request [0-9a-f]{32}\)\n$/);
    const denied = await kmsd(['keys', 'describe', missing], { env: { HUAWEICLOUD_SDK_SK: 'wrong' } });
    assert.equal(denied.code, 3);
    assert.match(denied.err, /^kmsd: APIGW\.0301 Incorrect IAM authentication information: verify aksk signature fail \(HTTP 401, request [0-9a-f]{32}\)\n$/);
    assert.deepEqual(await kmsd(['call', 'no-such-operation', '{}']), { code: 2, out: '', err: 'kmsd: unknown operation "no-such-operation" (kmsd call --help lists them)\n' });
    assert.deepEqual(await kmsd(['call', 'describe-key', '{not json']), { code: 2, out: '', err: `kmsd: the input is not JSON: ${jsonError('{not json')}\n` });
    assert.deepEqual(await kmsd(['keys', 'describe']), { code: 2, out: '', err: 'kmsd: missing key id\n' });
    const colour = await kmsd(['keys', 'list', '--colour']);
    assert.deepEqual([colour.code, colour.out], [2, '']);
    assert.match(colour.err, /^kmsd: Unknown option '--colour'\./);
    assert.deepEqual(await kmsd(['keys', 'rotate', 'x']), { code: 2, out: '', err: 'kmsd: unknown command "keys rotate" (kmsd keys --help lists them)\n' });
    assert.deepEqual(await kmsd(['keys', 'list', '-o', 'yaml']), { code: 2, out: '', err: 'kmsd: --output must be table or json, got "yaml"\n' });
    assert.deepEqual(await kmsd(['nonsense']), { code: 2, out: '', err: await kmsd(['nonsense']).then((r) => r.err) });
    assert.match((await kmsd(['nonsense'])).err, /^kmsd: unknown command "nonsense"\nusage: kmsd <command>/);
    const none = await kmsd(['keys', 'list'], { env: { HUAWEICLOUD_SDK_AK: undefined, HUAWEICLOUD_SDK_SK: undefined } });
    assert.deepEqual(none, { code: 2, out: '', err: `kmsd: no credentials: give --ak and --sk (or HUAWEICLOUD_SDK_AK/HUAWEICLOUD_SDK_SK), --user/--password/--domain, or a profile in ${join(dir, 'none.json')}\n` });
    const port = await closedPort();
    const down = await kmsd(['keys', 'describe', missing, '--endpoint', `http://127.0.0.1:${port}`, '--project-id', world.users.boss.projectId]);
    // Said at once, with every retry, then given up.
    assert.deepEqual([down.code, down.out], [4, '']);
    const said = down.err.split('\n');
    assert.deepEqual(said.map((l) => l.replace(/in \d+\.\d s$/, 'in N s')), [
      `kmsd: cannot reach http://127.0.0.1:${port}: ECONNREFUSED; retry 1 of 3 in N s`,
      `kmsd: cannot reach http://127.0.0.1:${port}: ECONNREFUSED; retry 2 of 3 in N s`,
      `kmsd: cannot reach http://127.0.0.1:${port}: ECONNREFUSED; retry 3 of 3 in N s`,
      `kmsd: cannot reach http://127.0.0.1:${port}: ECONNREFUSED; gave up`,
      '',
    ]);
    // Bare kmsd answers as a bare command group does: usage on stderr, exit 2 (help asks: stdout, 0).
    const bare = await kmsd([]);
    assert.deepEqual([bare.code, bare.out], [2, '']);
    assert.match(bare.err, /^usage: kmsd <command>/);
    const group = await kmsd(['keys']);
    assert.deepEqual([group.code, group.out], [2, '']);
    assert.match(group.err, /^usage: kmsd keys <command>/);
    const help = await kmsd(['help']);
    assert.deepEqual([help.code, help.err], [0, '']);
    // What is allowed is said before anything is sent.
    assert.deepEqual(await kmsd(['random', '--bits', '7']), { code: 2, out: '', err: "kmsd: --bits 7: give a multiple of 8 from 8 to 8192 (gen-random's random_data_length)\n" });
    assert.deepEqual(await kmsd(['grants', 'create', missing, '--grantee', world.users.gus.id, '--operations', 'describe-key,decrypt']), {
      code: 2, out: '',
      err: 'kmsd: unknown grant operation "decrypt": valid ones are create-datakey, create-datakey-without-plaintext, encrypt-datakey, decrypt-datakey, describe-key, create-grant, retire-grant, encrypt-data, decrypt-data\n',
    });
  });
});

describe('where credentials come from', () => {
  test('flags win over the environment; CLOUD_SDK_AK/SK; a profile file; a password login', async () => {
    const keyId = await newKey(world.as('alice'));
    const alice = world.users.alice;
    const describe = ['keys', 'describe', keyId, '-o', 'json'];
    const expectOk = (r: Run) => assert.equal(JSON.parse(r.out).key_info.key_id, keyId, r.err);
    expectOk(await kmsd([...describe, '--ak', alice.ak, '--sk', alice.sk]));
    expectOk(await kmsd(describe, { env: { HUAWEICLOUD_SDK_AK: undefined, HUAWEICLOUD_SDK_SK: undefined, CLOUD_SDK_AK: alice.ak, CLOUD_SDK_SK: alice.sk } }));
    expectOk(await kmsd(describe, { as: 'alice', env: { HUAWEICLOUD_SDK_PROJECT_ID: alice.projectId } }));
    const profiles = join(dir, 'profiles.json');
    writeFileSync(profiles, JSON.stringify({
      default: { endpoint: 'http://127.0.0.1:1', ak: 'nope', sk: 'nope' },
      acme: { endpoint: world.url, ak: alice.ak, sk: alice.sk, project_id: alice.projectId },
      login: { endpoint: world.url, user: alice.name, password: alice.password, domain: alice.account },
    }));
    const fromFile = { KMSD_PROFILES_FILE: profiles, KMSD_ENDPOINT: undefined, HUAWEICLOUD_SDK_AK: undefined, HUAWEICLOUD_SDK_SK: undefined };
    expectOk(await kmsd([...describe, '--profile', 'acme'], { env: fromFile }));
    expectOk(await kmsd(describe, { env: { ...fromFile, KMSD_PROFILE: 'login' } }));
    expectOk(await kmsd([...describe, '--user', alice.name, '--password', alice.password, '--domain', alice.account]));
    assert.deepEqual(await kmsd([...describe, '--profile', 'other'], { env: fromFile }), { code: 2, out: '', err: `kmsd: no profile "other" in ${profiles}\n` });
    // XDG_CONFIG_HOME/kmsd/profiles.json when KMSD_PROFILES_FILE is not set.
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'xdg/kmsd'), { recursive: true });
    writeFileSync(join(dir, 'xdg/kmsd/profiles.json'), JSON.stringify({ default: { endpoint: world.url, ak: alice.ak, sk: alice.sk } }));
    expectOk(await kmsd(describe, { env: { ...fromFile, KMSD_PROFILES_FILE: undefined, XDG_CONFIG_HOME: join(dir, 'xdg') } }));
  });
});

function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  return '';
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

void newGrant;
