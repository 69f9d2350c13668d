import { randomFillSync, type KeyObject } from 'node:crypto';
import { CipherId, NONCE_BYTES, TAG_BYTES, aeadOpen, aeadSeal, type CipherIdValue } from './ciphers.ts';

/**
 * The ciphertext envelope of encrypt-data and of data keys. It carries the key id and the
 * material version, so decrypt-data needs no key_id and ciphertexts made before a rotation
 * still open. Every byte before the ciphertext is authenticated with it, together with the
 * caller's additional authenticated data.
 *
 *   0   1   format (1)
 *   1   1   cipher (1 AES-256-GCM, 2 SM4-CTR+HMAC-SM3)
 *   2   36  key id, ASCII
 *   38  4   material version, big-endian
 *   42  12  nonce
 *   54  2   padding length P, big-endian
 *   56  P   zero padding, so that an envelope is at least 96 bytes (base64 >= 128 characters,
 *           the lower bound decrypt-data's cipher_text must meet)
 *   56+P n  ciphertext
 *   end 16  tag
 */
const FORMAT = 1;
const HEADER = 56;
const KEY_ID = /^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$/;
export const MIN_ENVELOPE_BYTES = 96;

export interface Envelope {
  cipher: CipherIdValue;
  keyId: string;
  version: number;
  nonce: Buffer;
  /** Everything before the ciphertext: authenticated as additional data. */
  header: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

// Nonces come from a pool of random bytes refilled 4 KiB at a time (one call into OpenSSL per
// 341 nonces instead of one per seal, as node does for randomUUID); each is used once.
const noncePool = Buffer.alloc(NONCE_BYTES * 341);
let noncePoolAt = noncePool.length;

/** Writes a fresh nonce into `into` at `offset` and returns it (a view of those bytes). */
function writeNonce(into: Buffer, offset: number): Buffer {
  if (noncePoolAt + NONCE_BYTES > noncePool.length) {
    randomFillSync(noncePool);
    noncePoolAt = 0;
  }
  noncePool.copy(into, offset, noncePoolAt, noncePoolAt + NONCE_BYTES);
  noncePoolAt += NONCE_BYTES;
  return into.subarray(offset, offset + NONCE_BYTES);
}

export function seal(cipher: CipherIdValue, keyId: string, version: number, material: KeyObject, plaintext: Buffer, aad: Buffer): Buffer {
  const padding = Math.max(0, MIN_ENVELOPE_BYTES - HEADER - TAG_BYTES - plaintext.length);
  const header = Buffer.alloc(HEADER + padding);
  header[0] = FORMAT;
  header[1] = cipher;
  header.write(keyId, 2, 36, 'latin1');
  header.writeUInt32BE(version, 38);
  const nonce = writeNonce(header, 42);
  header.writeUInt16BE(padding, 54);
  const sealed = aeadSeal(cipher, material, nonce, plaintext, Buffer.concat([header, aad]));
  return Buffer.concat([header, sealed.ciphertext, sealed.tag]);
}

/** Reads an envelope's fields, or null when the bytes are not one. Nothing is verified yet. */
export function parse(bytes: Buffer): Envelope | null {
  if (bytes.length < HEADER + TAG_BYTES || bytes[0] !== FORMAT) return null;
  const cipher = bytes[1];
  if (cipher !== CipherId.aes256gcm && cipher !== CipherId.sm4ctrHmacSm3) return null;
  const keyId = bytes.toString('latin1', 2, 38);
  if (!KEY_ID.test(keyId)) return null;
  const padding = bytes.readUInt16BE(54);
  if (HEADER + padding + TAG_BYTES > bytes.length) return null;
  const header = bytes.subarray(0, HEADER + padding);
  if (header.subarray(HEADER).some((b) => b !== 0)) return null;
  return {
    cipher,
    keyId,
    version: bytes.readUInt32BE(38),
    nonce: bytes.subarray(42, 54),
    header,
    ciphertext: bytes.subarray(HEADER + padding, bytes.length - TAG_BYTES),
    tag: bytes.subarray(bytes.length - TAG_BYTES),
  };
}

/** The plaintext, or null when anything (bytes, key material, additional data) does not match. */
export function open(envelope: Envelope, material: KeyObject, aad: Buffer): Buffer | null {
  return aeadOpen(envelope.cipher, material, envelope.nonce, { ciphertext: envelope.ciphertext, tag: envelope.tag }, Buffer.concat([envelope.header, aad]));
}
