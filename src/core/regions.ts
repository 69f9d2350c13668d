import { requireAction } from './access.ts';
import { kms } from './errors.ts';
import type { Tx } from '../store/store.ts';
import { DECISIONS } from './decisions.ts';
import { loadForChange } from './keys.ts';
import type { Caller, Key } from './model.ts';

/**
 * v2 multi-region calls (reference §2.9). A kmsd serves exactly one region (--region), so the
 * regions it supports are that one; there is no second region to replicate into. The calls
 * still check what the service checks first (the key exists, the caller may change it), then
 * answer a region this kmsd does not serve with KMS.1102 "Invalid realm." (realm is the region
 * field of KeyDetails). update-primary-region to the key's own region is a no-op: every key
 * here is primary in its region already.
 */
export function supportedRegions(caller: Caller, served: string): string[] {
  requireAction(caller);
  return [served];
}

export async function replicateKey(tx: Tx, caller: Caller, keyId: string, _replicaRegion: string, now: number): Promise<never> {
  await loadForChange(tx, caller, keyId, now);
  // The replica region is never served by this kmsd (its own region holds the key already).
  throw kms(DECISIONS.regionNotServed);
}

export async function updatePrimaryRegion(tx: Tx, caller: Caller, keyId: string, primaryRegion: string, now: number): Promise<Key> {
  const key = await loadForChange(tx, caller, keyId, now);
  if (primaryRegion !== key.region) throw kms(DECISIONS.regionNotServed);
  return key;
}
