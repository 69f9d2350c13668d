import { combine, split } from 'shamir-secret-sharing';

/**
 * Shamir's secret sharing of the root key, by `shamir-secret-sharing` (Privy; audited by Cure53
 * and Zellic; GF(2^8) as HashiCorp Vault's, no dependency): no field arithmetic of our own.
 * A share is the 32 bytes of its polynomial values and its x coordinate: 33 bytes, written
 * in base64 (44 characters), as Vault writes its unseal keys.
 */
export const SHARE_BYTES = 33;
export const MAX_SHARES = 255;

export async function splitKey(key: Buffer, shares: number, threshold: number): Promise<Buffer[]> {
  return (await split(new Uint8Array(key), shares, threshold)).map((s) => Buffer.from(s));
}

/** The key the shares reconstruct (any threshold-many distinct shares give the same key). */
export async function combineShares(shares: readonly Buffer[]): Promise<Buffer> {
  return Buffer.from(await combine(shares.map((s) => new Uint8Array(s))));
}

export const shareText = (share: Buffer): string => share.toString('base64');

/**
 * The share a text holds, or null when it is not one (not canonical base64 of 33 bytes). A
 * line pasted whole from kmsd seal init's output ("share 2: …") is taken too.
 */
export function parseShare(text: unknown): Buffer | null {
  if (typeof text !== 'string') return null;
  const trimmed = text.trim().replace(/^share [0-9]{1,3}: */, '');
  if (!/^[A-Za-z0-9+/]{44}$/.test(trimmed)) return null;
  const bytes = Buffer.from(trimmed, 'base64');
  return bytes.length === SHARE_BYTES && bytes.toString('base64') === trimmed ? bytes : null;
}
