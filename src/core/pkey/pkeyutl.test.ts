import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KmsError } from '../errors.ts';
import { QUEUE, helperProcess, pkeyutlQueue, signDigest, sm2Decrypt, sm2Encrypt, verifyDigest } from './pkeyutl.ts';
import { fifoArg, fifoState, runPkeyutl } from './pkeyutl-worker.ts';

/**
 * The last fallback (no kmsd-crypto addon): DIGEST signatures by `openssl pkeyutl`, checked by node:crypto on the message (which hashes it
 * itself), and node:crypto's signatures checked by pkeyutl on the digest.
 */
/** Whose work (the fair queue's line). */
const W = { owner: 'account-a' };
const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

test('ECDSA over a digest: pkeyutl signs what node:crypto verifies on the message, and the other way round', async () => {
  const message = Buffer.from('order 7');
  const digest = createHash('sha256').update(message).digest();
  const signature = await signDigest(ec.privateKey, { hash: 'sha256' }, digest, W);
  assert.equal(verify('sha256', message, ec.publicKey, signature), true);
  assert.equal(await verifyDigest(ec.publicKey, { hash: 'sha256' }, digest, sign('sha256', message, ec.privateKey), W), true);
  assert.equal(await verifyDigest(ec.publicKey, { hash: 'sha256' }, createHash('sha256').update('other').digest(), signature, W), false);
});

test('RSASSA-PSS over a digest: salt as long as the hash; any salt length verifies', async () => {
  const message = Buffer.from('pss message');
  const digest = createHash('sha256').update(message).digest();
  const signature = await signDigest(rsa.privateKey, { hash: 'sha256', pss: true }, digest, W);
  assert.equal(verify('sha256', message, { key: rsa.publicKey, ...PSS }, signature), true);
  assert.equal(verify('sha256', message, { key: rsa.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 31 }, signature), false);
  const saltless = sign('sha256', message, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 0 });
  assert.equal(await verifyDigest(rsa.publicKey, { hash: 'sha256', pss: true }, digest, saltless, W), true);
  const pkcs1 = sign('sha256', message, rsa.privateKey);
  assert.equal(await verifyDigest(rsa.publicKey, { hash: 'sha256', pss: true }, digest, pkcs1, W), false);
});

test('garbage signatures are simply not valid; an OpenSSL error is KMS.0105, never anything else', async () => {
  const digest = createHash('sha256').update('m').digest();
  for (const garbage of [Buffer.from('not a signature'), Buffer.alloc(72, 0x30), Buffer.alloc(1)]) {
    assert.equal(await verifyDigest(ec.publicKey, { hash: 'sha256' }, digest, garbage, W), false);
  }
  // A digest of the wrong length: OpenSSL refuses it (kmsd checks lengths before, KMS.0329).
  await assert.rejects(signDigest(ec.privateKey, { hash: 'sha256' }, Buffer.alloc(20), W), (e) => e instanceof KmsError && e.code === 'KMS.0105' && e.status === 400);
});

test('concurrent calls through the helper process each get their own pipes', async () => {
  const digests = Array.from({ length: 12 }, (_, i) => createHash('sha256').update(`m${i}`).digest());
  const signatures = await Promise.all(digests.map((d) => signDigest(ec.privateKey, { hash: 'sha256' }, d, W)));
  signatures.forEach((s, i) => assert.equal(verify('sha256', Buffer.from(`m${i}`), ec.publicKey, s), true));
  const checks = await Promise.all(digests.map((d, i) => verifyDigest(ec.publicKey, { hash: 'sha256' }, d, signatures[(i + 1) % 12], W)));
  assert.deepEqual(checks, digests.map(() => false));
});

