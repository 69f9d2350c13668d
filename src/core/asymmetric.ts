import {
  constants, createHash, createPrivateKey, createPublicKey, privateDecrypt, privateEncrypt, publicDecrypt, publicEncrypt,
  randomBytes, sign as nodeSign, timingSafeEqual, verify as nodeVerify, type KeyObject,
} from 'node:crypto';
import { kms } from './errors.ts';
import { DECISIONS } from './decisions.ts';
import type { Tx } from '../store/store.ts';
import { requireKeyUse, requireOwnerSide, type GrantOperation } from './access.ts';
import { CURVES, signDigest, toBig, verifyDigest } from './ecdsa-digest.ts';
import { kindOf, specInfo, type KeyKind } from './key-specs.ts';
import { loadKey } from './keys.ts';
import { remember } from './memo.ts';
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
  /** EC keys: the private scalar, for DIGEST signatures and their verification. */
  d?: bigint;
}

const opened = new Map<string, { sealed: Buffer; value: Opened }>();

/** The key's private key (and what is derived from it), from its sealed PKCS#8 DER. */
export async function openPrivate(tx: Tx, rootKey: RootKey, key: Key): Promise<Opened> {
  const version = key.materialVersion;
  const sealed = await tx.getMaterial(key.keyId, version);
  if (!sealed) throw kms('KMS.0308');
  const context = materialContext(key.keyId, version);
  const hit = opened.get(context);
  if (hit && hit.sealed.equals(sealed.sealed)) return hit.value;
  const der = rootKey.open(sealed.sealed, context);
  let value: Opened;
  try {
    const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    value = { privateKey, publicKey: createPublicKey(privateKey) };
    if (kindOf(key.spec) === 'ec') {
      const jwk = privateKey.export({ format: 'jwk' });
      value.d = toBig(Buffer.from(jwk.d as string, 'base64url'));
    }
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

function mgf1(hash: string, seed: Buffer, length: number): Buffer {
  const out: Buffer[] = [];
  for (let counter = 0; out.length * hashLength(hash) < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    out.push(createHash(hash).update(seed).update(c).digest());
  }
  return Buffer.concat(out).subarray(0, length);
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1) of a message digest, salt as long as the hash. */
function pssEncode(hash: string, mHash: Buffer, modBits: number): Buffer {
  const hLen = mHash.length;
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const salt = randomBytes(hLen);
  const H = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - 2 * hLen - 2), Buffer.from([1]), salt]);
  const mask = mgf1(hash, H, emLen - hLen - 1);
  for (let i = 0; i < db.length; i++) db[i] ^= mask[i];
  db[0] &= 0xff >> (8 * emLen - emBits);
  const em = Buffer.concat([db, H, Buffer.from([0xbc])]);
  return modBits % 8 === 1 ? Buffer.concat([Buffer.alloc(1), em]) : em;
}

/**
 * EMSA-PSS-VERIFY (RFC 8017 §9.1.2) with the salt length read from the encoding (as OpenSSL's
 * RSA_PSS_SALTLEN_AUTO), so signatures made elsewhere with another salt length verify too.
 */
function pssVerify(hash: string, mHash: Buffer, emFull: Buffer, modBits: number): boolean {
  const hLen = mHash.length;
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const em = emFull.subarray(emFull.length - emLen);
  if (emFull.length > emLen && emFull[0] !== 0) return false;
  if (emLen < hLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const H = em.subarray(emLen - hLen - 1, emLen - 1);
  if ((maskedDb[0] & ~(0xff >> (8 * emLen - emBits))) !== 0) return false;
  const mask = mgf1(hash, H, maskedDb.length);
  const db = Buffer.from(maskedDb);
  for (let i = 0; i < db.length; i++) db[i] ^= mask[i];
  db[0] &= 0xff >> (8 * emLen - emBits);
  const one = db.findIndex((b) => b !== 0);
  if (one < 0 || db[one] !== 1) return false;
  const salt = db.subarray(one + 1);
  const H2 = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  return timingSafeEqual(H, H2);
}

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
  // Pure SM2DSA (with its Z value) and Ed25519 sign messages, never digests: see decisions.
  if (alg.family === 'sm2' || alg.family === 'ed25519') throw kms(DECISIONS.digestNotServed);
  if (input.message.length !== hashLength(alg.hash as string)) throw kms('KMS.0329');
}

async function signingKey(tx: Tx, caller: Caller, rootKey: RootKey, input: SignInput, now: number) {
  const key = await ownerKey(tx, caller, input.keyId, now);
  requireSigningKey(key);
  const alg = algorithm(input.algorithm);
  checkPairing(key, alg);
  checkMessage(alg, input);
  requireUsableState(key);
  return { key, alg, material: await openPrivate(tx, rootKey, key) };
}

export async function signMessage(tx: Tx, caller: Caller, rootKey: RootKey, input: SignInput, now: number) {
  const { key, alg, material } = await signingKey(tx, caller, rootKey, input, now);
  const { privateKey } = material;
  const digest = input.messageType === 'DIGEST';
  let signature: Buffer;
  switch (alg.family) {
    case 'pkcs1':
      signature = digest
        ? privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([DIGEST_INFO[alg.hash as string], input.message]))
        : nodeSign(alg.hash, input.message, privateKey);
      break;
    case 'pss':
      signature = digest
        ? privateEncrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, pssEncode(alg.hash as string, input.message, modulusBits(privateKey)))
        : nodeSign(alg.hash, input.message, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
      break;
    case 'ecdsa':
      signature = digest ? signDigest(CURVES[specInfo(key.spec).curve as string], material.d as bigint, input.message) : nodeSign(alg.hash, input.message, privateKey);
      break;
    case 'sm2':
      signature = nodeSign('sm3', input.message, privateKey);
      break;
    case 'ed25519':
      signature = nodeSign(null, input.message, privateKey);
      break;
  }
  return { key, signature };
}

