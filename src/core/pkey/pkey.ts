import { createHash, type KeyObject } from 'node:crypto';
import { KmsError, kms } from '../errors.ts';
import { DECISIONS } from '../decisions.ts';
import { FairQueue, runFor, type WorkFor } from './fair-queue.ts';
import { nativeCrypto, type NativeCrypto, type NativeKey } from './native.ts';
import { nobleServes, nobleSign, nobleVerify } from './noble.ts';
import * as pkeyutl from './pkeyutl.ts';

export type { WorkFor } from './fair-queue.ts';
export type { DigestScheme } from './pkeyutl.ts';
type DigestScheme = pkeyutl.DigestScheme;

/**
 * What node:crypto cannot do, in one place: signatures over a digest the caller computed
 * (sign / verify with message_type DIGEST: ECDSA, RSASSA-PSS, SM2; node:crypto always hashes what
 * it signs) and SM2 public-key encryption (node:crypto's publicEncrypt refuses SM2 keys).
 * RSASSA-PKCS1-v1_5 needs none of this (asymmetric.ts: privateEncrypt of the DigestInfo).
 *
 * Who does the work, the first that is there:
 *   1. the kmsd-crypto addon (native.ts): OpenSSL's EVP_PKEY_* inside kmsd, synchronously, in
 *      microseconds (ECDSA) to a fraction of a millisecond (RSA-2048, SM2), like node:crypto's own
 *      RAW signatures; nothing waits, so there is no queue to starve in;
 *   2. for ECDSA only, @noble/curves (noble.ts), audited pure JavaScript (~0.8 ms a signature,
 *      ~2.5 ms a verification, on the event loop): one call at a time in a fair line like the
 *      command line's, yielding to the event loop before each, so other requests are read between;
 *   3. the `openssl` command line (pkeyutl.ts), behind a bounded queue with a fair share per
 *      account; the only fallback for RSASSA-PSS and SM2, which have no audited pure-JS one.
 * Any failure is DECISIONS.signerFailed (KMS.0105); verification answers false for a signature
 * that is not valid, whatever its shape.
 */
export class DigestCrypto {
  readonly native: NativeCrypto | null;
  /** The addon's handle of each key it was given (OpenSSL parses a key once, not per call). */
  readonly #handles = new WeakMap<KeyObject, NativeKey>();

  constructor(native: NativeCrypto | null) {
    this.native = native;
  }

  /** Which implementation serves DIGEST signatures here. */
  get backend(): 'native' | 'fallback' {
    return this.native ? 'native' : 'fallback';
  }

  #handle(native: NativeCrypto, key: KeyObject): NativeKey {
    let handle = this.#handles.get(key);
    if (handle === undefined) {
      const isPrivate = key.type === 'private';
      const der = isPrivate ? key.export({ type: 'pkcs8', format: 'der' }) : key.export({ type: 'spki', format: 'der' });
      try {
        handle = native.importKey(der, isPrivate);
      } finally {
        der.fill(0);
      }
      this.#handles.set(key, handle);
    }
    return handle;
  }

  /** A signature over `digest` with the private key (DER for ECDSA and SM2). */
  async signDigest(privateKey: KeyObject, scheme: DigestScheme, digest: Buffer, work: WorkFor): Promise<Buffer> {
    const { native } = this;
    if (native) return nativeCall(() => native.sign(this.#handle(native, privateKey), scheme.hash, scheme.pss === true, digest));
    if (!scheme.pss && (await nobleServes(privateKey))) {
      if (digest.length !== hashLength(scheme.hash)) throw failed();
      return inNobleTurn(work, () => nobleSign(privateKey, digest));
    }
    return pkeyutl.signDigest(privateKey, scheme, digest, work);
  }

  /** Whether `signature` is valid over `digest` under the public key. */
  async verifyDigest(publicKey: KeyObject, scheme: DigestScheme, digest: Buffer, signature: Buffer, work: WorkFor): Promise<boolean> {
    const { native } = this;
    if (native) return nativeCall(() => native.verify(this.#handle(native, publicKey), scheme.hash, scheme.pss === true, digest, signature));
    if (!scheme.pss && (await nobleServes(publicKey))) {
      return digest.length === hashLength(scheme.hash) && inNobleTurn(work, () => nobleVerify(publicKey, digest, signature));
    }
    return pkeyutl.verifyDigest(publicKey, scheme, digest, signature, work);
  }

  /** SM2 encryption with SM3 (GM/T 0003.4), as GM/T 0009 DER (C1 C3 C2), OpenSSL's form. */
  async sm2Encrypt(publicKey: KeyObject, plaintext: Buffer, work: WorkFor): Promise<Buffer> {
    const { native } = this;
    if (native) return nativeCall(() => native.encrypt(this.#handle(native, publicKey), plaintext));
    return pkeyutl.sm2Encrypt(publicKey, plaintext, work);
  }

  /** The plaintext of an SM2 ciphertext, or null when OpenSSL refuses the ciphertext. */
  async sm2Decrypt(privateKey: KeyObject, ciphertext: Buffer, work: WorkFor): Promise<Buffer | null> {
    const { native } = this;
    if (native) return nativeCall(() => native.decrypt(this.#handle(native, privateKey), ciphertext));
    return pkeyutl.sm2Decrypt(privateKey, ciphertext, work);
  }
}

const failed = (): Error => kms(DECISIONS.signerFailed);

/** The @noble/curves fallback's line: one call at a time per event loop, fair between accounts. */
export const NOBLE_QUEUE = { slots: 1, perOwner: DECISIONS.digestCrypto.perAccount, total: DECISIONS.digestCrypto.total } as const;
const nobleQueue = new FairQueue(NOBLE_QUEUE);

/** The line (for the tests). */
export const nobleLine = (): FairQueue => nobleQueue;

async function inNobleTurn<T>(work: WorkFor, fn: () => Promise<T>): Promise<T> {
  try {
    return await runFor(nobleQueue, work, pkeyutl.QUEUE_WAIT_MS, async () => {
      await new Promise((resolve) => setImmediate(resolve)); // what arrived meanwhile is read first
      return fn();
    });
  } catch (error) {
    throw error instanceof KmsError ? error : failed(); // refused, dropped, or the library failed
  }
}

const hashLength = (hash: string): number => createHash(hash).digest().length;

function nativeCall<T>(call: () => T): T {
  try {
    return call();
  } catch {
    throw failed(); // OpenSSL refused (a digest of the wrong length, a key it cannot use)
  }
}

let current: DigestCrypto | undefined;

/** This thread's DigestCrypto: the addon if it loads here (see native.ts), else the fallbacks. */
export function digestCrypto(): DigestCrypto {
  const native = nativeCrypto();
  if (current?.native !== native) current = new DigestCrypto(native);
  return current;
}
