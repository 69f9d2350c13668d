import { createHash, createHmac } from 'node:crypto';

/**
 * The request signing of the Terraform provider's golangsdk (auth/core/signer), written from
 * its description (reference terraform-calls.md §1.3), independent of kmsd's verifier:
 * SDK-HMAC-SHA256 over every header present at signing time (lower-cased, sorted; the host is
 * not among them), a canonical URI ending in "/", the query sorted and re-escaped (and sent in
 * that canonical form), and the SHA-256 of the exact body bytes. The HMAC key is the raw SK.
 */
const escape = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export interface GoRequest {
  method: string;
  /** The path, without the query. */
  path: string;
  query?: Record<string, string>;
  /** Headers as the provider sets them before signing. */
  headers: Record<string, string>;
  body?: string;
}

export interface SignedGoRequest {
  /** Path and canonical query, as the provider sends it. */
  url: string;
  headers: Record<string, string>;
}

/** X-Sdk-Date of a time: YYYYMMDDTHHMMSSZ. */
export const sdkDate = (ms: number): string => new Date(ms).toISOString().replace(/[-:]|\.\d+/g, '');

export function signAsGolangsdk(request: GoRequest, ak: string, sk: string, now = Date.now()): SignedGoRequest {
  const headers: Record<string, string> = { ...request.headers, 'X-Sdk-Date': sdkDate(now) };
  const names = Object.keys(headers).map((h) => h.toLowerCase()).sort();
  const lookup = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v.trim()]));
  const query = Object.entries(request.query ?? {}).map(([k, v]) => [escape(k), escape(v)]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const canonicalQuery = query.map(([k, v]) => `${k}=${v}`).join('&');
  const uri = request.path.split('/').map((s) => escape(decodeURIComponent(s))).join('/');
  const canonical = [
    request.method,
    uri.endsWith('/') ? uri : `${uri}/`,
    canonicalQuery,
    names.map((n) => `${n}:${lookup[n]}\n`).join(''),
    names.join(';'),
    createHash('sha256').update(request.body ?? '').digest('hex'),
  ].join('\n');
  const toSign = `SDK-HMAC-SHA256\n${headers['X-Sdk-Date']}\n${createHash('sha256').update(canonical).digest('hex')}`;
  const signature = createHmac('sha256', sk).update(toSign).digest('hex');
  return {
    url: canonicalQuery ? `${request.path}?${canonicalQuery}` : request.path,
    headers: { ...headers, Authorization: `SDK-HMAC-SHA256 Access=${ak}, SignedHeaders=${names.join(';')}, Signature=${signature}` },
  };
}
