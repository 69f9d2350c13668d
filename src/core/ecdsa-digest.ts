import { createECDH, randomBytes } from 'node:crypto';

/**
 * ECDSA over a digest the caller already computed (sign / verify with message_type DIGEST).
 * node:crypto only signs messages it hashes itself (its privateEncrypt refuses EC keys), so
 * this file does the one missing step with OpenSSL doing every point multiplication:
 *
 * - sign: the nonce k is uniform in [1, n-1] (randomBytes, by rejection) and OpenSSL computes
 *   kG (createECDH().setPrivateKey(k)); the scalar step s = k⁻¹(e + r·d) mod n is BigInt
 *   arithmetic, blinded with a random factor so that no product ever involves d alone.
 * - verify: kmsd holds the private scalar d, so u1·G + u2·Q = (u1 + u2·d)·G, one base
 *   multiplication by OpenSSL (the scalar blinded the same way).
 *
 * The curves' constants are checked against OpenSSL by src/core/ecdsa-digest.test.ts.
 */
export interface Curve {
  name: string;
  p: bigint;
  a: bigint;
  b: bigint;
  n: bigint;
  bytes: number;
}

const P256P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const P384P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn;

export const CURVES: Readonly<Record<string, Curve>> = {
  prime256v1: {
    name: 'prime256v1', p: P256P, a: P256P - 3n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n, bytes: 32,
  },
  secp384r1: {
    name: 'secp384r1', p: P384P, a: P384P - 3n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n, bytes: 48,
  },
  secp256k1: {
    name: 'secp256k1', p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn, a: 0n, b: 7n,
    n: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n, bytes: 32,
  },
};

const mod = (x: bigint, m: bigint): bigint => ((x % m) + m) % m;

/** Inverse modulo a prime (extended Euclid; a secret operand is always blinded first). */
function inv(x: bigint, m: bigint): bigint {
  let [a, b, u, v] = [mod(x, m), m, 1n, 0n];
  while (a !== 0n) {
    const q = b / a;
    [a, b] = [b - q * a, a];
    [u, v] = [v - q * u, u];
  }
  return mod(v, m);
}

export const toBig = (bytes: Buffer): bigint => (bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`));
export const toBytes = (x: bigint, length: number): Buffer => Buffer.from(x.toString(16).padStart(length * 2, '0'), 'hex');

/** The digest as an integer, cut to the bit length of n (FIPS 186-4 §6.4). */
function digestInteger(curve: Curve, digest: Buffer): bigint {
  const e = toBig(digest);
  const excess = digest.length * 8 - curve.n.toString(2).length;
  return excess > 0 ? e >> BigInt(excess) : e;
}

// DER encoding of an ECDSA signature: SEQUENCE { INTEGER r, INTEGER s }.
function derInteger(x: bigint): Buffer {
  let bytes = Buffer.from(x.toString(16).padStart(2, '0').replace(/^(.(..)*)$/, '0$1'), 'hex');
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

function derLength(n: number): Buffer {
  return n < 0x80 ? Buffer.from([n]) : Buffer.from([0x81, n]);
}

export function derSignature(r: bigint, s: bigint): Buffer {
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

/** (r, s) from a DER signature, or null when the bytes are not exactly one. */
export function parseDerSignature(sig: Buffer): { r: bigint; s: bigint } | null {
  let at = 0;
  const length = (): number => {
    const first = sig[at++];
    if (first === undefined) return -1;
    if (first < 0x80) return first;
    if (first !== 0x81) return -1;
    const n = sig[at++];
    return n === undefined || n < 0x80 ? -1 : n;
  };
  if (sig[at++] !== 0x30) return null;
  if (length() !== sig.length - at) return null;
  const ints: bigint[] = [];
  for (let i = 0; i < 2; i++) {
    if (sig[at++] !== 0x02) return null;
    const n = length();
    if (n < 1 || at + n > sig.length) return null;
    ints.push(toBig(sig.subarray(at, at + n)));
    at += n;
  }
  if (at !== sig.length) return null;
  return { r: ints[0], s: ints[1] };
}

/** A random scalar in [1, n-1]. */
function randomScalar(curve: Curve): bigint {
  for (;;) {
    const x = toBig(randomBytes(curve.bytes + 8)) % curve.n;
    if (x !== 0n) return x;
  }
}

/** ECDSA signature (DER) of `digest` with private scalar d. */
export function signDigest(curve: Curve, d: bigint, digest: Buffer): Buffer {
  const e = digestInteger(curve, digest);
  const { n } = curve;
  for (;;) {
    // The nonce: uniform in [1, n-1] by rejection; OpenSSL computes kG.
    const kBytes = randomBytes(curve.bytes);
    const k = toBig(kBytes);
    if (k === 0n || k >= n) continue;
    const ecdh = createECDH(curve.name);
    ecdh.setPrivateKey(kBytes);
    kBytes.fill(0);
    const point = ecdh.getPublicKey();
    const r = toBig(point.subarray(1, 1 + curve.bytes)) % n;
    if (r === 0n) continue;
    // s = k⁻¹ (e + r·d) = (b·k)⁻¹ · (b·e + (b·r)·d), b a fresh random blinding factor.
    const b = randomScalar(curve);
    const s = (inv((b * k) % n, n) * (((b * e) % n + ((b * r) % n) * d) % n)) % n;
    if (s !== 0n) return derSignature(r, s);
  }
}

/** x(t·G) mod n for a scalar t in [1, n-1], OpenSSL doing the multiplication. */
function xOfBaseMultiple(curve: Curve, t: bigint): bigint {
  const ecdh = createECDH(curve.name);
  ecdh.setPrivateKey(toBytes(t, curve.bytes));
  return toBig(ecdh.getPublicKey().subarray(1, 1 + curve.bytes)) % curve.n;
}

/**
 * Whether `signature` (DER) is a valid ECDSA signature of `digest` under the key whose private
 * scalar is d. kmsd holds the private key, so the verification point u1·G + u2·Q is one base
 * multiplication: (u1 + u2·d)·G, the scalar blinded as in signDigest.
 */
export function verifyDigest(curve: Curve, d: bigint, digest: Buffer, signature: Buffer): boolean {
  const parsed = parseDerSignature(signature);
  if (!parsed) return false;
  const { r, s } = parsed;
  const { n } = curve;
  if (r < 1n || r >= n || s < 1n || s >= n) return false;
  const e = digestInteger(curve, digest);
  const w = inv(s, n);
  const u1 = (e * w) % n;
  const u2 = (r * w) % n;
  const b = randomScalar(curve);
  const t = (inv(b, n) * (((b * u1) % n + ((b * u2) % n) * d) % n)) % n;
  return t !== 0n && xOfBaseMultiple(curve, t) === r;
}
