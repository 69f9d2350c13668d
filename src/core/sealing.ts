import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Key material, secret keys and anything else secret at rest is sealed with AES-256-GCM
 * under the root key. The record's identity (e.g. "key-material:<key_id>:<version>") is
 * bound as additional data, so a sealed blob moved to another row does not open.
 *
 * Layout: 0x01 | nonce (12) | tag (16) | ciphertext.
 */
const VERSION = 0x01;

/** How many opened values RootKey keeps (key material versions and secret keys). */
const OPENED_CACHE = 8192;

export class RootKey {
  private readonly key: Buffer;
  /**
   * Opened values by context, with the sealed bytes they came from. A sealed record never
   * changes in place (a new secret key or material version is a new blob), so a hit whose
   * sealed bytes match is exactly what opening would give; the caller still reads the
   * sealed record from the store on every request, so removed records are never served.
   */
  private readonly opened = new Map<string, { sealed: Buffer; clear: Buffer }>();
  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('the root key must be 32 bytes');
    this.key = Buffer.from(key);
  }

  seal(plaintext: Buffer, context: string): Buffer {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), nonce, cipher.getAuthTag(), body]);
  }

  /**
   * open(), remembering the result. The returned buffer is shared: callers must not change it.
   */
  openCached(sealed: Buffer, context: string): Buffer {
    const hit = this.opened.get(context);
    if (hit && hit.sealed.equals(sealed)) return hit.clear;
    const clear = this.open(sealed, context);
    if (this.opened.size >= OPENED_CACHE) this.opened.delete(this.opened.keys().next().value as string);
    this.opened.set(context, { sealed: Buffer.from(sealed), clear });
    return clear;
  }

  /** Throws when the blob was not sealed under this root key for this context. */
  open(sealed: Buffer, context: string): Buffer {
    if (sealed.length < 29 || sealed[0] !== VERSION) throw new Error('sealed blob has an unknown format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(1, 13));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(sealed.subarray(13, 29));
    return Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]);
  }
}

export const materialContext = (keyId: string, version: number): string => `key-material:${keyId}:${version}`;
export const secretKeyContext = (ak: string): string => `access-key:${ak}`;
export const CANARY_CONTEXT = 'root-key-canary';
