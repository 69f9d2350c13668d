import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DECISIONS } from './core/decisions.ts';

/**
 * The configuration, parsed and checked once at start and then frozen. Nothing else in
 * kmsd reads process.env. Every flag has an environment variable of the same name.
 */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  region: string;
  /** Path of an identities file to apply at start, if any. */
  identities: string | null;
  /** "sqlite" (a file in the data directory) or a postgres:// URL. */
  store: string;
  /** Root key from KMSD_ROOT_KEY (base64 of 32 bytes), if given. */
  rootKey: string | null;
  /** File holding the root key (base64); defaults to <data-dir>/root.key. */
  rootKeyFile: string | null;
  maxGrantsPerKey: number;
  maxKeys: number;
  bodyLimit: number;
  logLevel: string;
  /** Requests a second per access key (per user for token callers) before 429; 0 = no limit. */
  rateLimit: number;
  /** Milliseconds a client has to send its request headers, and its whole request. */
  headerTimeout: number;
  requestTimeout: number;
  /** Milliseconds an idle keep-alive connection stays open. */
  keepAliveTimeout: number;
  /**
   * Also put `code` and `message` inside KMS error bodies, the fields the Node.js SDK reads
   * (it ignores error_code/error_msg, reference §1.4). Off by default: the real shape is exact.
   */
  nodeSdkErrorFields: boolean;
  /**
   * The URL clients reach kmsd at, printed in the version documents, token catalogs and
   * project links; null: the listening address. Never taken from a request's Host header.
   */
  publicUrl: string | null;
  /** Audit records a second, per source address, of refusals before the caller is known. */
  auditRefusalRate: number;
  /** Failed password logins a minute per user and per source address before IAM answers 429. */
  loginFailures: number;
  /**
   * Whether ciphertexts of the first envelope format (which does not say whether it holds data
   * or a data key) still decrypt; turn off once they have been re-encrypted.
   */
  legacyEnvelopes: boolean;
  /** GET /_kmsd/health (liveness), /_kmsd/ready (the store answers) and /_kmsd/metrics (Prometheus), each on or off. */
  health: boolean;
  ready: boolean;
  metrics: boolean;
  /** pretty (human-readable, via pino-pretty) or json log lines; auto: pretty when stdout is a terminal. */
  logFormat: 'pretty' | 'json' | 'auto';
  /** Milliseconds requests in flight get to finish at SIGINT/SIGTERM before their connections are closed. */
  shutdownGrace: number;
  /** Path of a seed file (keys and grants to create at start), if any; the identities file may hold them too. */
  seed: string | null;
  /** A file every audit record is also appended to, as one JSON line with its chain hash (src/audit/log-file.ts). */
  auditLog: string | null;
  /** Event loops serving requests in this process (worker threads on one port); 1 = no workers. */
  workers: number;
  /** Percent of the main thread's time busy at which the other loops start (loops-on-demand.ts); 0 = at start. */
  loopStartLoad: number;
  /**
   * A file `kmsd serve` writes once it serves: the endpoint and the credentials as JSON, for
   * test harnesses in any language (--port 0 then tells them the port); null: none.
   */
  endpointFile: string | null;
  /** HTTPS: the certificate (PEM, chain after it) and private key files; null for plain HTTP. */
  tlsCert: string | null;
  tlsKey: string | null;
  /** HTTPS with a certificate kmsd makes (and keeps) in the data directory, for development. */
  tlsSelfSigned: boolean;
  /**
   * Path of a kmsd-crypto addon (DIGEST signatures, SM2 encryption; src/core/pkey/native.ts) to use
   * before the package's own dist/native copy; null: the package's; "none": no addon, the
   * fallbacks only (for comparison, or to run without native code). A single executable sets a path.
   */
  nativeCrypto: string | null;
}

export class ConfigError extends Error {}

/** Workers share one port through SO_REUSEPORT, which node offers on these systems only. */
const REUSE_PORT = ['linux', 'freebsd', 'sunos', 'aix'].includes(process.platform);

