import { spawn } from 'node:child_process';
import { closeSync, constants as fsc, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KeyObject } from 'node:crypto';
import { kms } from './errors.ts';
import { DECISIONS } from './decisions.ts';

/**
 * Signatures over a digest the caller computed (sign / verify with message_type DIGEST) for
 * ECDSA, RSASSA-PSS and SM2, by OpenSSL's own `openssl pkeyutl`, which signs its input as a
 * digest (EVP_PKEY_sign). node:crypto cannot: its sign/verify always hash their input, and
 * kmsd never hand-rolls a primitive. (RSASSA-PKCS1-v1_5 over a digest needs no process:
 * privateEncrypt of the DigestInfo is exactly OpenSSL's RSA_sign; see asymmetric.ts.)
 *
 * The process is spawned without a shell. The digest goes through its stdin; the key (and, to
 * verify, the signature) through named pipes (FIFOs, mode 0600, in a private 0700 directory made
 * once per process and removed at exit; made by `mkfifo` in batches and reused, one call at a
 * time each): data only ever passes through the kernel's pipe buffer, never a file.
 * (`-inkey /dev/fd/3` does not work from Node: its child stdio pipes are socketpairs, which Linux
 * refuses to open() through /proc/self/fd.) Verification gets only the PUBLIC key.
 * Any failure of the process (missing binary, timeout, an OpenSSL error) is DECISIONS.signerFailed.
 */

const OPENSSL = 'openssl';
const MKFIFO = 'mkfifo';
const TIMEOUT_MS = 10_000;
/** The child's whole environment: PATH to find the binaries, nothing else (no OPENSSL_CONF, ...). */
const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

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

let directory: string | undefined;
let counter = 0;
/** FIFOs no call is using: no process has them open, so they are empty. */
const idle: string[] = [];
const BATCH = 8;

/** The FIFOs' private directory and the idle ones (for the tests: all idle between calls). */
export const fifoState = (): { directory: string | undefined; idle: readonly string[] } => ({ directory, idle });

function privateDirectory(): string {
  if (directory === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-pkeyutl-')); // mode 0700
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    directory = dir;
  }
  return directory;
}

interface Outcome { code: number | null; stdout: Buffer }

function failed(): Error {
  return kms(DECISIONS.signerFailed);
}

/** Waits for a process; a spawn error or a kill by the timeout is a failure. */
function finished(child: ReturnType<typeof spawn>): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.resume(); // OpenSSL's messages are not kept: nothing secret, nothing needed
    child.on('error', () => resolve({ code: null, stdout: Buffer.alloc(0) }));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out) }));
  });
}

async function takeFifos(count: number): Promise<string[]> {
  while (idle.length < count) {
    const dir = privateDirectory();
    const paths = Array.from({ length: BATCH }, () => join(dir, String(++counter)));
    const child = spawn(MKFIFO, ['-m', '600', '--', ...paths], { stdio: ['ignore', 'ignore', 'pipe'], timeout: TIMEOUT_MS, killSignal: 'SIGKILL', env: ENV });
    const { code } = await finished(child);
    if (code !== 0) {
      for (const p of paths) rmSync(p, { force: true });
      throw failed();
    }
    idle.push(...paths);
  }
  return idle.splice(idle.length - count, count);
}

/**
 * Writes data into a FIFO once the reader has opened it (non-blocking opens, polled, so no
 * thread waits on a reader that may never come), then closes it: the reader sees end of file.
 */
async function feed(path: string, data: Buffer, stopped: () => boolean): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  let fd: number | undefined;
  try {
    while (fd === undefined) {
      try {
        fd = openSync(path, fsc.O_WRONLY | fsc.O_NONBLOCK);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENXIO' || stopped() || Date.now() > deadline) return;
        await sleep(1);
      }
    }
    let offset = 0;
    while (offset < data.length) {
      try {
        offset += writeSync(fd, data, offset);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || stopped() || Date.now() > deadline) return;
        await sleep(1);
      }
    }
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Runs `openssl pkeyutl <args>` with the digest on stdin and each FIFO fed its data. */
async function pkeyutl(args: (fifos: string[]) => string[], digest: Buffer, fed: Buffer[]): Promise<Outcome> {
  const fifos = await takeFifos(fed.length);
  let stopped = false;
  let outcome: Promise<Outcome> | undefined;
  try {
    const child = spawn(OPENSSL, ['pkeyutl', ...args(fifos)], {
      stdio: ['pipe', 'pipe', 'pipe'], timeout: TIMEOUT_MS, killSignal: 'SIGKILL', env: ENV,
    });
    outcome = finished(child).finally(() => { stopped = true; });
    child.stdin?.on('error', () => {}); // EPIPE when OpenSSL stops early: its exit status tells
    child.stdin?.end(digest);
    await Promise.all(fifos.map((path, i) => feed(path, fed[i], () => stopped)));
    return await outcome;
  } finally {
    // Back to the pool only once the process is gone and every writer closed: then they are empty.
    await outcome;
    idle.push(...fifos);
  }
}

/** A signature over `digest` with the private key (DER of the signature for ECDSA and SM2). */
export async function signDigest(privateKey: KeyObject, scheme: DigestScheme, digest: Buffer): Promise<Buffer> {
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  try {
    const { code, stdout } = await pkeyutl(
      ([key]) => ['-sign', '-keyform', 'DER', '-inkey', key, ...options(scheme, false)], digest, [der],
    );
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
export async function verifyDigest(publicKey: KeyObject, scheme: DigestScheme, digest: Buffer, signature: Buffer): Promise<boolean> {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const { code, stdout } = await pkeyutl(
    ([key, sig]) => ['-verify', '-pubin', '-keyform', 'DER', '-inkey', key, '-sigfile', sig, ...options(scheme, true)],
    digest, [spki, signature],
  );
  const said = stdout.toString('latin1');
  if (code === 0 && said.includes('Signature Verified Successfully')) return true;
  if (code === 1 && said.includes('Signature Verification Failure')) return false;
  throw failed();
}
