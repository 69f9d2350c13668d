import {
  constants, createHash, createPrivateKey, createPublicKey, privateDecrypt, privateEncrypt, publicDecrypt, publicEncrypt,
  sign as nodeSign, timingSafeEqual, verify as nodeVerify, type KeyObject,
} from 'node:crypto';
import { kms } from './errors.ts';
import { DECISIONS } from './decisions.ts';
import type { Tx } from '../store/store.ts';
import { requireKeyUse, requireOwnerSide, type GrantOperation } from './access.ts';
import { kindOf, type KeyKind } from './key-specs.ts';
import { loadKey } from './keys.ts';
import { sealedMaterial } from './material.ts';
import { remember } from './memo.ts';
import { digestCrypto, type DigestScheme, type WorkFor } from './pkey/pkey.ts';
import { KeyState, type Caller, type Key } from './model.ts';
import { RootKey, materialContext } from './sealing.ts';

/**
 * Asymmetric keys: sign, verify, get-publickey, and RSA-OAEP encryption (reference §5.4, §5.6).
 * A key's private key is kept as PKCS#8 DER sealed under the root key, opened into a
 * node:crypto KeyObject once per material (remembered, like RootKey.openKey), and every
 * request still reads the sealed record from the store first.
 */

export const SIGNING_ALGORITHMS = [
  'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512',
  'ECDSA_SHA_256', 'ECDSA_SHA_384', 'ECDSA_SHA_512', 'SM2DSA_SM3', 'ED25519_SHA_512', 'ED25519_PH_SHA_512',
] as const;

export const MAX_MESSAGE_BYTES = 4096;

interface Algorithm {
  family: 'pss' | 'pkcs1' | 'ecdsa' | 'sm2' | 'ed25519';
  hash: string | null;
}

function algorithm(name: string): Algorithm {
  const [, family, hash] = /^(RSASSA_PSS|RSASSA_PKCS1_V1_5|ECDSA)_SHA_(256|384|512)$/.exec(name) ?? [];
  if (family) return { family: family === 'RSASSA_PSS' ? 'pss' : family === 'ECDSA' ? 'ecdsa' : 'pkcs1', hash: `sha${hash}` };
  if (name === 'SM2DSA_SM3') return { family: 'sm2', hash: 'sm3' };
  if (name === 'ED25519_SHA_512') return { family: 'ed25519', hash: null };
  throw kms('KMS.0332');
}

/** Which signing algorithms each key kind pairs with (the curve decides the ECDSA hash). */
const ECDSA_HASH: Readonly<Record<string, string>> = { EC_P256: 'sha256', EC_P384: 'sha384', SECP256K1: 'sha256' };

function checkPairing(key: Key, alg: Algorithm): void {
  const kind = kindOf(key.spec);
  const ok =
    (kind === 'rsa' && (alg.family === 'pss' || alg.family === 'pkcs1')) ||
    (kind === 'ec' && alg.family === 'ecdsa' && ECDSA_HASH[key.spec] === alg.hash) ||
    (kind === 'sm2' && alg.family === 'sm2') ||
    (kind === 'ed25519' && alg.family === 'ed25519');
  if (!ok) throw kms('KMS.0332');
}

export function requireUsableState(key: Key): void {
  if (key.state === KeyState.disabled) throw kms('KMS.0209');
  if (key.state === KeyState.pendingDeletion) throw kms('KMS.0210');
  if (key.state !== KeyState.enabled) throw kms('KMS.0308');
}

/** Loads a key an IAM-only operation uses: the key's account with the operation's action. */
export async function ownerKey(tx: Tx, caller: Caller, keyId: string, now: number): Promise<Key> {
  const key = await loadKey(tx, keyId, now);
  await requireOwnerSide(tx, caller, key);
  return key;
}

/** Loads a key an operation a grant can name uses. */
export async function grantedKey(tx: Tx, caller: Caller, keyId: string, operation: GrantOperation, now: number): Promise<Key> {
  const key = await loadKey(tx, keyId, now);
  await requireKeyUse(tx, caller, key, operation);
  return key;
}

