import { constants, createHash, createPrivateKey, privateDecrypt, timingSafeEqual } from 'node:crypto';
import { unbounded, type Bounded } from './fair-gate.ts';
import { generatePair } from './key-specs.ts';
import { kms } from './errors.ts';
import type { Tx } from '../store/store.ts';
import { DECISIONS } from './decisions.ts';
import { KEY_SPECS, loadForChange, loadKey } from './keys.ts';
import { requireOwnerSide } from './access.ts';
import { KeyState, type Caller, type Key } from './model.ts';
import { RootKey, materialContext } from './sealing.ts';

/**
 * Bring your own key (reference §6). An external key starts pending import ("5").
 *
 * get-parameters-for-import makes a fresh RSA-2048 wrapping key pair. The public half goes to
 * the caller (base64 DER SubjectPublicKeyInfo); the private half never leaves kmsd in the
 * clear: it is sealed under the root key inside the import token itself, with the key id,
 * the wrapping algorithm and the token's expiry bound as additional data. So a token opens
 * only on this kmsd's root key, only for its key and algorithm, and a changed expiry makes it
 * fail verification. Nothing about it is stored: any node can check it.
 *
 *   token = 0x01 | algorithm (1) | key id (36, ASCII) | expiry, epoch seconds (8, big-endian)
 *           | RootKey.seal(PKCS#8 DER of the wrapping private key, context)
 *
 * import-key-material unwraps the material with RSAES-OAEP (the token's hash, MGF1 with the
 * same hash: what `openssl pkeyutl -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256`
 * and node's publicEncrypt with oaepHash produce), checks its length against the key spec and,
 * for a key that had material before, that it is that same material (a sealed SHA-256 digest is
 * kept on the key for this). The material becomes version 1 again, so ciphertexts made before a
 * delete or an expiry open again once the same material is back.
 */
export const WRAPPING_ALGORITHMS = ['RSAES_OAEP_SHA_256', 'RSAES_OAEP_SHA_1', 'SM2_ENCRYPT'] as const;
const ALGORITHM_IDS: Readonly<Record<string, number>> = { RSAES_OAEP_SHA_256: 1, RSAES_OAEP_SHA_1: 2 };
const OAEP_HASH: Readonly<Record<number, string>> = { 1: 'sha256', 2: 'sha1' };
const TOKEN_VERSION = 1;
const TOKEN_HEADER = 1 + 1 + 36 + 8;
const WRAPPING_KEY_BITS = 2048;


const tokenContext = (keyId: string, algorithm: number, expiry: number): string => `import-token:${keyId}:${algorithm}:${expiry}`;
export const digestContext = (keyId: string): string => `import-digest:${keyId}`;

function requireExternal(key: Key): void {
  if (key.origin !== 'external') throw kms('KMS.0309');
}

export interface ImportParameters {
  key: Key;
  importToken: string;
  /** Epoch seconds. */
  expirationTime: number;
  publicKey: string;
}

/**
 * get-parameters-for-import, first half (inside a read): the caller may change the key, which is
 * external and pending import, and the algorithm is one kmsd can unwrap.
 */
export async function checkImportable(tx: Tx, caller: Caller, keyId: string, wrappingAlgorithm: string, now: number): Promise<Key> {
  const key = await loadKey(tx, keyId, now);
  await requireOwnerSide(tx, caller, key);
  if (key.defaultKey) throw kms(DECISIONS.defaultKey);
  requireExternal(key);
  if (key.state !== KeyState.pendingImport) throw kms('KMS.0310');
  // SM2_ENCRYPT: "not supported in some regions" (SDK model), and encrypted_key_material's documented
  // pattern (344-360 base64 characters) cannot carry an SM2 ciphertext of a key.
  if (ALGORITHM_IDS[wrappingAlgorithm] === undefined) throw kms(DECISIONS.unsupportedWrapping);
  return key;
}

/** Second half, outside any transaction: a fresh wrapping key pair and its token. */
export async function importParameters(
  rootKey: RootKey, key: Key, wrappingAlgorithm: string, now: number, generate: Bounded = unbounded,
): Promise<ImportParameters> {
  const algorithm = ALGORITHM_IDS[wrappingAlgorithm];
  const pair = await generate(() => generatePair('rsa', {
    modulusLength: WRAPPING_KEY_BITS, privateKeyEncoding: { format: 'der', type: 'pkcs8' }, publicKeyEncoding: { format: 'der', type: 'spki' },
  }));
  const expiry = Math.floor((now + DECISIONS.importTokenMs) / 1000);
  const der = pair.privateKey;
  try {
    const header = Buffer.alloc(TOKEN_HEADER);
    header[0] = TOKEN_VERSION;
    header[1] = algorithm;
    header.write(key.keyId, 2, 36, 'latin1');
    header.writeBigUInt64BE(BigInt(expiry), 38);
    const token = Buffer.concat([header, rootKey.seal(der, tokenContext(key.keyId, algorithm, expiry))]);
    const publicKey = pair.publicKey as Buffer;
    return { key, importToken: token.toString('base64'), expirationTime: expiry, publicKey: publicKey.toString('base64') };
  } finally {
    der.fill(0);
  }
}

