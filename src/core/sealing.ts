import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';

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
  // A KeyObject, not a Buffer: node:crypto imports a Buffer key anew on every cipher it makes
  // (about 9 µs for AES-256-GCM), a KeyObject once. Null until a sealed node is unsealed.
  #key: KeyObject | null = null;
  /**
   * Opened values by context, with the sealed bytes they came from. A sealed record never
   * changes in place (a new secret key or material version is a new blob), so a hit whose
   * sealed bytes match is exactly what opening would give; the caller still reads the
   * sealed record from the store on every request, so removed records are never served.
   */
  private readonly opened = new Map<string, { sealed: Buffer; key: KeyObject }>();
  constructor(key: Buffer | null) {
    if (key !== null) this.install(key);
  }

  /**
   * A root key that arrives later: a node started on a sealed store (src/seal/) holds one
   * until operators have given enough shares. Nothing reaches it before then (the edge answers
   * 503 while sealed); a use before would throw.
   */
  static awaited(): RootKey {
    return new RootKey(null);
  }

  /** Whether the key is there (always, except on a node still sealed). */
  get installed(): boolean {
    return this.#key !== null;
  }

  /** Puts the key in, once (the bytes are copied into a KeyObject; the caller wipes its copy). */
  install(key: Buffer): void {
    if (this.#key !== null) throw new Error('the root key is already installed');
    if (key.length !== 32) throw new Error('the root key must be 32 bytes');
    this.#key = createSecretKey(key);
  }

  private get key(): KeyObject {
    if (this.#key === null) throw new Error('the root key is not there yet: the node is sealed');
    return this.#key;
  }

  seal(plaintext: Buffer, context: string): Buffer {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), nonce, cipher.getAuthTag(), body]);
  }

  /**
   * open(), as a secret KeyObject (key material for ciphers, a secret key for HMAC),
   * remembering the result. The opened bytes live only inside the KeyObject.
   */
  openKey(sealed: Buffer, context: string): KeyObject {
    const hit = this.opened.get(context);
    if (hit && hit.sealed.equals(sealed)) return hit.key;
    const clear = this.open(sealed, context);
    const key = createSecretKey(clear);
    clear.fill(0);
    if (this.opened.size >= OPENED_CACHE) this.opened.delete(this.opened.keys().next().value as string);
    this.opened.set(context, { sealed: Buffer.from(sealed), key });
    return key;
  }

  private macKey: KeyObject | null = null;
  /**
   * HMAC-SHA256 (hex) of `data` under a key derived from the root key for `purpose` (HKDF),
   * never the sealing key itself: a fingerprint of a secret that only this root key can
   * compute or check.
   */
  mac(purpose: string, data: string): string {
    this.macKey ??= createSecretKey(Buffer.from(hkdfSync('sha256', this.key, Buffer.alloc(0), 'kmsd mac', 32)));
    return createHmac('sha256', this.macKey).update(`${purpose}\n${data}`).digest('hex');
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
