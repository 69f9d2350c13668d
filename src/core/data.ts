import { createHash, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { kms } from './errors.ts';
import type { Tx } from '../store/store.ts';
import { requireKeyUse, type GrantOperation } from './access.ts';
import { cipherForSpec } from './ciphers.ts';
import { EnvelopeKind, open, parse, seal, type Envelope, type EnvelopeKindValue } from './envelope.ts';
import { loadKey } from './keys.ts';
import { sealedMaterial } from './material.ts';
import { KeyState, type Caller, type Key } from './model.ts';
import { requireSymmetricEncryptionKey } from './key-specs.ts';
import { RootKey, materialContext } from './sealing.ts';

/**
 * The cryptographic operations a grant can name. Each one loads the key, checks that the
 * caller may use it for this operation (its account with the IAM action, or a live grant
 * naming it), that the key is usable, and only then touches key material, read sealed from
 * the store and opened in memory (see RootKey.openKey).
 */

export const MAX_PLAINTEXT_BYTES = 4096;
export const MAX_AAD_BYTES = 128;
export const DATA_KEY_BYTES = { min: 1, max: 1024 } as const;

/** Data key sizes by create-datakey key_spec, in bytes. */
export const DATA_KEY_SPECS: Readonly<Record<string, number>> = {
  AES_256: 32, AES_128: 16, SM4: 16, HMAC_256: 32, HMAC_384: 48, HMAC_512: 64, HMAC_SM3: 32,
};

/** Additional authenticated data as bytes: at most 128 (KMS.0208 past that). */
export function aadBytes(aad: string | undefined): Buffer {
  const bytes = Buffer.from(aad ?? '', 'utf8');
  if (bytes.length > MAX_AAD_BYTES) throw kms('KMS.0208');
  return bytes;
}

function requireUsable(key: Key): void {
  if (key.state === KeyState.disabled) throw kms('KMS.0209');
  if (key.state === KeyState.pendingDeletion) throw kms('KMS.0210');
  if (key.state !== KeyState.enabled) throw kms('KMS.0308');
}

export async function usableKey(tx: Tx, caller: Caller, keyId: string, operation: GrantOperation, now: number): Promise<Key> {
  const key = await loadKey(tx, keyId, now);
  await requireKeyUse(tx, caller, key, operation);
  requireSymmetricEncryptionKey(key.spec, key.usage);
  requireUsable(key);
  return key;
}

async function withMaterial<T>(tx: Tx, rootKey: RootKey, key: Key, version: number, use: (material: KeyObject) => T): Promise<T> {
  const sealed = await sealedMaterial(tx, key, version);
  if (!sealed) throw kms('KMS.2201');
  return use(rootKey.openKey(sealed.sealed, materialContext(key.keyId, version)));
}

export async function encryptUnder(tx: Tx, rootKey: RootKey, key: Key, kind: EnvelopeKindValue, plaintext: Buffer, aad: Buffer): Promise<Buffer> {
  return withMaterial(tx, rootKey, key, key.materialVersion, (material) =>
    seal(kind, cipherForSpec(key.spec), key.keyId, key.materialVersion, material, plaintext, aad),
  );
}

/** How a decrypt reads envelopes: the kind it opens, and whether format-1 envelopes (no kind) still open. */
export interface Opening {
  kind: EnvelopeKindValue;
  legacy: boolean;
}

/**
 * Opens an envelope of the wanted kind made under this key, or KMS.2201 (tampered, truncated,
 * other key, other AAD, or the other kind: a data key is no data, as a tampered ciphertext is not).
 */
export async function decryptUnder(tx: Tx, rootKey: RootKey, key: Key, envelope: Envelope, aad: Buffer, opening: Opening): Promise<Buffer> {
  if (envelope.kind === null ? !opening.legacy : envelope.kind !== opening.kind) throw kms('KMS.2201');
  if (envelope.keyId !== key.keyId || envelope.version < 1 || envelope.version > key.materialVersion) throw kms('KMS.2201');
  const plaintext = await withMaterial(tx, rootKey, key, envelope.version, (material) => open(envelope, material, aad));
  if (plaintext === null) throw kms('KMS.2201');
  return plaintext;
}

/** The DEK digest of encrypt-/decrypt-datakey: SHA-256, or SM3 under an SM4 key. */
export function dekDigest(key: Key, dek: Buffer): Buffer {
  return createHash(key.spec === 'SM4' ? 'sm3' : 'sha256').update(dek).digest();
}

export interface DataInput {
  keyId: string;
  aad: Buffer;
}

export async function encryptData(tx: Tx, caller: Caller, rootKey: RootKey, input: DataInput & { plaintext: string }, now: number) {
  const plaintext = Buffer.from(input.plaintext, 'utf8');
  if (plaintext.length < 1 || plaintext.length > MAX_PLAINTEXT_BYTES) throw kms('KMS.2101');
  const key = await usableKey(tx, caller, input.keyId, 'encrypt-data', now);
  return { key, ciphertext: await encryptUnder(tx, rootKey, key, EnvelopeKind.data, plaintext, input.aad) };
}

/** decrypt-data: the key comes from the envelope; a key_id given must name the same key. */
export async function decryptData(
  tx: Tx, caller: Caller, rootKey: RootKey, input: { ciphertext: Buffer; keyId?: string; aad: Buffer; legacy: boolean }, now: number,
) {
  const envelope = parse(input.ciphertext);
  if (!envelope || (input.keyId !== undefined && input.keyId !== envelope.keyId)) throw kms('KMS.2201');
  const key = await usableKey(tx, caller, envelope.keyId, 'decrypt-data', now);
  return { key, plaintext: await decryptUnder(tx, rootKey, key, envelope, input.aad, { kind: EnvelopeKind.data, legacy: input.legacy }) };
}

/** Data key length in bytes: datakey_length (bits) wins over key_spec; neither means 256 bits. */
export function dataKeyLength(datakeyLengthBits: string | undefined, keySpec: string | undefined): number {
  if (datakeyLengthBits !== undefined) {
    const bits = /^\d{1,10}$/.test(datakeyLengthBits) ? Number(datakeyLengthBits) : NaN;
    if (!(bits >= 8 && bits <= 8192)) throw kms('KMS.1901');
    if (bits % 8 !== 0) throw kms('KMS.1903');
    return bits / 8;
  }
  if (keySpec === undefined) return 32;
  const bytes = DATA_KEY_SPECS[keySpec];
  if (bytes === undefined) throw kms('KMS.1902');
  return bytes;
}

export async function createDataKey(
  tx: Tx, caller: Caller, rootKey: RootKey, input: DataInput & { length: number; withPlaintext: boolean }, now: number,
) {
  const operation = input.withPlaintext ? 'create-datakey' : 'create-datakey-without-plaintext';
  const key = await usableKey(tx, caller, input.keyId, operation, now);
  const dek = randomBytes(input.length);
  try {
    const ciphertext = await encryptUnder(tx, rootKey, key, EnvelopeKind.dataKey, dek, input.aad);
    return { key, ciphertext, plaintextHex: input.withPlaintext ? dek.toString('hex').toUpperCase() : null };
  } finally {
    dek.fill(0);
  }
}

/** Parses a DEK length in bytes (1..1024), or throws the given code. */
export function dekLength(value: string, code: 'KMS.2102' | 'KMS.2202'): number {
  const n = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(n >= DATA_KEY_BYTES.min && n <= DATA_KEY_BYTES.max)) throw kms(code);
  return n;
}

