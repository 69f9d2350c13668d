import { type KeyObject } from 'node:crypto';
/**
 * SDK-HMAC-SHA256, the AK/SK request signature of the Huawei Cloud SDKs (reference §9.4):
 * canonical request (method, URI with a trailing /, sorted query, the signed headers, the
 * payload's SHA-256), string to sign, HMAC-SHA256 under the secret key.
 *
 * One implementation for both sides: the server (src/auth/signature.ts) rebuilds the
 * canonical request of what it received, the client (src/client/signer.ts) of what it sends.
 * A leaf module: node:crypto only, so the client bundle carries it without server code.
 */
export declare const ALGORITHM = "SDK-HMAC-SHA256";
/** RFC 3986: unreserved characters stay, every other byte becomes %XX (upper-case hex). */
export declare function rfc3986(value: string): string;
export declare function decode(value: string): string;
export declare function canonicalUri(path: string): string;
/** The canonical query of a raw query string (without its "?"). */
export declare function canonicalQuery(rawQuery: string): string;
/** The signature (hex) of a canonical request, dated sdkDate, under the secret key. */
export declare function sign(secretKey: string | KeyObject, sdkDate: string, canonical: string): string;
