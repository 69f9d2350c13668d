import { createHash, createHmac } from 'node:crypto';

/**
 * SDK-HMAC-SHA256, the AK/SK request signature of the Huawei Cloud SDKs: canonical request
 * (method, URI with a trailing /, sorted query, the signed headers, the body's SHA-256),
 * string to sign, HMAC-SHA256 under the secret key.
 */
export const ALGORITHM = 'SDK-HMAC-SHA256';

/** RFC 3986: unreserved characters stay, every other byte becomes %XX (upper-case hex). */
export const rfc3986 = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function canonicalUri(path: string): string {
  const encoded = path.split('/').map((segment) => rfc3986(decode(segment))).join('/');
  return encoded.endsWith('/') ? encoded : `${encoded}/`;
}

function canonicalQuery(search: string): string {
  const pairs = search
    .replace(/^\?/, '')
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
    canonicalQuery(url.search),
    signed.map((name) => `${name}:${(headers.get(name) as string).trim()}\n`).join(''),
    signed.join(';'),
    payload,
  ].join('\n');
  const toSign = `${ALGORITHM}\n${date}\n${createHash('sha256').update(canonical).digest('hex')}`;
  const signature = createHmac('sha256', sk).update(toSign).digest('hex');
  return `${ALGORITHM} Access=${ak}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
}
