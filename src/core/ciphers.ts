import { createCipheriv, createDecipheriv, createHmac, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * The authenticated ciphers that protect data under a key's material, all from node:crypto.
 * AES_256 keys use AES-256-GCM. OpenSSL (and so Node) has no SM4-GCM, so SM4 keys use
 * SM4-CTR with HMAC-SM3 over everything authenticated (encrypt-then-MAC), with an
 * encryption key and a MAC key derived from the material by HKDF-SM3; the tag is cut to
 * 16 bytes to match GCM's.
 */
export const CipherId = { aes256gcm: 1, sm4ctrHmacSm3: 2 } as const;
export type CipherIdValue = (typeof CipherId)[keyof typeof CipherId];

export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

export function cipherForSpec(spec: string): CipherIdValue {
  return spec === 'SM4' ? CipherId.sm4ctrHmacSm3 : CipherId.aes256gcm;
}

export interface Sealed {
  ciphertext: Buffer;
  tag: Buffer;
}

function sm4Keys(material: KeyObject): { enc: Buffer; mac: Buffer } {
  return {
    enc: Buffer.from(hkdfSync('sm3', material, Buffer.alloc(0), 'kmsd sm4-ctr', 16)),
    mac: Buffer.from(hkdfSync('sm3', material, Buffer.alloc(0), 'kmsd hmac-sm3', 32)),
  };
}

const ctrIv = (nonce: Buffer): Buffer => Buffer.concat([nonce, Buffer.alloc(4)]);

function sm4Tag(mac: Buffer, aad: Buffer, nonce: Buffer, ciphertext: Buffer): Buffer {
  const lengths = Buffer.alloc(8);
  lengths.writeUInt32BE(aad.length, 0);
  lengths.writeUInt32BE(ciphertext.length, 4);
  return createHmac('sm3', mac).update(lengths).update(aad).update(nonce).update(ciphertext).digest().subarray(0, TAG_BYTES);
}

export function aeadSeal(cipher: CipherIdValue, material: KeyObject, nonce: Buffer, plaintext: Buffer, aad: Buffer): Sealed {
  if (cipher === CipherId.aes256gcm) {
    const c = createCipheriv('aes-256-gcm', material, nonce);
    c.setAAD(aad);
    const ciphertext = Buffer.concat([c.update(plaintext), c.final()]);
    return { ciphertext, tag: c.getAuthTag() };
  }
  const { enc, mac } = sm4Keys(material);
  const c = createCipheriv('sm4-ctr', enc, ctrIv(nonce));
  const ciphertext = Buffer.concat([c.update(plaintext), c.final()]);
  return { ciphertext, tag: sm4Tag(mac, aad, nonce, ciphertext) };
}

/** The plaintext, or null when the ciphertext, tag or additional data do not match. */
export function aeadOpen(cipher: CipherIdValue, material: KeyObject, nonce: Buffer, sealed: Sealed, aad: Buffer): Buffer | null {
  if (cipher === CipherId.aes256gcm) {
    try {
      const d = createDecipheriv('aes-256-gcm', material, nonce);
      d.setAAD(aad);
      d.setAuthTag(sealed.tag);
      return Buffer.concat([d.update(sealed.ciphertext), d.final()]);
    } catch {
      return null;
    }
  }
  const { enc, mac } = sm4Keys(material);
  const expected = sm4Tag(mac, aad, nonce, sealed.ciphertext);
  if (sealed.tag.length !== TAG_BYTES || !timingSafeEqual(expected, sealed.tag)) return null;
  const d = createDecipheriv('sm4-ctr', enc, ctrIv(nonce));
  return Buffer.concat([d.update(sealed.ciphertext), d.final()]);
}