const OPTIONS = {
  host: { type: 'string', env: 'KMSD_HOST', default: '127.0.0.1' },
  port: { type: 'string', env: 'KMSD_PORT', default: '8080' },
  'data-dir': { type: 'string', env: 'KMSD_DATA_DIR', default: './data' },
  region: { type: 'string', env: 'KMSD_REGION', default: 'cn-north-4' },
  identities: { type: 'string', env: 'KMSD_IDENTITIES', default: '' },
  store: { type: 'string', env: 'KMSD_STORE', default: 'sqlite' },
  'root-key-file': { type: 'string', env: 'KMSD_ROOT_KEY_FILE', default: '' },
  'max-grants-per-key': { type: 'string', env: 'KMSD_MAX_GRANTS_PER_KEY', default: String(DECISIONS.grantsPerKey) },
  'max-keys': { type: 'string', env: 'KMSD_MAX_KEYS', default: '100000' },
  'body-limit': { type: 'string', env: 'KMSD_BODY_LIMIT', default: '65536' },
  'log-level': { type: 'string', env: 'KMSD_LOG_LEVEL', default: 'info' },
  'rate-limit': { type: 'string', env: 'KMSD_RATE_LIMIT', default: '0' },
  'header-timeout': { type: 'string', env: 'KMSD_HEADER_TIMEOUT', default: '10000' },
  'request-timeout': { type: 'string', env: 'KMSD_REQUEST_TIMEOUT', default: '30000' },
  'keep-alive-timeout': { type: 'string', env: 'KMSD_KEEP_ALIVE_TIMEOUT', default: '65000' },
  'node-sdk-error-fields': { type: 'string', env: 'KMSD_NODE_SDK_ERROR_FIELDS', default: 'false' },
  'public-url': { type: 'string', env: 'KMSD_PUBLIC_URL', default: '' },
  'audit-refusal-rate': { type: 'string', env: 'KMSD_AUDIT_REFUSAL_RATE', default: String(DECISIONS.auditRefusalsPerSecond) },
  'login-failures': { type: 'string', env: 'KMSD_LOGIN_FAILURES', default: String(DECISIONS.loginFailuresPerMinute) },
  'legacy-envelopes': { type: 'string', env: 'KMSD_LEGACY_ENVELOPES', default: 'true' },
  health: { type: 'string', env: 'KMSD_HEALTH', default: 'true' },
  ready: { type: 'string', env: 'KMSD_READY', default: 'true' },
  metrics: { type: 'string', env: 'KMSD_METRICS', default: 'true' },
  'log-format': { type: 'string', env: 'KMSD_LOG_FORMAT', default: 'auto' },
  'shutdown-grace': { type: 'string', env: 'KMSD_SHUTDOWN_GRACE', default: '5000' },
  seed: { type: 'string', env: 'KMSD_SEED', default: '' },
  'audit-log': { type: 'string', env: 'KMSD_AUDIT_LOG', default: '' },
  // One event loop per core (os.availableParallelism(); 1 without SO_REUSEPORT); every budget is one per node whatever the count.
  workers: { type: 'string', env: 'KMSD_WORKERS', default: String(REUSE_PORT ? Math.min(256, availableParallelism()) : 1) },
  // The other loops start once the main thread is this busy (percent of a sampling period); 0 starts them all at once.
  'loop-start-load': { type: 'string', env: 'KMSD_LOOP_START_LOAD', default: String(DECISIONS.loopsStartOnLoad.percent) },
  'endpoint-file': { type: 'string', env: 'KMSD_ENDPOINT_FILE', default: '' },
  'tls-cert': { type: 'string', env: 'KMSD_TLS_CERT', default: '' },
  'tls-key': { type: 'string', env: 'KMSD_TLS_KEY', default: '' },
  // A switch: --tls-self-signed alone (KMSD_TLS_SELF_SIGNED=true).
  'tls-self-signed': { type: 'boolean', env: 'KMSD_TLS_SELF_SIGNED', default: 'false' },
  'native-crypto': { type: 'string', env: 'KMSD_NATIVE_CRYPTO', default: '' },
} as const;

type Name = keyof typeof OPTIONS;