test('a helper process that dies fails its calls with KMS.0105, and the next call starts a new one', async () => {
  const digest = createHash('sha256').update('m').digest();
  await signDigest(ec.privateKey, { hash: 'sha256' }, digest, W);
  const first = helperProcess();
  const call = signDigest(ec.privateKey, { hash: 'sha256' }, digest, W);
  first?.kill('SIGKILL');
  await assert.rejects(call, (e) => e instanceof KmsError && e.code === 'KMS.0105');
  const signature = await signDigest(ec.privateKey, { hash: 'sha256' }, digest, W);
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
    const ours = await sm2Encrypt(sm2.publicKey, plaintext, W);
    assert.deepEqual(execFileSync('openssl', ['pkeyutl', '-decrypt', '-inkey', join(dir, 'key.pem')], { input: ours }), plaintext);
    const theirs = execFileSync('openssl', ['pkeyutl', '-encrypt', '-pubin', '-inkey', join(dir, 'pub.pem')], { input: plaintext });
    assert.deepEqual(await sm2Decrypt(sm2.privateKey, theirs, W), plaintext);
    const tampered = Buffer.from(theirs);
    tampered[tampered.length - 1] ^= 1;
    assert.equal(await sm2Decrypt(sm2.privateKey, tampered, W), null);
    assert.equal(await sm2Decrypt(generateKeyPairSync('ec', { namedCurve: 'SM2' }).privateKey, theirs, W), null);
    // Cost of one SM2 encryption through the helper (printed for the record, not asserted).
    const started = performance.now();
    for (let i = 0; i < 20; i++) await sm2Encrypt(sm2.publicKey, plaintext, W);
    console.log(`sm2Encrypt: ${((performance.now() - started) / 20).toFixed(1)} ms per call`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("attack replay (issue 20 item 9): one account's burst of DIGEST signs no longer starves another account's single sign", async () => {
  // Before the fair queue, B's call waited behind every call of A's burst (4,500 calls: 14.8 s).
  const digest = createHash('sha256').update('burst').digest();
  const scheme = { hash: 'sha256' };
  let doneA = 0;
  let refusedA = 0;
  const burst = Array.from({ length: 300 }, () => signDigest(ec.privateKey, scheme, digest, { owner: 'A' }).then(
    () => { doneA++; return 'ok'; },
    (e: KmsError) => { refusedA++; return e.code; },
  ));
  const signature = await signDigest(ec.privateKey, scheme, digest, { owner: 'B' });
  const [doneBeforeB, refusedBeforeB] = [doneA, refusedA];
  assert.equal(verify('sha256', Buffer.from('burst'), ec.publicKey, signature), true);
  const results = await Promise.all(burst);
  // B ran at the first free slot: at most the calls running then (and those that finished while B ran) went first.
  assert.ok(doneBeforeB <= 2 * QUEUE.slots, `${doneBeforeB} of A's calls finished before B's one`);
  // Bounded: A's calls beyond its share of the line were refused at once (before B's call ended), as KMS.0105;
  // on a slow machine some that waited longer than QUEUE_WAIT_MS are dropped too.
  assert.ok(refusedBeforeB >= 300 - QUEUE.slots - QUEUE.perOwner, `${refusedBeforeB} refused at once`);
  assert.ok(results.filter((r) => r === 'ok').length <= QUEUE.slots + QUEUE.perOwner);
  assert.deepEqual(new Set(results), new Set(['ok', 'KMS.0105']));
  assert.deepEqual([pkeyutlQueue().waiting, pkeyutlQueue().running], [0, 0]);
});

test('a call whose client went away while it waited is dropped unrun (KMS.0105), and its place goes to the next', async () => {
  const digest = createHash('sha256').update('gone').digest();
  const scheme = { hash: 'sha256' };
  const burst = Array.from({ length: QUEUE.slots + 10 }, () => signDigest(ec.privateKey, scheme, digest, { owner: 'A' }));
  const client = new AbortController();
  const gone = signDigest(ec.privateKey, scheme, digest, { owner: 'C', signal: client.signal });
  assert.equal(pkeyutlQueue().waiting, 11);
  client.abort();
  await assert.rejects(gone, (e) => e instanceof KmsError && e.code === 'KMS.0105');
  assert.equal(pkeyutlQueue().waiting, 10);
  for (const s of await Promise.all(burst)) assert.equal(verify('sha256', Buffer.from('gone'), ec.publicKey, s), true);
});