export async function verifySignature(tx: Tx, caller: Caller, rootKey: RootKey, input: SignInput & { signature: Buffer }, now: number) {
  const { key, alg, material } = await signingKey(tx, caller, rootKey, input, now);
  const { publicKey } = material;
  const digest = input.messageType === 'DIGEST';
  const sig = input.signature;
  let valid = false;
  try {
    switch (alg.family) {
      case 'pkcs1':
        if (digest) {
          const expected = Buffer.concat([DIGEST_INFO[alg.hash as string], input.message]);
          const recovered = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, sig);
          valid = recovered.length === expected.length && timingSafeEqual(recovered, expected);
        } else valid = nodeVerify(alg.hash, input.message, publicKey, sig);
        break;
      case 'pss':
        if (digest) {
          const bits = modulusBits(publicKey);
          if (sig.length !== Math.ceil(bits / 8)) break;
          valid = pssVerify(alg.hash as string, input.message, publicDecrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, sig), bits);
        } else valid = nodeVerify(alg.hash, input.message, { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, sig);
        break;
      case 'ecdsa':
        valid = digest
          ? verifyDigest(CURVES[specInfo(key.spec).curve as string], material.d as bigint, input.message, sig)
          : nodeVerify(alg.hash, input.message, publicKey, sig);
        break;
      case 'sm2':
        valid = nodeVerify('sm3', input.message, publicKey, sig);
        break;
      case 'ed25519':
        valid = nodeVerify(null, input.message, publicKey, sig);
        break;
    }
  } catch {
    valid = false; // not a signature at all (wrong length, not DER, ...): simply not valid
  }
  return { key, valid };
}

// RSA-OAEP encryption (encrypt-data / decrypt-data with an asymmetric encryption_algorithm).

export const ASYMMETRIC_ENCRYPTION: Readonly<Record<string, string>> = { RSAES_OAEP_SHA_256: 'sha256', RSAES_OAEP_SHA_1: 'sha1' };

/** Largest RSA-OAEP plaintext: k − 2·hLen − 2 bytes (RFC 8017 §7.1.1). */
export const oaepLimit = (modBits: number, hash: string): number => modBits / 8 - 2 * hashLength(hash) - 2;

function encryptionKind(key: Key, algorithm: string): string {
  const kind = kindOf(key.spec);
  if (kind === 'hmac') throw kms('KMS.0341');
  if (kind === 'symmetric') throw kms('KMS.2105');
  if (kind === 'ec' || kind === 'ed25519') throw kms('KMS.1114');
  if (key.usage !== 'ENCRYPT_DECRYPT') throw kms('KMS.0335');
  // OpenSSL's SM2 encryption is not reachable through node:crypto (see decisions).
  if (kind === 'sm2') throw kms(DECISIONS.sm2Encrypt);
  const hash = ASYMMETRIC_ENCRYPTION[algorithm];
  if (hash === undefined) throw kms('KMS.2106');
  return hash;
}

/** RSA-OAEP under an ENCRYPT_DECRYPT RSA key: the ciphertext is the bare OAEP output. */
export async function encryptAsymmetric(
  tx: Tx, rootKey: RootKey, key: Key, algorithm: string, plaintext: Buffer,
): Promise<Buffer> {
  const hash = encryptionKind(key, algorithm);
  requireUsableState(key);
  const { publicKey } = await openPrivate(tx, rootKey, key);
  if (plaintext.length < 1) throw kms('KMS.2101');
  if (plaintext.length > oaepLimit(modulusBits(publicKey), hash)) throw kms('KMS.2108');
  return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, plaintext);
}

export async function decryptAsymmetric(
  tx: Tx, rootKey: RootKey, key: Key, algorithm: string, ciphertext: Buffer,
): Promise<Buffer> {
  const hash = encryptionKind(key, algorithm);
  requireUsableState(key);
  const { privateKey } = await openPrivate(tx, rootKey, key);
  try {
    return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, ciphertext);
  } catch {
    throw kms('KMS.2201');
  }
}

export async function encryptDataAsymmetric(
  tx: Tx, caller: Caller, rootKey: RootKey, input: { keyId: string; algorithm: string; plaintext: Buffer }, now: number,
) {
  const key = await grantedKey(tx, caller, input.keyId, 'encrypt-data', now);
  return { key, ciphertext: await encryptAsymmetric(tx, rootKey, key, input.algorithm, input.plaintext) };
}

export async function decryptDataAsymmetric(
  tx: Tx, caller: Caller, rootKey: RootKey, input: { keyId: string; algorithm: string; ciphertext: Buffer }, now: number,
) {
  const key = await grantedKey(tx, caller, input.keyId, 'decrypt-data', now);
  return { key, plaintext: await decryptAsymmetric(tx, rootKey, key, input.algorithm, input.ciphertext) };
}