/** The documented refusal for a key of the wrong kind or usage for sign / verify / get-publickey. */
function requireSigningKey(key: Key, forPublicKey = false): KeyKind {
  const kind = kindOf(key.spec);
  if (kind === 'symmetric') throw kms(forPublicKey ? 'KMS.0331' : 'KMS.1115');
  if (kind === 'hmac') throw kms('KMS.0341');
  if (!forPublicKey && key.usage !== 'SIGN_VERIFY') throw kms('KMS.0334');
  return kind;
}

export interface Opened {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const opened = new Map<string, { sealed: Buffer; value: Opened }>();

/** The key's private key (and what is derived from it), from its sealed PKCS#8 DER. */
export async function openPrivate(tx: Tx, rootKey: RootKey, key: Key): Promise<Opened> {
  const version = key.materialVersion;
  const sealed = await sealedMaterial(tx, key, version);
  if (!sealed) throw kms('KMS.0308');
  const context = materialContext(key.keyId, version);
  const hit = opened.get(context);
  if (hit && hit.sealed.equals(sealed.sealed)) return hit.value;
  const der = rootKey.open(sealed.sealed, context);
  let value: Opened;
  try {
    const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    value = { privateKey, publicKey: createPublicKey(privateKey) };
  } finally {
    der.fill(0);
  }
  opened.delete(context);
  remember(opened, context, { sealed: Buffer.from(sealed.sealed), value }, 8192);
  return value;
}

/** PEM of a SubjectPublicKeyInfo, lines ended with \r\n as in the official get-publickey example. */
export const publicPem = (publicKey: KeyObject): string =>
  (publicKey.export({ type: 'spki', format: 'pem' }) as string).replace(/\r?\n/g, '\r\n');

export async function getPublicKey(tx: Tx, caller: Caller, rootKey: RootKey, keyId: string, now: number) {
  const key = await ownerKey(tx, caller, keyId, now);
  requireSigningKey(key, true);
  requireUsableState(key);
  const { publicKey } = await openPrivate(tx, rootKey, key);
  return { key, publicKey: publicPem(publicKey) };
}

// DigestInfo prefixes of RSASSA-PKCS1-v1_5 (RFC 8017 §9.2, note 1).
const DIGEST_INFO: Readonly<Record<string, Buffer>> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

const hashLength = (hash: string): number => createHash(hash).digest().length;

const modulusBits = (key: KeyObject): number => key.asymmetricKeyDetails?.modulusLength as number;

export type MessageType = 'DIGEST' | 'RAW';

interface SignInput {
  keyId: string;
  message: Buffer;
  algorithm: string;
  messageType: MessageType;
}

/** The message as the algorithm will use it; DIGEST lengths are checked against the hash (KMS.0329). */
function checkMessage(alg: Algorithm, input: SignInput): void {
  if (input.message.length < 1 || input.message.length > MAX_MESSAGE_BYTES) throw kms(DECISIONS.badMessage);
  if (input.messageType !== 'DIGEST') return;
  // Pure Ed25519 signs messages, never digests: see decisions.
  if (alg.family === 'ed25519') throw kms(DECISIONS.digestNotServed);
  if (input.message.length !== hashLength(alg.hash as string)) throw kms('KMS.0329');
}

/** A key ready to sign or verify with, read (and its material opened) in the request's read. */
export interface SigningKey {
  key: Key;
  alg: Algorithm;
  material: Opened;
}

/**
 * Everything sign / verify need from the store; the signature itself is computed after the read
 * (signMessage / verifySignature): where the kmsd-crypto addon is missing, a DIGEST signature may
 * wait for an OpenSSL process (src/core/pkey/).
 */
export async function signingKey(tx: Tx, caller: Caller, rootKey: RootKey, input: SignInput, now: number): Promise<SigningKey> {
  const key = await ownerKey(tx, caller, input.keyId, now);
  requireSigningKey(key);
  const alg = algorithm(input.algorithm);
  checkPairing(key, alg);
  checkMessage(alg, input);
  requireUsableState(key);
  return { key, alg, material: await openPrivate(tx, rootKey, key) };
}

/**
 * DIGEST signatures by OpenSSL's EVP_PKEY_sign (src/core/pkey/): ECDSA, RSASSA-PSS (salt as long
 * as the hash, MGF1 with the same hash) and SM2 (e = SM3(Z ‖ M), computed by the caller).
 */
function digestScheme(alg: Algorithm): DigestScheme {
  return { hash: alg.hash as string, pss: alg.family === 'pss' };
}

/** `work`: whose call it is (the caller's account) and what cancels it, should it have to wait. */
export async function signMessage({ alg, material }: SigningKey, input: SignInput, work: WorkFor): Promise<Buffer> {
  const { privateKey } = material;
  if (input.messageType === 'DIGEST') {
    // RSASSA-PKCS1-v1_5 over a digest is RSA_sign itself: the fixed DigestInfo ‖ digest, padded
    // and exponentiated by OpenSSL (RFC 8017 §9.2 with step 1, the hash, already done).
    if (alg.family === 'pkcs1') {
      return privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([DIGEST_INFO[alg.hash as string], input.message]));
    }
    return digestCrypto().signDigest(privateKey, digestScheme(alg), input.message, work);
  }
  switch (alg.family) {
    case 'pkcs1':
    case 'ecdsa':
      return nodeSign(alg.hash, input.message, privateKey);
    case 'pss':
      return nodeSign(alg.hash, input.message, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
    case 'sm2':
      return nodeSign('sm3', input.message, privateKey);
    case 'ed25519':
      return nodeSign(null, input.message, privateKey);
  }
}

/** Longest DER ECDSA / SM2 signature kmsd's curves can have (P-384: 104 bytes), with room. */
const MAX_DER_SIGNATURE = 160;

export async function verifySignature({ alg, material }: SigningKey, input: SignInput & { signature: Buffer }, work: WorkFor): Promise<boolean> {
  const { publicKey } = material;
  const sig = input.signature;
  if (input.messageType === 'DIGEST') {
    if (alg.family === 'pkcs1') {
      const expected = Buffer.concat([DIGEST_INFO[alg.hash as string], input.message]);
      let recovered: Buffer;
      try {
        recovered = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, sig);
      } catch {
        return false; // not a PKCS#1 v1.5 signature block under this key
      }
      return recovered.length === expected.length && timingSafeEqual(recovered, expected);
    }
    // Shapes no signature can have are simply not valid (and never reach OpenSSL).
    const fits = alg.family === 'pss' ? sig.length === Math.ceil(modulusBits(publicKey) / 8) : sig.length >= 8 && sig.length <= MAX_DER_SIGNATURE;
    if (!fits) return false;
    return digestCrypto().verifyDigest(publicKey, digestScheme(alg), input.message, sig, work);
  }
  try {
    switch (alg.family) {
      case 'pkcs1':
      case 'ecdsa':
        return nodeVerify(alg.hash, input.message, publicKey, sig);
      case 'pss':
        return nodeVerify(alg.hash, input.message, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, sig);
      case 'sm2':
        return nodeVerify('sm3', input.message, publicKey, sig);
      case 'ed25519':
        return nodeVerify(null, input.message, publicKey, sig);
    }
  } catch {
    return false; // not a signature at all (wrong length, not DER, ...): simply not valid
  }
}