function wholeNumber(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(`--${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  }
  return Number(value);
}

function flag(name: string, value: string): boolean {
  if (value !== 'true' && value !== 'false') throw new ConfigError(`--${name} must be true or false, got "${value}"`);
  return value === 'true';
}

/**
 * An http(s) URL without query, fragment or credentials, kept without a trailing slash; "" for
 * none. It may carry a path: behind a proxy that serves kmsd under a prefix
 * (https://gateway.example/kms), every URL kmsd prints and links (version documents, the token
 * catalog's /v1.0/, /v1.0/<project id> and /v3, project links) is built under it.
 */
function publicUrl(value: string): string | null {
  if (value === '') return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`--public-url must be an http:// or https:// URL, got "${value}"`);
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '' || value.includes('?') || value.includes('#')) {
    throw new ConfigError(`--public-url must be an http:// or https:// URL with no query, fragment or credentials, got "${value}"`);
  }
  // The URL parser would quietly drop an empty userinfo (http://:@host/) and resolve `.`, `..`
  // and `\`: kmsd would then print URLs other than the one written. Refused, as written.
  const written = /^https?:\/\/([^/\\]*)(.*)$/i.exec(value);
  const segments = (written?.[2] ?? '').split('/').slice(1);
  if (segments.at(-1) === '') segments.pop();
  if (!written || written[1].includes('@') || written[2].includes('\\')
    || segments.some((s) => s === '' || /^(\.|%2e){1,2}$/i.test(s))) {
    throw new ConfigError(`--public-url must be written as it is served (no credentials, no empty, "." or ".." path segments), got "${value}"`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export function parseConfig(argv: string[], env: Record<string, string | undefined>): Config {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.entries(OPTIONS).map(([n, o]) => [n, { type: o.type }])),
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | boolean | undefined> as Record<string, string | undefined>;
    // A switch given on the command line is true.
    for (const [name, value] of Object.entries(values)) if (typeof value === 'boolean') values[name] = String(value);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const get = (name: Name): string => values[name] ?? env[OPTIONS[name].env] ?? OPTIONS[name].default;
  const rootKey = env.KMSD_ROOT_KEY ?? null;
  const store = get('store');
  if (store !== 'sqlite' && !/^postgres(ql)?:\/\//.test(store)) {
    throw new ConfigError(`--store must be "sqlite" or a postgres:// URL`);
  }
  const level = get('log-level');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) {
    throw new ConfigError(`--log-level must be one of fatal, error, warn, info, debug, trace, silent`);
  }
  const logFormat = get('log-format');
  if (logFormat !== 'pretty' && logFormat !== 'json' && logFormat !== 'auto') {
    throw new ConfigError(`--log-format must be pretty, json or auto, got "${logFormat}"`);
  }
  const region = get('region');
  if (!/^[a-z0-9-]{1,64}$/.test(region)) throw new ConfigError(`--region must look like cn-north-4, got "${region}"`);
  const headerTimeout = wholeNumber('header-timeout', get('header-timeout'), 100, 3_600_000);
  const workers = wholeNumber('workers', get('workers'), 1, 256);
  if (workers > 1 && !REUSE_PORT) throw new ConfigError(`--workers above 1 needs SO_REUSEPORT, which ${process.platform} does not offer`);
  const tls = tlsFiles(get('tls-cert'), get('tls-key'), flag('tls-self-signed', get('tls-self-signed')));
  return Object.freeze({
    host: get('host'),
    port: wholeNumber('port', get('port'), 0, 65535),
    dataDir: resolve(get('data-dir')),
    region,
    identities: get('identities') === '' ? null : resolve(get('identities')),
    store,
    rootKey,
    rootKeyFile: get('root-key-file') === '' ? null : resolve(get('root-key-file')),
    maxGrantsPerKey: wholeNumber('max-grants-per-key', get('max-grants-per-key'), 1, 1_000_000),
    maxKeys: wholeNumber('max-keys', get('max-keys'), 1, 100_000_000),
    bodyLimit: wholeNumber('body-limit', get('body-limit'), 1024, 16 * 1024 * 1024),
    logLevel: level,
    rateLimit: wholeNumber('rate-limit', get('rate-limit'), 0, 10_000_000),
    headerTimeout,
    requestTimeout: wholeNumber('request-timeout', get('request-timeout'), headerTimeout, 3_600_000),
    keepAliveTimeout: wholeNumber('keep-alive-timeout', get('keep-alive-timeout'), 100, 3_600_000),
    nodeSdkErrorFields: flag('node-sdk-error-fields', get('node-sdk-error-fields')),
    publicUrl: publicUrl(get('public-url')),
    auditRefusalRate: wholeNumber('audit-refusal-rate', get('audit-refusal-rate'), 0, 1_000_000),
    loginFailures: wholeNumber('login-failures', get('login-failures'), 0, 1_000_000),
    legacyEnvelopes: flag('legacy-envelopes', get('legacy-envelopes')),
    health: flag('health', get('health')),
    ready: flag('ready', get('ready')),
    metrics: flag('metrics', get('metrics')),
    logFormat,
    shutdownGrace: wholeNumber('shutdown-grace', get('shutdown-grace'), 0, 600_000),
    seed: get('seed') === '' ? null : resolve(get('seed')),
    auditLog: get('audit-log') === '' ? null : resolve(get('audit-log')),
    workers,
    loopStartLoad: wholeNumber('loop-start-load', get('loop-start-load'), 0, 100),
    endpointFile: get('endpoint-file') === '' ? null : resolve(get('endpoint-file')),
    ...tls,
    nativeCrypto: get('native-crypto') === '' ? null : get('native-crypto') === 'none' ? 'none' : resolve(get('native-crypto')),
  });
}

/** --tls-cert and --tls-key come together, and not with --tls-self-signed. */
function tlsFiles(cert: string, key: string, selfSigned: boolean): Pick<Config, 'tlsCert' | 'tlsKey' | 'tlsSelfSigned'> {
  if ((cert === '') !== (key === '')) throw new ConfigError('--tls-cert and --tls-key go together: give both (or --tls-self-signed)');
  if (selfSigned && cert !== '') throw new ConfigError('--tls-self-signed makes its own certificate: give it or --tls-cert/--tls-key, not both');
  return { tlsCert: cert === '' ? null : resolve(cert), tlsKey: key === '' ? null : resolve(key), tlsSelfSigned: selfSigned };
}

/** A configuration for tests: defaults, overridden. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  // Tests that start several loops want them all serving (`joined`); the on-demand start is tested on its own.
  return Object.freeze({ ...parseConfig([], {}), dataDir: '/nonexistent', loopStartLoad: 0, ...overrides });
}
