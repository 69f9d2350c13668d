import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { siblingEntry } from '../../package-root.ts';
import type { KeyObject } from 'node:crypto';
import { kms } from '../errors.ts';
import { DECISIONS } from '../decisions.ts';
import { ENV, MAX_RUNNING, TIMEOUT_MS, fifoArg, type Outcome, type Reply, type Request } from './pkeyutl-worker.ts';
import { FairQueue, runFor, type WorkFor } from './fair-queue.ts';

/**
 * The LAST fallback of pkey.ts, used only where the kmsd-crypto addon does not load: signatures
 * over a digest the caller computed for RSASSA-PSS and SM2 (and ECDSA, should @noble/curves be
 * missing), and SM2_ENCRYPT, by OpenSSL's own `openssl pkeyutl`, which signs its input as a
 * digest (EVP_PKEY_sign). No audited pure-JS implementation of RSASSA-PSS over a given digest or
 * of SM2 exists to fall back on instead, and kmsd never hand-rolls a primitive.
 *
 * Calls wait in a bounded queue with a fair share per account (fair-queue.ts): QUEUE slots at
 * once, as many as the helper runs; a call whose client went away or that waited QUEUE_WAIT_MS
 * leaves the line unrun; a full line is refused at once (DECISIONS.signerFailed, KMS.0105).
 *
 * openssl runs one process per call, spawned by a small helper process (pkeyutl-worker.ts,
 * started at the first call and again after it dies) so that kmsd itself never forks: the key,
 * digest and signature go to it over its IPC channel and on to openssl through pipes only.
 * Verification gets only the PUBLIC key. Any failure (no helper, no openssl, a timeout, an
 * OpenSSL error) is DECISIONS.signerFailed.
 */

export interface DigestScheme {
  /** OpenSSL's name of the digest the input is: sha256, sha384, sha512, sm3. */
  hash: string;
  /** RSASSA-PSS (MGF1 with the same hash); otherwise the key's own scheme (ECDSA, SM2). */
  pss?: boolean;
}

const options = (scheme: DigestScheme, verify: boolean): string[] => [
  ...(scheme.pss
    ? ['-pkeyopt', 'rsa_padding_mode:pss', '-pkeyopt', `rsa_pss_saltlen:${verify ? 'auto' : 'digest'}`]
    : []),
  '-pkeyopt', `digest:${scheme.hash}`,
];

const WORKER = fileURLToPath(siblingEntry(import.meta.url, './pkeyutl-worker.ts', 'pkeyutl-worker'));

interface Pending { worker: ChildProcess; resolve: (o: Outcome) => void; timer: NodeJS.Timeout }

let worker: ChildProcess | undefined;
let nextId = 0;
const pending = new Map<number, Pending>();
const FAILED: Outcome = { code: null, stdout: Buffer.alloc(0) };
const failed = (): Error => kms(DECISIONS.signerFailed);

/** The helper process, if one runs (for the tests). */
export const helperProcess = (): ChildProcess | undefined => worker;

/** The helper keeps kmsd alive only while a call waits on it. */
function holdOpen(w: ChildProcess, hold: boolean): void {
  if (hold) w.channel?.ref();
  else w.channel?.unref();
}

function answered(id: number, outcome: Outcome): void {
  const p = pending.get(id);
  if (!p) return;
  pending.delete(id);
  clearTimeout(p.timer);
  if (![...pending.values()].some((q) => q.worker === p.worker)) holdOpen(p.worker, false);
  p.resolve(outcome);
}

function helper(): ChildProcess {
  if (worker?.connected) return worker;
  const w = fork(WORKER, ['--serve'], {
    serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [], env: ENV,
  });
  w.on('message', (m: Reply) => answered(m.id, { code: m.code, stdout: Buffer.from(m.stdout) }));
  const lost = () => {
    if (worker === w) worker = undefined;
    for (const [id, p] of pending) if (p.worker === w) answered(id, FAILED);
  };
  w.on('error', lost);
  w.on('exit', lost);
  w.on('disconnect', lost);
  w.unref();
  holdOpen(w, false);
  worker = w;
  return w;
}

/** At most this many calls wait per account, and in all, per event loop. */
export const QUEUE = { slots: MAX_RUNNING, perOwner: DECISIONS.digestCrypto.perAccount, total: DECISIONS.digestCrypto.total } as const;
export const QUEUE_WAIT_MS = DECISIONS.digestCrypto.waitMs;
const queue = new FairQueue(QUEUE);

