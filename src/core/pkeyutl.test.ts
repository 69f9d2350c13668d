import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KmsError } from './errors.ts';
import { helperProcess, signDigest, sm2Decrypt, sm2Encrypt, verifyDigest } from './pkeyutl.ts';
import { fifoArg, fifoState, runPkeyutl } from './pkeyutl-worker.ts';

/**
 * DIGEST signatures by `openssl pkeyutl`, checked by node:crypto on the message (which hashes it
 * itself), and node:crypto's signatures checked by pkeyutl on the digest.
 */
const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

test('ECDSA over a digest: pkeyutl signs what node:crypto verifies on the message, and the other way round', async () => {
  const message = Buffer.from('order 7');
  const digest = createHash('sha256').update(message).digest();
  const signature = await signDigest(ec.privateKey, { hash: 'sha256' }, digest);
  assert.equal(verify('sha256', message, ec.publicKey, signature), true);
  assert.equal(await verifyDigest(ec.publicKey, { hash: 'sha256' }, digest, sign('sha256', message, ec.privateKey)), true);
  assert.equal(await verifyDigest(ec.publicKey, { hash: 'sha256' }, createHash('sha256').update('other').digest(), signature), false);
});

test('RSASSA-PSS over a digest: salt as long as the hash; any salt length verifies', async () => {
  const message = Buffer.from('pss message');
  const digest = createHash('sha256').update(message).digest();
  const signature = await signDigest(rsa.privateKey, { hash: 'sha256', pss: true }, digest);
  assert.equal(verify('sha256', message, { key: rsa.publicKey, ...PSS }, signature), true);
  assert.equal(verify('sha256', message, { key: rsa.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 31 }, signature), false);
  const saltless = sign('sha256', message, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 0 });
  assert.equal(await verifyDigest(rsa.publicKey, { hash: 'sha256', pss: true }, digest, saltless), true);
  const pkcs1 = sign('sha256', message, rsa.privateKey);
  assert.equal(await verifyDigest(rsa.publicKey, { hash: 'sha256', pss: true }, digest, pkcs1), false);
});

test('garbage signatures are simply not valid; an OpenSSL error is KMS.0105, never anything else', async () => {
  const digest = createHash('sha256').update('m').digest();
  for (const garbage of [Buffer.from('not a signature'), Buffer.alloc(72, 0x30), Buffer.alloc(1)]) {
    assert.equal(await verifyDigest(ec.publicKey, { hash: 'sha256' }, digest, garbage), false);
  }
  // A digest of the wrong length: OpenSSL refuses it (kmsd checks lengths before, KMS.0329).
  await assert.rejects(signDigest(ec.privateKey, { hash: 'sha256' }, Buffer.alloc(20)), (e) => e instanceof KmsError && e.code === 'KMS.0105' && e.status === 400);
});

test('concurrent calls through the helper process each get their own pipes', async () => {
  const digests = Array.from({ length: 12 }, (_, i) => createHash('sha256').update(`m${i}`).digest());
  const signatures = await Promise.all(digests.map((d) => signDigest(ec.privateKey, { hash: 'sha256' }, d)));
  signatures.forEach((s, i) => assert.equal(verify('sha256', Buffer.from(`m${i}`), ec.publicKey, s), true));
  const checks = await Promise.all(digests.map((d, i) => verifyDigest(ec.publicKey, { hash: 'sha256' }, d, signatures[(i + 1) % 12])));
  assert.deepEqual(checks, digests.map(() => false));
});

test('a helper process that dies fails its calls with KMS.0105, and the next call starts a new one', async () => {
  const digest = createHash('sha256').update('m').digest();
  await signDigest(ec.privateKey, { hash: 'sha256' }, digest);
  const first = helperProcess();
  const call = signDigest(ec.privateKey, { hash: 'sha256' }, digest);
  first?.kill('SIGKILL');
  await assert.rejects(call, (e) => e instanceof KmsError && e.code === 'KMS.0105');
  const signature = await signDigest(ec.privateKey, { hash: 'sha256' }, digest);
  assert.equal(verify('sha256', Buffer.from('m'), ec.publicKey, signature), true);
  assert.notEqual(helperProcess()?.pid, first?.pid);
});

test('in the helper: each call has its own FIFOs, all idle again afterwards, in a private directory holding nothing else', async () => {
  const der = ec.privateKey.export({ type: 'pkcs8', format: 'der' });
  const args = ['-sign', '-keyform', 'DER', '-inkey', fifoArg(0), '-pkeyopt', 'digest:sha256'];
  const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => runPkeyutl(args, createHash('sha256').update(`m${i}`).digest(), [der])));
  outcomes.forEach((o, i) => assert.equal(verify('sha256', Buffer.from(`m${i}`), ec.publicKey, o.stdout), true));
  const { directory, idle } = fifoState();
  const names = readdirSync(directory as string);
  assert.deepEqual([...idle].map((p) => p.slice((directory as string).length + 1)).sort(), [...names].sort());
  assert.ok(names.length >= 12);
  for (const name of names) assert.equal(lstatSync(join(directory as string, name)).isFIFO(), true);
  assert.equal(statSync(directory as string).mode & 0o777, 0o700);
});

test('SM2 encryption: what pkeyutl encrypts with the public key, `openssl pkeyutl -decrypt` opens with the private key, and the other way round', async () => {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const sm2 = generateKeyPairSync('ec', { namedCurve: 'SM2' });
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-sm2-unit-'));
  try {
    writeFileSync(join(dir, 'key.pem'), sm2.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'pub.pem'), sm2.publicKey.export({ type: 'spki', format: 'pem' }));
    const plaintext = Buffer.from('sm2 both ways');
    const ours = await sm2Encrypt(sm2.publicKey, plaintext);
    assert.deepEqual(execFileSync('openssl', ['pkeyutl', '-decrypt', '-inkey', join(dir, 'key.pem')], { input: ours }), plaintext);
    const theirs = execFileSync('openssl', ['pkeyutl', '-encrypt', '-pubin', '-inkey', join(dir, 'pub.pem')], { input: plaintext });
    assert.deepEqual(await sm2Decrypt(sm2.privateKey, theirs), plaintext);
    const tampered = Buffer.from(theirs);
    tampered[tampered.length - 1] ^= 1;
    assert.equal(await sm2Decrypt(sm2.privateKey, tampered), null);
    assert.equal(await sm2Decrypt(generateKeyPairSync('ec', { namedCurve: 'SM2' }).privateKey, theirs), null);
    // Cost of one SM2 encryption through the helper (printed for the record, not asserted).
    const started = performance.now();
    for (let i = 0; i < 20; i++) await sm2Encrypt(sm2.publicKey, plaintext);
    console.log(`sm2Encrypt: ${((performance.now() - started) / 20).toFixed(1)} ms per call`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
