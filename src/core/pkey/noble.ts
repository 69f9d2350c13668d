import type { KeyObject } from 'node:crypto';

/**
 * ECDSA over a given digest in pure JavaScript, by @noble/curves (audited, no dependencies):
 * the fallback of pkey.ts for ECDSA (P-256, P-384, secp256k1) where the kmsd-crypto addon does
 * not load. `prehash: false` signs the digest as it is given, as EVP_PKEY_sign does; signatures are
 * DER like OpenSSL's, with hedged nonces (RFC 6979 plus fresh randomness); verification accepts
 * high-S signatures, as OpenSSL does. The library is loaded at its first use only.
 */

type Curve = {
  sign(digest: Uint8Array, secretKey: Uint8Array, opts: object): Uint8Array;
  verify(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array, opts: object): boolean;
};

let curves: Promise<Readonly<Record<string, Curve>>> | undefined;

/** @noble/curves' curve for a node:crypto EC key, keyed by OpenSSL's curve name. */
async function curveOf(key: KeyObject): Promise<Curve | undefined> {
  curves ??= Promise.all([import('@noble/curves/nist.js'), import('@noble/curves/secp256k1.js')]).then(([nist, k1]) => ({
    prime256v1: nist.p256 as unknown as Curve, secp384r1: nist.p384 as unknown as Curve, secp256k1: k1.secp256k1 as unknown as Curve,
  }));
  return (await curves)[key.asymmetricKeyDetails?.namedCurve ?? ''];
}

const bytes = (base64url: string | undefined): Buffer => Buffer.from(base64url ?? '', 'base64url');

/** Whether this fallback serves the key (an ECDSA curve it knows). */
export async function nobleServes(key: KeyObject): Promise<boolean> {
  return key.asymmetricKeyType === 'ec' && (await curveOf(key)) !== undefined;
}

export async function nobleSign(privateKey: KeyObject, digest: Buffer): Promise<Buffer> {
  const curve = (await curveOf(privateKey)) as Curve;
  const secret = bytes(privateKey.export({ format: 'jwk' }).d);
  try {
    return Buffer.from(curve.sign(digest, secret, { prehash: false, format: 'der', extraEntropy: true }));
  } finally {
    secret.fill(0);
  }
}

export async function nobleVerify(publicKey: KeyObject, digest: Buffer, signature: Buffer): Promise<boolean> {
  const curve = (await curveOf(publicKey)) as Curve;
  const { x, y } = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.of(4), bytes(x), bytes(y)]);
  try {
    return curve.verify(signature, digest, point, { prehash: false, format: 'der', lowS: false });
  } catch {
    return false; // not DER, or out of range: simply not valid
  }
}