function hexBytes(hex: string, code: 'KMS.2101' | 'KMS.2201'): Buffer {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) throw kms(code);
  return Buffer.from(hex, 'hex');
}

/** encrypt-datakey: plain_text is hex(DEK ‖ digest(DEK)); the digest is checked, the DEK encrypted. */
export async function encryptDataKey(
  tx: Tx, caller: Caller, rootKey: RootKey, input: DataInput & { plaintextHex: string; length: string }, now: number,
) {
  const length = dekLength(input.length, 'KMS.2102');
  const bytes = hexBytes(input.plaintextHex, 'KMS.2101');
  const key = await usableKey(tx, caller, input.keyId, 'encrypt-datakey', now);
  const digestBytes = dekDigest(key, Buffer.alloc(0)).length;
  if (bytes.length !== length + digestBytes) throw kms('KMS.2104');
  const dek = bytes.subarray(0, length);
  if (!timingSafeEqual(dekDigest(key, dek), bytes.subarray(length))) throw kms('KMS.2103');
  try {
    return { key, ciphertext: await encryptUnder(tx, rootKey, key, EnvelopeKind.dataKey, dek, input.aad), length };
  } finally {
    bytes.fill(0);
  }
}

export async function decryptDataKey(
  tx: Tx, caller: Caller, rootKey: RootKey, input: DataInput & { ciphertextHex: string; length: string; legacy: boolean }, now: number,
) {
  const length = dekLength(input.length, 'KMS.2202');
  const envelope = parse(hexBytes(input.ciphertextHex, 'KMS.2201'));
  if (!envelope || envelope.keyId !== input.keyId) throw kms('KMS.2201');
  const key = await usableKey(tx, caller, input.keyId, 'decrypt-datakey', now);
  const dek = await decryptUnder(tx, rootKey, key, envelope, input.aad, { kind: EnvelopeKind.dataKey, legacy: input.legacy });
  try {
    if (dek.length !== length) throw kms('KMS.2204');
    return { key, dekHex: dek.toString('hex').toUpperCase(), digestHex: dekDigest(key, dek).toString('hex').toUpperCase(), length };
  } finally {
    dek.fill(0);
  }
}

/** gen-random: random_data_length in bits, a multiple of 8 from 8 to 8192. */
export function randomData(lengthBits: string): string {
  const bits = /^\d{1,10}$/.test(lengthBits) ? Number(lengthBits) : NaN;
  if (!(bits >= 8 && bits <= 8192)) throw kms('KMS.1801');
  if (bits % 8 !== 0) throw kms('KMS.1802');
  return randomBytes(bits / 8).toString('hex').toUpperCase();
}
