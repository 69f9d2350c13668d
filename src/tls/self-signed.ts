import { randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readTlsPair, TlsError, type TlsPair } from './certificate.ts';

/** The development certificate and key, in the data directory (`kmsd reset` removes them). */
export const SELF_SIGNED_FILES = { cert: 'tls-self-signed.crt', key: 'tls-self-signed.key' } as const;

/** How long a development certificate is valid (clients such as Apple's cap trust at 825 days). */
const VALID_DAYS = 825;
/** A certificate this close to its end is made anew at start. */
const RENEW_BEFORE_MS = 30 * 86_400_000;

/** The names a development certificate covers: the listen address (or this machine's name for a wildcard) and localhost. */
export function selfSignedNames(host: string): string[] {
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  const names = ['localhost', '127.0.0.1', '::1', wildcard ? hostname() : host];
  return [...new Set(names.map((n) => n.toLowerCase()))];
}

/** Why the certificate in the data directory cannot be kept (null: keep it). */
function staleness(pair: TlsPair, names: readonly string[], now: number): string | null {
  if (pair.notAfter.getTime() - now < RENEW_BEFORE_MS) return 'it expires within 30 days';
  const x509 = new X509Certificate(pair.cert);
  const missing = names.find((n) => (isIP(n) ? x509.checkIP(n) === undefined : x509.checkHost(n, { wildcards: false }) === undefined));
  return missing === undefined ? null : `it does not cover ${missing}`;
}

/**
 * `--tls-self-signed`: the certificate kmsd made for this data directory before, or a new one
 * for the listen address and localhost (kept across restarts, so that clients told to trust it
 * keep trusting it). The certificate is made in-process (no openssl CLI: the single executable
 * must work without one) by @peculiar/x509, which builds the X.509 structure and has it signed
 * by WebCrypto, i.e. node:crypto's OpenSSL: an ECDSA P-256 key, signed with SHA-256.
 */
export async function selfSignedPair(dataDir: string, host: string, now: number): Promise<{ pair: TlsPair; made: string | null }> {
  const certPath = join(dataDir, SELF_SIGNED_FILES.cert);
  const keyPath = join(dataDir, SELF_SIGNED_FILES.key);
  const names = selfSignedNames(host);
  let why = 'none was made for this data directory yet';
  if (existsSync(certPath) || existsSync(keyPath)) {
    try {
      const pair = readTlsPair(certPath, keyPath);
      const stale = staleness(pair, names, now);
      if (stale === null) return { pair, made: null };
      why = `the one in ${certPath} was made anew: ${stale}`;
    } catch (error) {
      if (!(error instanceof TlsError)) throw error;
      why = `the one in ${certPath} was made anew: ${error.message}`;
    }
  }
  const { cert, key } = await makeCertificate(names, now);
  // The key first, each written aside then renamed: a crash leaves the old pair or the new one.
  for (const [path, text] of [[keyPath, key], [certPath, cert]] as const) {
    writeFileSync(`${path}.new`, text, { mode: 0o600 });
    renameSync(`${path}.new`, path);
  }
  return { pair: readTlsPair(certPath, keyPath), made: why };
}

async function makeCertificate(names: readonly string[], now: number): Promise<{ cert: string; key: string }> {
  // The library needs a Reflect metadata polyfill loaded before it; both only when a certificate is made.
  await import('reflect-metadata');
  const loaded = await import('@peculiar/x509');
  // Bundled (dist/), the library is a CommonJS chunk: its exports arrive as the default export.
  const x509 = ('cryptoProvider' in loaded ? loaded : (loaded as unknown as { default: typeof loaded }).default) as typeof loaded;
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    // A positive 16-byte serial number.
    serialNumber: `01${randomBytes(15).toString('hex')}`,
    name: 'CN=kmsd development certificate',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + VALID_DAYS * 86_400_000),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names.map((n) => ({ type: isIP(n) ? ('ip' as const) : ('dns' as const), value: n }))),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { cert: certificate.toString('pem'), key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}
