import { createHash, createHmac, type KeyObject } from 'node:crypto';

/**
 * SDK-HMAC-SHA256, the AK/SK request signature of the Huawei Cloud SDKs (reference §9.4):
 * canonical request (method, URI with a trailing /, sorted query, the signed headers, the
 * payload's SHA-256), string to sign, HMAC-SHA256 under the secret key.
 *
 * One implementation for both sides: the server (src/auth/signature.ts) rebuilds the
 * canonical request of what it received, the client (src/client/signer.ts) of what it sends.
 * A leaf module: node:crypto only, so the client bundle carries it without server code.
 */
export const ALGORITHM = 'SDK-HMAC-SHA256';

/** RFC 3986: unreserved characters stay, every other byte becomes %XX (upper-case hex). */
export function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

// A path of unreserved characters only (every KMS path) is its own encoding.
const UNRESERVED_PATH = /^[A-Za-z0-9\-._~/]*$/;

export function canonicalUri(path: string): string {
  if (UNRESERVED_PATH.test(path)) return path.endsWith('/') ? path : `${path}/`;
  const encoded = path.split('/').map((segment) => rfc3986(decode(segment))).join('/');
  return encoded.endsWith('/') ? encoded : `${encoded}/`;
}

/** The canonical query of a raw query string (without its "?"). */
export function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  const pairs = rawQuery
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      const name = eq < 0 ? part : part.slice(0, eq);
      const value = eq < 0 ? '' : part.slice(eq + 1);
      return [rfc3986(decode(name)), rfc3986(decode(value))] as const;
    });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

/** The signature (hex) of a canonical request, dated sdkDate, under the secret key. */
export function sign(secretKey: string | KeyObject, sdkDate: string, canonical: string): string {
  const stringToSign = `${ALGORITHM}\n${sdkDate}\n${createHash('sha256').update(canonical).digest('hex')}`;
  return createHmac('sha256', secretKey).update(stringToSign).digest('hex');
}
