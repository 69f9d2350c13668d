import { randomFillSync, type KeyObject } from 'node:crypto';
import { CipherId, NONCE_BYTES, TAG_BYTES, aeadOpen, aeadSeal, type CipherIdValue } from './ciphers.ts';

/**
 * The ciphertext envelope of encrypt-data and of data keys. It carries the key id and the
 * material version, so decrypt-data needs no key_id and ciphertexts made before a rotation
 * still open, and it says what it holds: data (encrypt-data) or a data key (create-datakey,
 * encrypt-datakey), so that decrypt-data never opens a data key and decrypt-datakey never
 * opens data (a grant may hand out one without the other). Every byte before the ciphertext
 * is authenticated with it, together with the caller's additional authenticated data.
 *
 *   0   1   format (2)
 *   1   1   kind (1 data, 2 data key, 3 CSMS secret value)
 *   2   1   cipher (1 AES-256-GCM, 2 SM4-CTR+HMAC-SM3)
 *   3   36  key id, ASCII
 *   39  4   material version, big-endian
 *   43  12  nonce
 *   55  2   padding length P, big-endian
 *   57  P   zero padding, so that an envelope is at least 96 bytes (base64 >= 128 characters,
 *           the lower bound decrypt-data's cipher_text must meet)
 *   57+P n  ciphertext
 *   end 16  tag
 *
 * Format 1, which kmsd wrote before, is the same without the kind byte (cipher at 1, key id at
 * 2, version at 38, nonce at 42, padding length at 54, header 56 bytes). It still opens, as
 * `kind: null`, in both decrypt operations unless legacy envelopes are turned off.
 */
const FORMAT = 2;
const LEGACY_FORMAT = 1;
const KEY_ID = /^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$/;
export const MIN_ENVELOPE_BYTES = 96;

/**
 * What an envelope holds. A secret value (CSMS, core/secrets/) is its own kind, so decrypt-data
 * never opens a secret value and a secret version never opens a decrypt-data ciphertext.
 */
export const EnvelopeKind = { data: 1, dataKey: 2, secret: 3 } as const;
export type EnvelopeKindValue = (typeof EnvelopeKind)[keyof typeof EnvelopeKind];

/** Where the fields sit in each format. */
const LAYOUT = {
  [FORMAT]: { cipher: 2, keyId: 3, version: 39, nonce: 43, padding: 55, header: 57 },
  [LEGACY_FORMAT]: { cipher: 1, keyId: 2, version: 38, nonce: 42, padding: 54, header: 56 },
} as const;

export interface Envelope {
  /** What it holds; null for a format-1 envelope, which does not say. */
  kind: EnvelopeKindValue | null;
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

export function seal(
  kind: EnvelopeKindValue, cipher: CipherIdValue, keyId: string, version: number, material: KeyObject, plaintext: Buffer, aad: Buffer,
): Buffer {
  const at = LAYOUT[FORMAT];
  const padding = Math.max(0, MIN_ENVELOPE_BYTES - at.header - TAG_BYTES - plaintext.length);
  const header = Buffer.alloc(at.header + padding);
  header[0] = FORMAT;
  header[1] = kind;
  header[at.cipher] = cipher;
  header.write(keyId, at.keyId, 36, 'latin1');
  header.writeUInt32BE(version, at.version);
  const nonce = writeNonce(header, at.nonce);
  header.writeUInt16BE(padding, at.padding);
  const sealed = aeadSeal(cipher, material, nonce, plaintext, Buffer.concat([header, aad]));
  return Buffer.concat([header, sealed.ciphertext, sealed.tag]);
}

/** Reads an envelope's fields, or null when the bytes are not one. Nothing is verified yet. */
export function parse(bytes: Buffer): Envelope | null {
  const format = bytes[0];
  if (format !== FORMAT && format !== LEGACY_FORMAT) return null;
  const at = LAYOUT[format];
  if (bytes.length < at.header + TAG_BYTES) return null;
  const kind = format === FORMAT ? bytes[1] : null;
  if (kind !== null && kind !== EnvelopeKind.data && kind !== EnvelopeKind.dataKey && kind !== EnvelopeKind.secret) return null;
  const cipher = bytes[at.cipher];
  if (cipher !== CipherId.aes256gcm && cipher !== CipherId.sm4ctrHmacSm3) return null;
  const keyId = bytes.toString('latin1', at.keyId, at.keyId + 36);
  if (!KEY_ID.test(keyId)) return null;
  const padding = bytes.readUInt16BE(at.padding);
  if (at.header + padding + TAG_BYTES > bytes.length) return null;
  const header = bytes.subarray(0, at.header + padding);
  if (header.subarray(at.header).some((b) => b !== 0)) return null;
  return {
    kind,
    cipher,
    keyId,
    version: bytes.readUInt32BE(at.version),
    nonce: bytes.subarray(at.nonce, at.nonce + 12),
    header,
    ciphertext: bytes.subarray(at.header + padding, bytes.length - TAG_BYTES),
    tag: bytes.subarray(bytes.length - TAG_BYTES),
  };
}

/** The plaintext, or null when anything (bytes, key material, additional data) does not match. */
export function open(envelope: Envelope, material: KeyObject, aad: Buffer): Buffer | null {
  return aeadOpen(envelope.cipher, material, envelope.nonce, { ciphertext: envelope.ciphertext, tag: envelope.tag }, Buffer.concat([envelope.header, aad]));
}
