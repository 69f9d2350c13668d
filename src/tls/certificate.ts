import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * What kmsd serves HTTPS with: TLS 1.2 or later, Node's default cipher list (tls.DEFAULT_CIPHERS:
 * the TLS 1.3 AEAD suites, then ECDHE/DHE with AES-GCM, then ECDHE/DHE with AES-CBC-SHA2; no
 * RC4, DES, MD5, export, anonymous or PSK suites). The certificate file holds the server's
 * certificate first, then any intermediates; the key file its private key (PEM, unencrypted).
 */
export const MIN_TLS_VERSION = 'TLSv1.2';

/** A certificate and key that belong together, read and checked, as PEM text. */
export interface TlsPair {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
  /** SHA-256 fingerprint of the server's certificate, as openssl prints it (AB:CD:…). */
  fingerprint: string;
  /** When the server's certificate expires. */
  notAfter: Date;
}

/** Why a certificate/key pair cannot be served (one line). */
export class TlsError extends Error {}

function read(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new TlsError(`cannot read the TLS ${what} file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/**
 * Reads and checks a pair: a PEM certificate, a PEM private key, the key belonging to the
 * certificate, and OpenSSL willing to serve them. An expired certificate is not refused here
 * (the caller warns): clients refuse it themselves, and refusing to start would keep an
 * operator from reaching the node to fix it.
 */
export function readTlsPair(certPath: string, keyPath: string): TlsPair {
  return checkTlsPair(read(certPath, 'certificate'), read(keyPath, 'key'), certPath, keyPath);
}

/**
 * The checks of readTlsPair on a pair already read (the paths name it in messages): a worker
 * thread started after the node serves is given the pair the main thread serves, not its files.
 */
export function checkTlsPair(cert: string, key: string, certPath: string, keyPath: string): TlsPair {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new TlsError(`the TLS certificate file ${certPath} holds no PEM certificate`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    const encrypted = /passphrase/i.test((error as Error).message);
    throw new TlsError(`the TLS key file ${keyPath} holds no ${encrypted ? 'unencrypted ' : ''}PEM private key${encrypted ? ' (it is encrypted: kmsd needs it without a passphrase, mode 0600)' : ''}`);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new TlsError(`the TLS key in ${keyPath} does not belong to the certificate in ${certPath}`);
  }
  try {
    // node:tls is loaded here, when a certificate is given, not at every start (~4 ms of it).
    process.getBuiltinModule('node:tls').createSecureContext({ cert, key, minVersion: MIN_TLS_VERSION });
  } catch (error) {
    throw new TlsError(`OpenSSL refuses the TLS certificate ${certPath} with key ${keyPath}: ${(error as Error).message}`);
  }
  return { cert, key, certPath, keyPath, fingerprint: x509.fingerprint256, notAfter: new Date(x509.validTo) };
}

/** A warning for a certificate that is expired or not yet valid, else null. */
export function validityWarning(pair: TlsPair, now: number): string | null {
  const x509 = new X509Certificate(pair.cert);
  if (now > pair.notAfter.getTime()) return `the TLS certificate ${pair.certPath} expired on ${pair.notAfter.toISOString()}: clients will refuse it; replace it and send SIGHUP`;
  const from = new Date(x509.validFrom);
  if (now < from.getTime()) return `the TLS certificate ${pair.certPath} is not valid before ${from.toISOString()}: clients will refuse it until then`;
  return null;
}

/** The options node:https serves a pair with (also for setSecureContext at a reload). */
export function secureOptions(pair: Pick<TlsPair, 'cert' | 'key'>): { cert: string; key: string; minVersion: typeof MIN_TLS_VERSION } {
  return { cert: pair.cert, key: pair.key, minVersion: MIN_TLS_VERSION };
}
