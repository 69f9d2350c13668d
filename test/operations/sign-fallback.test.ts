import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHash, createPublicKey, verify } from 'node:crypto';
import { request } from 'node:http';
import { newKey, signedHeaders, startWorld, type World } from '../harness.ts';
import { digestCrypto } from '../../src/core/pkey/pkey.ts';
import { QUEUE, pkeyutlQueue } from '../../src/core/pkey/pkeyutl.ts';

/**
 * `--native-crypto none`: no kmsd-crypto addon, the fallbacks serve DIGEST signatures (@noble/curves
 * for ECDSA, `openssl pkeyutl` for RSASSA-PSS and SM2) — and the command line's calls wait in a
 * bounded queue with a fair share per account, dropping those whose client went away
 * (issue 20 item 9, replayed here over HTTP).
 */
let world: World;
before(async () => {
  world = await startWorld({ config: { nativeCrypto: 'none' } });
});
after(() => world.close());

const b64 = (b: Buffer): string => b.toString('base64');
const digest = (text: string) => createHash('sha256').update(text).digest();

async function publicKeyOf(keyId: string) {
  return createPublicKey((await world.as('alice').kms('get-publickey', { key_id: keyId })).body.public_key);
}

test('the server runs without the addon; DIGEST signatures by the fallbacks verify with node:crypto', async () => {
  assert.equal(digestCrypto().backend, 'fallback');
  const alice = world.as('alice');
  for (const [spec, algorithm, options] of [
    ['EC_P256', 'ECDSA_SHA_256', {}],
    ['RSA_2048', 'RSASSA_PSS_SHA_256', { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }],
  ] as const) {
    const keyId = await newKey(alice, { key_spec: spec, key_usage: 'SIGN_VERIFY' });
    const r = await alice.kms('sign', { key_id: keyId, message: b64(digest('fallback')), signing_algorithm: algorithm });
    assert.equal(r.status, 200, r.text);
    assert.equal(verify('sha256', Buffer.from('fallback'), { key: await publicKeyOf(keyId), ...options }, Buffer.from(r.body.signature, 'base64')), true);
    const v = await alice.kms('verify', { key_id: keyId, message: b64(digest('fallback')), signature: r.body.signature, signing_algorithm: algorithm });
    assert.deepEqual(v.body, { key_id: keyId, signature_valid: 'true' });
  }
});

/** Waits (polling) until `ready()`; past 20 s fails, saying what it waited for. */
async function until(ready: () => boolean, what: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!ready()) {
    if (Date.now() > deadline) assert.fail(`waited 20 s for ${what()}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/**
 * A sign request over HTTP, signed now and sent by send() (so that a burst goes out at once, even on
 * a busy machine), which can be abandoned (the socket destroyed) before its answer.
 */
function signRequest(user: string, keyId: string, text: string) {
  const u = world.users[user];
  const path = `/v1.0/${u.projectId}/kms/sign`;
  const body = JSON.stringify({ key_id: keyId, message: b64(digest(text)), signing_algorithm: 'RSASSA_PSS_SHA_256' });
  const headers = { 'Content-Type': 'application/json' };
  Object.assign(headers, signedHeaders(world.url, 'POST', path, u, headers, body));
  const req = request(`${world.url}${path}`, { method: 'POST', headers, agent: false });
  // The status, or for a refusal the status and the body (to say why in a failure).
  const answer = new Promise<string>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve(res.statusCode === 200 ? '200' : `${res.statusCode} ${text}`));
    });
    req.on('error', reject);
  });
  return { send: () => { req.end(body); return answer; }, abandon: () => req.destroy() };
}

test("attack replay: one account's burst of DIGEST signs does not starve another account's, and an abandoned call is dropped unrun", async () => {
  const acmeKey = await newKey(world.as('alice'), { key_spec: 'RSA_2048', key_usage: 'SIGN_VERIFY' });
  const globexKey = await newKey(world.as('boss'), { key_spec: 'RSA_2048', key_usage: 'SIGN_VERIFY' });
  const queue = pkeyutlQueue();
  const [acme, globex] = [world.users.alice.accountId, world.users.boss.accountId];
  // Every slot held (the server runs in this process), so the whole burst is in line before anything runs.
  const releases: Array<() => void> = [];
  const blockers = Array.from({ length: QUEUE.slots }, () => queue.run('blocker', () => new Promise<void>((resolve) => releases.push(resolve))));
  let acmeDone = 0;
  // Small enough that none waits QUEUE_WAIT_MS even on a busy machine (each openssl call can take 0.5 s there).
  const BURST = 24;
  const requests = Array.from({ length: BURST }, (_, i) => signRequest('alice', acmeKey, `burst ${i}`));
  const burst = requests.map((r) => r.send().then((status) => { acmeDone++; return status; }));
  const gone = signRequest('alice', acmeKey, 'gone');
  const abandoned = gone.send();
  await until(() => queue.waitingFor(acme) === BURST + 1, () => `acme's ${BURST + 1} calls in line (${queue.waitingFor(acme)})`);
  // The last call's client goes away while it waits: it leaves the line and never runs.
  const dropped = queue.dropped;
  gone.abandon();
  await assert.rejects(abandoned);
  await until(() => queue.dropped === dropped + 1, () => 'the abandoned call to leave the line');
  assert.equal(queue.waitingFor(acme), BURST);
  // globex's one call, asked after acme's burst: answered in the first round of free slots.
  const alone = world.as('boss').kms('sign', { key_id: globexKey, message: b64(digest('alone')), signing_algorithm: 'RSASSA_PSS_SHA_256' });
  await until(() => queue.waitingFor(globex) === 1, () => "globex's call in line");
  for (const release of releases) release();
  await Promise.all(blockers);
  const answer = await alone;
  assert.equal(answer.status, 200, answer.text);
  assert.ok(acmeDone <= 2 * QUEUE.slots, `${acmeDone} of acme's ${BURST} calls were answered before globex's one`);
  assert.deepEqual(new Set(await Promise.all(burst)), new Set(['200']));
  assert.deepEqual([queue.waiting, queue.running], [0, 0]);
});
