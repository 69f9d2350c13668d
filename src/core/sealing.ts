import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Key material, secret keys and anything else secret at rest is sealed with AES-256-GCM
 * under the root key. The record's identity (e.g. "key-material:<key_id>:<version>") is
 * bound as additional data, so a sealed blob moved to another row does not open.
 *
 * Layout: 0x01 | nonce (12) | tag (16) | ciphertext.
 */
const VERSION = 0x01;

export class RootKey {
  private readonly key: Buffer;
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
