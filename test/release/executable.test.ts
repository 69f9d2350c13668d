import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, verify } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { POSTGRES_SKIP, freshDatabase } from '../support/postgres.ts';
import { ROOT } from '../support/built-client.ts';
import { VERSION, artifact, exec, skipWithout, start, statusOf, waitFor } from './support.ts';

/**
 * kmsd-linux-x64 as a user runs it: a copy on its own in an empty directory, an empty PATH
 * and no other variable (no Node anywhere it could look), serving with two event loops, its
 * console, and its own CLI as the client.
 */
const EXE = 'kmsd-linux-x64';
const dir = mkdtempSync(join(tmpdir(), 'kmsd-exe-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const bare = (extra: Record<string, string> = {}) => ({ PATH: '', ...extra });

test('the executable runs every part of kmsd with an empty PATH and no Node visible', { skip: skipWithout(EXE), timeout: 120_000 }, async () => {
  const exe = join(dir, 'kmsd');
  copyFileSync(artifact(EXE), exe);
  await exec('chmod', ['755', exe]);
  assert.deepEqual(await exec(exe, ['--version'], { env: bare(), cwd: dir }), { status: 0, stdout: `kmsd ${VERSION}\n`, stderr: '' });
  const unknown = await exec(exe, ['frobnicate'], { env: bare(), cwd: dir });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /^kmsd: unknown command "frobnicate"\nusage: kmsd <command>/);

  const endpointFile = join(dir, 'endpoint.json');
  const server = start(exe, ['serve', '--port', '0', '--data-dir', join(dir, 'data'), '--workers', '2', '--loop-start-load', '0', '--endpoint-file', endpointFile, '--log-format', 'json'], { env: bare(), cwd: dir });
  const { exited, output } = server;
  try {
    const described = await waitFor('the endpoint file', () => (existsSync(endpointFile) ? JSON.parse(readFileSync(endpointFile, 'utf8')) : undefined));
    await waitFor('both event loops', () => (output().includes('kmsd: all 2 event loops are serving') ? true : undefined));
    const ep = described.endpoint as string;
    const [{ users: [{ access_keys: [{ ak, sk }] }] }] = described.accounts;
    assert.equal(await statusOf(`${ep}/_kmsd/health`), 200);
    assert.equal(await statusOf(`${ep}/_kmsd/ready`), 200);
    // The console's files are the executable's assets.
    const page = await fetch(`${ep}/_kmsd/console/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>/);
    assert.equal(await statusOf(`${ep}/_kmsd/console/console.js`), 200);
    // Metrics: prom-client is bundled, loaded at the first scrape.
    const metrics = await fetch(`${ep}/_kmsd/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /^# HELP /m);

    // Its own CLI as the client, again with nothing else in the environment.
    const env = bare({ KMSD_ENDPOINT: ep, CLOUD_SDK_AK: ak, CLOUD_SDK_SK: sk });
    const created = await exec(exe, ['keys', 'create', 'from-the-executable', '-o', 'json'], { env, cwd: dir });
    assert.equal(created.stderr, '');
    const keyId = JSON.parse(created.stdout).key_info.key_id as string;
    const encrypted = await exec(exe, ['encrypt', '--key-id', keyId], { env, cwd: dir, input: 'sealed by the single executable' });
    assert.equal(encrypted.status, 0, encrypted.stderr);
    const decrypted = await exec(exe, ['decrypt'], { env, cwd: dir, input: encrypted.stdout });
    assert.deepEqual(decrypted, { status: 0, stdout: 'sealed by the single executable', stderr: '' });
    // Sign and verify a RAW message (node:crypto inside the executable).
    const ec = JSON.parse((await exec(exe, ['call', 'create-key', JSON.stringify({ key_alias: 'exe-ec', key_spec: 'EC_P256', key_usage: 'SIGN_VERIFY' })], { env, cwd: dir })).stdout);
    const signed = await exec(exe, ['call', 'sign', JSON.stringify({ key_id: ec.key_info.key_id, message: Buffer.from('hi').toString('base64'), signing_algorithm: 'ECDSA_SHA_256', message_type: 'RAW' })], { env, cwd: dir });
    assert.equal(signed.status, 0, signed.stderr);
    const signature = JSON.parse(signed.stdout).signature as string;
    const verified = await exec(exe, ['call', 'verify', JSON.stringify({ key_id: ec.key_info.key_id, message: Buffer.from('hi').toString('base64'), signature, signing_algorithm: 'ECDSA_SHA_256', message_type: 'RAW' })], { env, cwd: dir });
    assert.equal(JSON.parse(verified.stdout).signature_valid, 'true');
    // DIGEST signatures (ECDSA over a caller's digest) and SM2 encryption with no openssl anywhere:
    // the kmsd-crypto addon the executable carries. The signature is checked outside kmsd.
    const digest = createHash('sha256').update('hi').digest();
    const digestSigned = await exec(exe, ['call', 'sign', JSON.stringify({ key_id: ec.key_info.key_id, message: digest.toString('base64'), signing_algorithm: 'ECDSA_SHA_256', message_type: 'DIGEST' })], { env, cwd: dir });
    assert.equal(digestSigned.status, 0, digestSigned.stderr);
    const publicKey = JSON.parse((await exec(exe, ['call', 'get-publickey', JSON.stringify({ key_id: ec.key_info.key_id })], { env, cwd: dir })).stdout).public_key as string;
    assert.equal(verify('sha256', Buffer.from('hi'), publicKey, Buffer.from(JSON.parse(digestSigned.stdout).signature, 'base64')), true);
    const sm2 = JSON.parse((await exec(exe, ['call', 'create-key', JSON.stringify({ key_alias: 'exe-sm2', key_spec: 'SM2', key_usage: 'ENCRYPT_DECRYPT' })], { env, cwd: dir })).stdout);
    const sm2Sealed = await exec(exe, ['call', 'encrypt-data', JSON.stringify({ key_id: sm2.key_info.key_id, plain_text: 'sm2 in process', encryption_algorithm: 'SM2_ENCRYPT' })], { env, cwd: dir });
    assert.equal(sm2Sealed.status, 0, sm2Sealed.stderr);
    const sm2Opened = await exec(exe, ['call', 'decrypt-data', JSON.stringify({ key_id: sm2.key_info.key_id, cipher_text: JSON.parse(sm2Sealed.stdout).cipher_text, encryption_algorithm: 'SM2_ENCRYPT' })], { env, cwd: dir });
    assert.equal(JSON.parse(sm2Opened.stdout).plain_text, 'sm2 in process');
    // The health probe the image runs.
    assert.deepEqual(await exec(exe, ['health', '--endpoint', ep], { env: bare(), cwd: dir }), { status: 0, stdout: 'ok\n', stderr: '' });
  } finally {
    server.child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, output());
  assert.equal(existsSync(endpointFile), false);
  const down = await exec(exe, ['health', '--endpoint', 'http://127.0.0.1:9'], { env: bare(), cwd: dir });
  assert.equal(down.status, 4);
  assert.match(down.stderr, /^kmsd: http:\/\/127\.0\.0\.1:9\/_kmsd\/health is unreachable: /);
});

test('the README\'s shell recipe (Use kmsd in CI) starts the executable and exports its endpoint and keys; it fails loudly when kmsd cannot start', { skip: skipWithout(EXE), timeout: 120_000 }, async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Use kmsd in CI'));
  const recipe = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  assert.match(recipe, /^dir=\$\(mktemp -d\)\n\.\/kmsd-linux-x64 serve /);
  const work = mkdtempSync(join(tmpdir(), 'kmsd-recipe-'));
  try {
    copyFileSync(artifact(EXE), join(work, 'kmsd-linux-x64'));
    await exec('chmod', ['755', join(work, 'kmsd-linux-x64')]);
    // $TMP and $TMPDIR unset, as on CI runners; then the values, and kmsd stopped.
    const { TMP: _t, TMPDIR: _d, ...env } = process.env;
    const ran = await exec('/bin/bash', ['-e', '-c', `${recipe}printf '%s\\n' "$KMS_ENDPOINT" "$CLOUD_SDK_AK" "$CLOUD_SDK_SK"; curl -fsS "$KMS_ENDPOINT/_kmsd/health"; kill $!; wait $! || true; rm -rf "$dir"`], { env, cwd: work });
    assert.equal(ran.stderr, '');
    assert.equal(ran.status, 0);
    assert.match(ran.stdout, /^http:\/\/127\.0\.0\.1:\d+\n\S+\n\S+\n\{"status":"ok"/);
    // A kmsd that cannot start: the recipe prints its error and fails, it does not go on with empty values.
    const failed = await exec('/bin/bash', ['-e', '-c', recipe.replace('--port 0', '--port nope')], { env: { ...env, PATH: `${work}:${process.env.PATH}` }, cwd: work });
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /^kmsd: --port must [^\n]*\nkmsd did not start\n$/);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

/**
 * kmsd-linux-arm64 on this x64 machine: under qemu-user's emulation, with Debian's arm64
 * libraries (libc6-arm64-cross, libstdc++6-arm64-cross: what an arm64 machine has) as its root.
 */
const QEMU = '/usr/bin/qemu-aarch64';
const ARM_LIBS = '/usr/aarch64-linux-gnu';
const ARM = 'kmsd-linux-arm64';
const noQemu = !process.env.CI && !(existsSync(QEMU) && existsSync(join(ARM_LIBS, 'lib/libstdc++.so.6'))) && 'no qemu-aarch64 with arm64 libraries (apt-get install qemu-user libc6-arm64-cross libstdc++6-arm64-cross)';

test('the arm64 executable runs its CLI and serves (under qemu-user emulation)', { skip: skipWithout(ARM) || noQemu, timeout: 180_000 }, async () => {
  const exe = artifact(ARM);
  const env = { PATH: '', QEMU_LD_PREFIX: ARM_LIBS };
  assert.deepEqual(await exec(QEMU, [exe, '--version'], { env, cwd: dir }), { status: 0, stdout: `kmsd ${VERSION}\n`, stderr: '' });
  const endpointFile = join(dir, 'arm64-endpoint.json');
  const server = start(QEMU, [exe, 'serve', '--port', '0', '--data-dir', join(dir, 'arm64-data'), '--workers', '1', '--endpoint-file', endpointFile], { env, cwd: dir });
  const { exited, output } = server;
  try {
    const described = await waitFor('the endpoint file', () => (existsSync(endpointFile) ? JSON.parse(readFileSync(endpointFile, 'utf8')) : undefined), 150_000);
    assert.equal(await statusOf(`${described.endpoint}/_kmsd/health`), 200);
    const [{ users: [{ access_keys: [{ ak, sk }] }] }] = described.accounts;
    const created = await exec(QEMU, [exe, 'keys', 'create', 'on-arm64', '-o', 'json'], { env: { ...env, KMSD_ENDPOINT: described.endpoint, CLOUD_SDK_AK: ak, CLOUD_SDK_SK: sk }, cwd: dir });
    assert.equal(created.stderr, '');
    assert.match(JSON.parse(created.stdout).key_info.key_id, /^[0-9a-f-]{36}$/);
  } finally {
    server.child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, output());
});

test('the executable serves from PostgreSQL (the pg driver is inside it)', { skip: skipWithout(EXE) || POSTGRES_SKIP, timeout: 120_000 }, async () => {
  const db = await freshDatabase();
  const endpointFile = join(dir, 'pg-endpoint.json');
  const server = start(artifact(EXE), ['serve', '--port', '0', '--workers', '1', '--data-dir', join(dir, 'pg-data'), '--store', db.url, '--endpoint-file', endpointFile],
    { env: bare({ KMSD_ROOT_KEY: randomBytes(32).toString('base64') }), cwd: dir });
  try {
    const described = await waitFor('the endpoint file', () => (existsSync(endpointFile) ? JSON.parse(readFileSync(endpointFile, 'utf8')) : undefined));
    assert.equal(described.store, 'postgres');
    const ready = await fetch(`${described.endpoint}/_kmsd/ready`);
    assert.deepEqual([ready.status, await ready.json()], [200, { status: 'ready', store: 'postgres' }]);
  } finally {
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0, server.output());
    await db.drop();
  }
});