/** The queue (for the tests). */
export const pkeyutlQueue = (): FairQueue => queue;

/** Runs `openssl pkeyutl <args>` in its turn; refused, dropped or failed: DECISIONS.signerFailed. */
async function pkeyutl(work: WorkFor, args: string[], digest: Buffer, fed: Buffer[]): Promise<Outcome> {
  try {
    return await runFor(queue, work, QUEUE_WAIT_MS, () => inHelper(args, digest, fed));
  } catch {
    throw failed();
  }
}

/** Runs `openssl pkeyutl <args>` in the helper: `digest` on its stdin, `fed[i]` through FIFO i. */
function inHelper(args: string[], digest: Buffer, fed: Buffer[]): Promise<Outcome> {
  return new Promise((resolve) => {
    let w: ChildProcess;
    try {
      w = helper();
    } catch {
      resolve(FAILED);
      return;
    }
    const id = ++nextId;
    const timer = setTimeout(() => answered(id, FAILED), TIMEOUT_MS + 5_000);
    timer.unref();
    pending.set(id, { worker: w, resolve, timer });
    holdOpen(w, true);
    // send() serialises the message at once, so the caller may wipe its buffers when this returns.
    const sent = w.send({ id, args, stdin: digest, fed } satisfies Request, (e) => { if (e) answered(id, FAILED); });
    if (!sent && !w.connected) answered(id, FAILED);
  });
}


/** A signature over `digest` with the private key (DER of the signature for ECDSA and SM2). */
export async function signDigest(privateKey: KeyObject, scheme: DigestScheme, digest: Buffer, work: WorkFor): Promise<Buffer> {
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  try {
    const { code, stdout } = await pkeyutl(work, ['-sign', '-keyform', 'DER', '-inkey', fifoArg(0), ...options(scheme, false)], digest, [der]);
    if (code !== 0 || stdout.length === 0) throw failed();
    return stdout;
  } finally {
    der.fill(0);
  }
}

/**
 * Whether `signature` is valid over `digest` under the public key. OpenSSL says which: exit 0
 * "Signature Verified Successfully", exit 1 "Signature Verification Failure" (also for a
 * signature that is not well-formed); anything else is a failure of the process.
 */
export async function verifyDigest(publicKey: KeyObject, scheme: DigestScheme, digest: Buffer, signature: Buffer, work: WorkFor): Promise<boolean> {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const { code, stdout } = await pkeyutl(
    work,
    ['-verify', '-pubin', '-keyform', 'DER', '-inkey', fifoArg(0), '-sigfile', fifoArg(1), ...options(scheme, true)],
    digest, [spki, signature],
  );
  const said = stdout.toString('latin1');
  if (code === 0 && said.includes('Signature Verified Successfully')) return true;
  if (code === 1 && said.includes('Signature Verification Failure')) return false;
  throw failed();
}

/**
 * SM2 public-key encryption (GM/T 0003.4, SM3 as its hash: OpenSSL's default for SM2, no
 * -pkeyopt needed), which node:crypto cannot reach (publicEncrypt fails on SM2 keys). The
 * result is OpenSSL's: GM/T 0009 ASN.1 `SEQUENCE { x INTEGER, y INTEGER, hash OCTET STRING,
 * ciphertext OCTET STRING }` (C1 C3 C2), DER. Only the PUBLIC key goes to the helper; the
 * plaintext goes on openssl's stdin (a pipe).
 */
export async function sm2Encrypt(publicKey: KeyObject, plaintext: Buffer, work: WorkFor): Promise<Buffer> {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const { code, stdout } = await pkeyutl(work, ['-encrypt', '-pubin', '-keyform', 'DER', '-inkey', fifoArg(0)], plaintext, [spki]);
  if (code !== 0 || stdout.length === 0) throw failed();
  return stdout;
}

/**
 * The plaintext of an SM2 ciphertext under the private key, or null when OpenSSL refuses the
 * ciphertext (exit 1: not the DER above, wrong key, C3 hash mismatch). A process that did not
 * run or was killed (no exit code) is DECISIONS.signerFailed, as for signatures.
 */
export async function sm2Decrypt(privateKey: KeyObject, ciphertext: Buffer, work: WorkFor): Promise<Buffer | null> {
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  try {
    const { code, stdout } = await pkeyutl(work, ['-decrypt', '-keyform', 'DER', '-inkey', fifoArg(0)], ciphertext, [der]);
    if (code === null) throw failed();
    return code === 0 ? stdout : null;
  } finally {
    der.fill(0);
  }
}
