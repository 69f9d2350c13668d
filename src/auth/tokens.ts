import { createHash, randomBytes } from 'node:crypto';

/** IAM tokens are valid for 24 hours (reference §9.1). */
export const TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * Tokens are opaque random strings (prefixed MII like Huawei's). Only their SHA-256 is
 * stored, so a lookup by hash is the comparison, and a copy of the database holds no
 * usable token.
 */
export function newToken(): string {
  return `MII${randomBytes(48).toString('base64url')}`;
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Huawei prints IAM times as ISO-8601 UTC with microseconds. */
export function iamTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
