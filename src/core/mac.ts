import { createHmac, timingSafeEqual } from 'node:crypto';
import { kms } from './errors.ts';
import { DECISIONS } from './decisions.ts';
import type { Tx } from '../store/store.ts';
import { ownerKey, requireUsableState } from './asymmetric.ts';
import { kindOf, specInfo } from './key-specs.ts';
import { sealedMaterial } from './material.ts';
import type { Caller, Key } from './model.ts';
import { RootKey, materialContext } from './sealing.ts';

/**
 * generate-mac / verify-mac (reference §5.7) with HMAC keys. The mac_algorithm must be the one
 * the key's spec serves (HMAC_256 ↔ HMAC_SHA_256, ...). The key's secret is opened into a
 * secret KeyObject (RootKey.openKey); a MAC is compared in constant time.
 */
export const MAC_ALGORITHMS = ['HMAC_SHA_256', 'HMAC_SHA_384', 'HMAC_SHA_512', 'HMAC_SM3'] as const;
const HASH: Readonly<Record<string, string>> = { HMAC_SHA_256: 'sha256', HMAC_SHA_384: 'sha384', HMAC_SHA_512: 'sha512', HMAC_SM3: 'sm3' };
export const MAC_MESSAGE_BYTES = { min: 1, max: 4096 } as const;

function requireMacKey(key: Key, algorithm: string): string {
  const kind = kindOf(key.spec);
  if (kind === 'symmetric') throw kms('KMS.0331');
  if (kind !== 'hmac') throw kms('KMS.0325');
  if (specInfo(key.spec).mac !== algorithm) throw kms(DECISIONS.macAlgorithmMismatch);
  return HASH[algorithm];
}

async function mac(tx: Tx, caller: Caller, rootKey: RootKey, input: { keyId: string; algorithm: string; message: Buffer }, now: number) {
  if (input.message.length < MAC_MESSAGE_BYTES.min || input.message.length > MAC_MESSAGE_BYTES.max) throw kms(DECISIONS.badMessage);
  const key = await ownerKey(tx, caller, input.keyId, now);
  const hash = requireMacKey(key, input.algorithm);
  requireUsableState(key);
  const sealed = await sealedMaterial(tx, key, key.materialVersion);
  if (!sealed) throw kms('KMS.0308');
  const secret = rootKey.openKey(sealed.sealed, materialContext(key.keyId, key.materialVersion));
  return { key, mac: createHmac(hash, secret).update(input.message).digest() };
}

export async function generateMac(tx: Tx, caller: Caller, rootKey: RootKey, input: { keyId: string; algorithm: string; message: Buffer }, now: number) {
  return mac(tx, caller, rootKey, input, now);
}

export async function verifyMac(
  tx: Tx, caller: Caller, rootKey: RootKey, input: { keyId: string; algorithm: string; message: Buffer; mac: Buffer }, now: number,
) {
  const { key, mac: expected } = await mac(tx, caller, rootKey, input, now);
  // An odd-length hex MAC decodes short and simply does not match.
  return { key, valid: input.mac.length === expected.length && timingSafeEqual(input.mac, expected) };
}
