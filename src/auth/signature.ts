import { createHash, createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * SDK-HMAC-SHA256, the AK/SK request signature of the Huawei Cloud SDKs (reference §9.4).
 * Pure functions: the server rebuilds the canonical request from what it received, over
 * exactly the headers the request's SignedHeaders names, and compares signatures in
 * constant time.
 */
export const ALGORITHM = 'SDK-HMAC-SHA256';
/** The gateway's clock-skew window. */
export const MAX_SKEW_MS = 15 * 60 * 1000;

export interface ParsedAuthorization {
  accessKey: string;
  signedHeaders: string[];
  signature: string;
}

const AUTHORIZATION = /^SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-fA-F]+)\s*$/;

export function parseAuthorization(header: string): ParsedAuthorization | null {
  const m = AUTHORIZATION.exec(header);
  if (!m) return null;
  return { accessKey: m[1], signedHeaders: m[2].split(';'), signature: m[3].toLowerCase() };
}

/** RFC 3986: unreserved characters stay, every other byte becomes %XX (upper-case hex). */
export function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decode(value: string): string {
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

export interface SignableRequest {
  method: string;
  /** Path and query as received, e.g. "/v1.0/p/kms/list-grants?x=1". */
  url: string;
  /** Header lookup by lower-case name. */
  header: (name: string) => string | undefined;
  body: Buffer;
}

const bodyHash = (request: SignableRequest): string => createHash('sha256').update(request.body).digest('hex');

/**
 * The payload hash the signer used: X-Sdk-Content-Sha256 when the request carries it,
 * else the SHA-256 of the body. kmsd accepts that header only when it is the body's true
 * hash (see checkSignature): KMS bodies are JSON, which the SDKs always sign, so an
 * UNSIGNED-PAYLOAD request would be one whose body nothing protects.
 */
export function payloadHash(request: SignableRequest): string {
  return request.header('x-sdk-content-sha256') ?? bodyHash(request);
}

/** The characters Node's legacy url.parse() escapes in a path (and nothing else). */
const LEGACY_URL_ESCAPES = /[\t\n\v\f\r "'<>\\^`{|}]/g;

/**
 * The canonical URI the official Node.js SDK signs: it puts path parameters into the URL as
 * they are, AKSKSigner takes url.parse(...).pathname (which escapes only a few characters, such
 * as the space) and encodes each segment of that ("cost center" is signed as cost%2520center,
 * "环境" as %E7%8E%AF%E5%A2%83). Only paths with a free-text parameter meet it (DELETE
 * .../tags/{key}).
 */
export function nodeSdkCanonicalUri(path: string): string {
  const legacy = (raw: string) => raw.replace(LEGACY_URL_ESCAPES, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  const encoded = path.split('/').map((segment) => rfc3986(legacy(decode(segment)))).join('/');
  return encoded.endsWith('/') ? encoded : `${encoded}/`;
}

/** The canonical request, or null when a header the signature names is missing. */
export function canonicalRequest(request: SignableRequest, signedHeaders: string[], uri: (path: string) => string = canonicalUri): string | null {
  const q = request.url.indexOf('?');
  const path = q < 0 ? request.url : request.url.slice(0, q);
  const query = q < 0 ? '' : request.url.slice(q + 1);
  let headers = '';
  for (const name of signedHeaders) {
    const value = request.header(name);
    if (value === undefined) return null;
    headers += `${name}:${value.trim()}\n`;
  }
  return [
    request.method.toUpperCase(), uri(path), canonicalQuery(query), headers, signedHeaders.join(';'), payloadHash(request),
  ].join('\n');
}

export function sign(secretKey: string | KeyObject, sdkDate: string, canonical: string): string {
  const stringToSign = `${ALGORITHM}\n${sdkDate}\n${createHash('sha256').update(canonical).digest('hex')}`;
  return createHmac('sha256', secretKey).update(stringToSign).digest('hex');
}

/**
 * Parses X-Sdk-Date (YYYYMMDDTHHMMSSZ) to ms epoch, or null unless it is a real calendar time:
 * Date.UTC would roll hour 38 or 31 February over into another day, so the parsed time must
 * print back as the same fields.
 */
export function parseSdkDate(value: string | undefined): number | null {
  const m = value === undefined ? null : /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return null;
  const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  if (Number.isNaN(t)) return null;
  const d = new Date(t);
  const same = d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3] &&
    d.getUTCHours() === +m[4] && d.getUTCMinutes() === +m[5] && d.getUTCSeconds() === +m[6];
  return same ? t : null;
}

export function signaturesEqual(expectedHex: string, givenHex: string): boolean {
  const a = Buffer.from(expectedHex, 'utf8');
  const b = Buffer.from(givenHex, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Why a signature is refused, in the gateway's words; null when it verifies. */
export function checkSignature(
  request: SignableRequest,
  auth: ParsedAuthorization,
  secretKey: string | KeyObject,
  now: number,
): string | null {
  const sdkDate = request.header('x-sdk-date');
  const signedAt = parseSdkDate(sdkDate);
  if (signedAt === null) return 'verify aksk signature fail';
  if (Math.abs(now - signedAt) > MAX_SKEW_MS) {
    return `signature expired, signature time:${sdkDate}, server time:${new Date(now).toISOString().replace(/[-:]|\.\d+/g, '')}`;
  }
  const declared = request.header('x-sdk-content-sha256');
  if (declared !== undefined && declared.toLowerCase() !== bodyHash(request)) return 'verify aksk signature fail';
  const canonical = canonicalRequest(request, auth.signedHeaders);
  if (canonical === null) return 'verify aksk signature fail';
  if (signaturesEqual(sign(secretKey, sdkDate as string, canonical), auth.signature)) return null;
  const path = request.url.split('?')[0];
  if (path.includes('%')) {
    const nodeSdk = canonicalRequest(request, auth.signedHeaders, nodeSdkCanonicalUri) as string;
    if (signaturesEqual(sign(secretKey, sdkDate as string, nodeSdk), auth.signature)) return null;
  }
  return 'verify aksk signature fail';
}