export interface MaterialImport {
  keyId: string;
  importToken: string;
  encryptedKeyMaterial: string;
  /** Epoch seconds; the material expires then. */
  expirationTime?: number;
}

interface OpenedToken {
  algorithm: number;
  privateKeyDer: Buffer;
}

/** Opens an import token for this key: KMS.2605 (not a token / tampered), 2603 (other key), 2601 (expired). */
function openToken(rootKey: RootKey, token: string, keyId: string, now: number): OpenedToken {
  const bytes = /^[0-9a-zA-Z+/=]+$/.test(token) ? Buffer.from(token, 'base64') : Buffer.alloc(0);
  if (bytes.length <= TOKEN_HEADER || bytes[0] !== TOKEN_VERSION || OAEP_HASH[bytes[1]] === undefined) throw kms('KMS.2605');
  if (bytes.toString('latin1', 2, 38) !== keyId) throw kms('KMS.2603');
  const expiry = Number(bytes.readBigUInt64BE(38));
  let privateKeyDer: Buffer;
  try {
    privateKeyDer = rootKey.open(bytes.subarray(TOKEN_HEADER), tokenContext(keyId, bytes[1], expiry));
  } catch {
    throw kms('KMS.2605');
  }
  if (expiry * 1000 <= now) {
    privateKeyDer.fill(0);
    throw kms('KMS.2601');
  }
  return { algorithm: bytes[1], privateKeyDer };
}

function unwrap(opened: OpenedToken, wrapped: string): Buffer {
  try {
    const privateKey = createPrivateKey({ key: opened.privateKeyDer, format: 'der', type: 'pkcs8' });
    return privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP_HASH[opened.algorithm] },
      Buffer.from(wrapped, 'base64'),
    );
  } catch {
    throw kms('KMS.0311');
  } finally {
    opened.privateKeyDer.fill(0);
  }
}

export async function importKeyMaterial(tx: Tx, caller: Caller, rootKey: RootKey, input: MaterialImport, now: number): Promise<Key> {
  const key = await loadForChange(tx, caller, input.keyId, now);
  requireExternal(key);
  if (key.state !== KeyState.pendingImport) throw kms('KMS.0310');
  const opened = openToken(rootKey, input.importToken, key.keyId, now);
  if (input.expirationTime !== undefined && input.expirationTime * 1000 <= now) {
    opened.privateKeyDer.fill(0);
    throw kms('KMS.2602');
  }
  const material = unwrap(opened, input.encryptedKeyMaterial);
  try {
    if (material.length !== KEY_SPECS[key.spec]) throw kms('KMS.2604');
    const digest = createHash('sha256').update(material).digest();
    if (key.importDigest !== null) {
      let before: Buffer;
      try {
        before = rootKey.open(key.importDigest, digestContext(key.keyId));
      } catch {
        throw kms('KMS.2606');
      }
      if (!timingSafeEqual(before, digest)) throw kms('KMS.2606');
    }
    await tx.deleteMaterials(key.keyId);
    await tx.insertMaterial({ keyId: key.keyId, version: 1, sealed: rootKey.seal(material, materialContext(key.keyId, 1)), createdAt: now });
    const next: Key = {
      ...key,
      state: KeyState.enabled,
      materialVersion: 1,
      materialExpires: input.expirationTime === undefined ? null : input.expirationTime * 1000,
      importDigest: key.importDigest ?? rootKey.seal(digest, digestContext(key.keyId)),
    };
    await tx.updateKey(next);
    return next;
  } finally {
    material.fill(0);
  }
}

/** delete-imported-key-material: only an enabled or disabled external key (KMS.2701); back to pending import. */
export async function deleteImportedMaterial(tx: Tx, caller: Caller, keyId: string, now: number): Promise<Key> {
  const key = await loadForChange(tx, caller, keyId, now);
  requireExternal(key);
  if (key.state !== KeyState.enabled && key.state !== KeyState.disabled) throw kms('KMS.2701');
  return removeMaterial(tx, key);
}

async function removeMaterial(tx: Tx, key: Key): Promise<Key> {
  await tx.deleteMaterials(key.keyId);
  const next: Key = { ...key, state: KeyState.pendingImport, materialVersion: 0, materialExpires: null };
  await tx.updateKey(next);
  return next;
}

/**
 * Removes imported material whose expiration_time has passed ("KMS deletes the material within
 * 24 hours of that time"); the key is refused from that moment already (keys.withMaterialExpiry).
 */
export async function expireImportedMaterial(tx: Tx, now: number, batch = 500): Promise<number> {
  let expired = 0;
  for (const keyId of await tx.keysWithExpiredMaterial(now, batch)) {
    const key = await tx.getKey(keyId, { lock: true });
    if (!key || key.materialExpires === null || key.materialExpires > now) continue;
    if (key.state !== KeyState.enabled && key.state !== KeyState.disabled) continue;
    await removeMaterial(tx, key);
    expired++;
  }
  return expired;
}
