import { createHash } from 'node:crypto';
import { ALGORITHM, canonicalQuery, canonicalUri, sign } from '../signing/sdk-hmac-sha256.ts';

/**
 * SDK-HMAC-SHA256, the AK/SK request signature of the Huawei Cloud SDKs: canonical request
 * (method, URI with a trailing /, sorted query, the signed headers, the body's SHA-256),
 * string to sign, HMAC-SHA256 under the secret key.
 */
export { ALGORITHM, rfc3986 } from '../signing/sdk-hmac-sha256.ts';

/** X-Sdk-Date: YYYYMMDDTHHMMSSZ. */
export const sdkDate = (ms: number): string => new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '');

export interface SignInput {
  method: string;
  /** The whole URL (its path and query are signed). */
  url: string;
  /** Every header to sign, Host and X-Sdk-Date included; names with "_" are never signed (as the Python SDK). */
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** The Authorization header value for a request, signed over exactly the headers given. */
export function authorization(request: SignInput, ak: string, sk: string): string {
  const url = new URL(request.url);
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(request.headers)) {
    if (!name.includes('_')) headers.set(name.toLowerCase(), value);
  }
  const date = headers.get('x-sdk-date');
  if (date === undefined) throw new Error('X-Sdk-Date must be set before signing');
  const signed = [...headers.keys()].sort();
  const payload = headers.get('x-sdk-content-sha256') ?? createHash('sha256').update(request.body ?? '').digest('hex');
  const canonical = [
    request.method.toUpperCase(),
    canonicalUri(url.pathname),
    canonicalQuery(url.search.replace(/^\?/, '')),
    signed.map((name) => `${name}:${(headers.get(name) as string).trim()}\n`).join(''),
    signed.join(';'),
    payload,
  ].join('\n');
  const signature = sign(sk, date, canonical);
  return `${ALGORITHM} Access=${ak}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
}