// RSA-OAEP and SM2 encryption (encrypt-data / decrypt-data with an asymmetric encryption_algorithm).

export const ASYMMETRIC_ENCRYPTION: Readonly<Record<string, string>> = { RSAES_OAEP_SHA_256: 'sha256', RSAES_OAEP_SHA_1: 'sha1' };

/** SM2_ENCRYPT under an SM2 ENCRYPT_DECRYPT key (OpenSSL's SM2 with SM3, src/core/pkey/). */
const SM2 = 'sm2';

/** Largest RSA-OAEP plaintext: k − 2·hLen − 2 bytes (RFC 8017 §7.1.1). */
export const oaepLimit = (modBits: number, hash: string): number => modBits / 8 - 2 * hashLength(hash) - 2;

function encryptionKind(key: Key, algorithm: string): string {
  const kind = kindOf(key.spec);
  if (kind === 'hmac') throw kms('KMS.0341');
  if (kind === 'symmetric') throw kms('KMS.2105');
  if (kind === 'ec' || kind === 'ed25519') throw kms('KMS.1114');
  if (key.usage !== 'ENCRYPT_DECRYPT') throw kms('KMS.0335');
  if (kind === 'sm2') {
    if (algorithm !== 'SM2_ENCRYPT') throw kms('KMS.2106');
    return SM2;
  }
  const hash = ASYMMETRIC_ENCRYPTION[algorithm];
  if (hash === undefined) throw kms('KMS.2106');
  return hash;
}

/**
 * RSA-OAEP under an ENCRYPT_DECRYPT RSA key: the ciphertext is the bare OAEP output. SM2_ENCRYPT
 * under an SM2 key: OpenSSL's GM/T 0009 DER (C1 C3 C2), made by EVP_PKEY_encrypt with the
 * public key (see src/core/pkey/ and decisions). `work` as for signMessage (by default the key's
 * account: re-encrypt's destination).
 */
export async function encryptAsymmetric(
  tx: Tx, rootKey: RootKey, key: Key, algorithm: string, plaintext: Buffer, work: WorkFor = { owner: key.accountId },
): Promise<Buffer> {
  const hash = encryptionKind(key, algorithm);
  requireUsableState(key);
  const { publicKey } = await openPrivate(tx, rootKey, key);
  if (plaintext.length < 1) throw kms('KMS.2101');
  if (hash === SM2) {
    if (plaintext.length > DECISIONS.sm2PlaintextBytes) throw kms('KMS.2108');
    return digestCrypto().sm2Encrypt(publicKey, plaintext, work);
  }
  if (plaintext.length > oaepLimit(modulusBits(publicKey), hash)) throw kms('KMS.2108');
  return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, plaintext);
}

export async function decryptAsymmetric(
  tx: Tx, rootKey: RootKey, key: Key, algorithm: string, ciphertext: Buffer, work: WorkFor = { owner: key.accountId },
): Promise<Buffer> {
  const hash = encryptionKind(key, algorithm);
  requireUsableState(key);
  const { privateKey } = await openPrivate(tx, rootKey, key);
  if (hash === SM2) {
    const plaintext = await digestCrypto().sm2Decrypt(privateKey, ciphertext, work);
    if (plaintext === null || plaintext.length === 0) throw kms('KMS.2201');
    return plaintext;
  }
  try {
    return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, ciphertext);
  } catch {
    throw kms('KMS.2201');
  }
}

export async function encryptDataAsymmetric(
  tx: Tx, caller: Caller, rootKey: RootKey, input: { keyId: string; algorithm: string; plaintext: Buffer }, now: number, signal?: AbortSignal,
) {
  const key = await grantedKey(tx, caller, input.keyId, 'encrypt-data', now);
  return { key, ciphertext: await encryptAsymmetric(tx, rootKey, key, input.algorithm, input.plaintext, { owner: caller.accountId, signal }) };
}

export async function decryptDataAsymmetric(
  tx: Tx, caller: Caller, rootKey: RootKey, input: { keyId: string; algorithm: string; ciphertext: Buffer }, now: number, signal?: AbortSignal,
) {
  const key = await grantedKey(tx, caller, input.keyId, 'decrypt-data', now);
  return { key, plaintext: await decryptAsymmetric(tx, rootKey, key, input.algorithm, input.ciphertext, { owner: caller.accountId, signal }) };
}
