import { escapeCell } from './table.ts';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { KmsClient, type KmsClientOptions } from '../client/client.ts';
import { KmsConnectionError, KmsError } from '../client/errors.ts';

/**
 * What the client commands (keys, grants, encrypt, call, ...) share: the connection flags,
 * where credentials come from, the two output formats and the exit codes.
 *
 * Credentials, as one set from the first source that has any: flags (--ak/--sk, or
 * --user/--password/--domain), the environment (HUAWEICLOUD_SDK_AK/SK as the official SDKs
 * read them, or CLOUD_SDK_AK/SK; KMSD_USER/KMSD_PASSWORD/KMSD_DOMAIN), then the profile file.
 * Endpoint, region and project id: flag, then environment, then profile, then defaults.
 */

/** A mistake in the command line: exit code 2. */
export class UsageError extends Error {}

export const EXIT = { usage: 2, refused: 3, unreachable: 4 } as const;

export const CONNECTION_HELP = `connection (flag / environment / profile key):
  --endpoint URL        KMSD_ENDPOINT                     endpoint   default http://127.0.0.1:8080
  --region R            HUAWEICLOUD_SDK_REGION            region     default from kms.<region>.… or cn-north-4
  --project-id ID       HUAWEICLOUD_SDK_PROJECT_ID        project_id default: looked up by region
  --ak AK --sk SK       HUAWEICLOUD_SDK_AK/SK (or CLOUD_SDK_AK/SK)    ak, sk
  --security-token T    HUAWEICLOUD_SDK_SECURITY_TOKEN    security_token
  --user U --password P --domain ACCOUNT   KMSD_USER/KMSD_PASSWORD/KMSD_DOMAIN   user, password, domain
  --iam-endpoint URL    HUAWEICLOUD_SDK_IAM_ENDPOINT      iam_endpoint
  --ca-file FILE        KMSD_CA_FILE                      ca_file    CA certificate(s) (PEM) to trust for https
  --profile NAME        KMSD_PROFILE (default "default"), from KMSD_PROFILES_FILE or ~/.config/kmsd/profiles.json
  --timeout MS          per request (default 30000)
  --output table|json   human tables (default) or one line of JSON (-o)`;

const CONNECTION_FLAGS = {
  endpoint: { type: 'string' },
  region: { type: 'string' },
  'project-id': { type: 'string' },
  ak: { type: 'string' },
  sk: { type: 'string' },
  'security-token': { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  domain: { type: 'string' },
  'iam-endpoint': { type: 'string' },
  'ca-file': { type: 'string' },
  profile: { type: 'string' },
  timeout: { type: 'string' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flags = Record<string, string | boolean | undefined>;

export interface Parsed {
  flags: Flags;
  positionals: string[];
}

/** Parses a command's flags (its own and the connection flags). */
export function parse(argv: string[], own: ParseArgsConfig['options'] = {}): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...CONNECTION_FLAGS, ...own }, strict: true, allowPositionals: true });
    return { flags: values as Flags, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export type Output = 'table' | 'json';

export function outputOf(flags: Flags): Output {
  const output = (flags.output as string | undefined) ?? 'table';
  if (output !== 'table' && output !== 'json') throw new UsageError(`--output must be table or json, got "${output}"`);
  return output;
}

type Profile = Record<string, string>;

/** The profiles file: KMSD_PROFILES_FILE, else $XDG_CONFIG_HOME/kmsd/profiles.json, else ~/.config/kmsd/profiles.json. */
export function profilesFile(env: NodeJS.ProcessEnv): string {
  return env.KMSD_PROFILES_FILE ?? join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'kmsd', 'profiles.json');
}

function loadProfile(flags: Flags, env: NodeJS.ProcessEnv): Profile {
  const file = profilesFile(env);
  const named = (flags.profile as string | undefined) ?? env.KMSD_PROFILE;
  const name = named ?? 'default';
  if (!existsSync(file)) {
    if (named !== undefined) throw new UsageError(`no profile "${name}": ${file} does not exist`);
    return {};
  }
  let profiles: Record<string, Profile>;
  try {
    profiles = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  const profile = profiles?.[name];
  if (profile === undefined) {
    if (named !== undefined) throw new UsageError(`no profile "${name}" in ${file}`);
    return {};
  }
  if (typeof profile !== 'object' || profile === null) throw new UsageError(`${file}: profile "${name}" must be an object`);
  return profile;
}

/** The client options from flags, environment and profile. */
export function clientOptions(flags: Flags, env: NodeJS.ProcessEnv): KmsClientOptions {
  const profile = loadProfile(flags, env);
  const f = (name: string) => flags[name] as string | undefined;
  const sources: Array<Record<string, string | undefined>> = [
    { ak: f('ak'), sk: f('sk'), securityToken: f('security-token'), username: f('user'), password: f('password'), domain: f('domain') },
    {
      ak: env.HUAWEICLOUD_SDK_AK ?? env.CLOUD_SDK_AK, sk: env.HUAWEICLOUD_SDK_SK ?? env.CLOUD_SDK_SK,
      securityToken: env.HUAWEICLOUD_SDK_SECURITY_TOKEN, username: env.KMSD_USER, password: env.KMSD_PASSWORD, domain: env.KMSD_DOMAIN,
    },
    { ak: profile.ak, sk: profile.sk, securityToken: profile.security_token, username: profile.user, password: profile.password, domain: profile.domain },
  ];
  const credentials = sources.find((s) => s.ak !== undefined || s.sk !== undefined || s.username !== undefined || s.password !== undefined);
  if (!credentials) {
    throw new UsageError(`no credentials: give --ak and --sk (or HUAWEICLOUD_SDK_AK/HUAWEICLOUD_SDK_SK), --user/--password/--domain, or a profile in ${profilesFile(env)}`);
  }
  const options: KmsClientOptions = {
    endpoint: f('endpoint') ?? env.KMSD_ENDPOINT ?? profile.endpoint,
    region: f('region') ?? env.HUAWEICLOUD_SDK_REGION ?? profile.region,
    projectId: f('project-id') ?? env.HUAWEICLOUD_SDK_PROJECT_ID ?? profile.project_id,
    iamEndpoint: f('iam-endpoint') ?? env.HUAWEICLOUD_SDK_IAM_ENDPOINT ?? profile.iam_endpoint,
  };
  if (credentials.ak !== undefined || credentials.sk !== undefined) {
    if (!credentials.ak || !credentials.sk) throw new UsageError('give both an AK and an SK');
    Object.assign(options, { ak: credentials.ak, sk: credentials.sk, securityToken: credentials.securityToken });
  } else {
    if (!credentials.username || !credentials.password || !credentials.domain) throw new UsageError('password login needs --user, --password and --domain');
    Object.assign(options, { username: credentials.username, password: credentials.password, domain: credentials.domain });
  }
  const caFile = f('ca-file') ?? env.KMSD_CA_FILE ?? profile.ca_file;
  if (caFile !== undefined) options.ca = readCaFile(caFile);
  const timeout = f('timeout');
  if (timeout !== undefined) {
    if (!/^[0-9]{1,9}$/.test(timeout) || Number(timeout) === 0) throw new UsageError(`--timeout must be a whole number of ms, got "${timeout}"`);
    options.timeoutMs = Number(timeout);
  }
  for (const key of Object.keys(options) as Array<keyof KmsClientOptions>) if (options[key] === undefined) delete options[key];
  return options;
}

/** The CA certificates of --ca-file: PEM, readable. */
export function readCaFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the CA file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`the CA file ${path} holds no PEM certificate`);
  return text;
}

export function connect(flags: Flags, env: NodeJS.ProcessEnv = process.env): KmsClient {
  // A server that cannot be reached is said at once, with each retry, rather than after seconds of silence.
  return new KmsClient({ ...clientOptions(flags, env), onRetry: ({ attempt, retries, delayMs, error }) => {
    retried = true;
    process.stderr.write(`kmsd: ${failureOf(error)}; retry ${attempt} of ${retries} in ${(delayMs / 1000).toFixed(1)} s\n`);
  } });
}

/** Whether a call of this command was retried: its last failure then says it gave up. */
let retried = false;

/** One failure in words: who could not be reached and why, or the refusal's code and status. */
function failureOf(error: Error): string {
  if (error instanceof KmsConnectionError) return `cannot reach ${new URL(error.url).origin}: ${error.timedOut ? 'no answer in time' : (error.message.split(': ').pop() as string)}`;
  if (error instanceof KmsError) return `${error.code} ${error.message} (HTTP ${error.status})`;
  return error.message;
}

/** Text for stdout in the chosen format: one line of JSON, or the table/record the command builds. */
export function emit(output: Output, value: unknown, human: () => string): void {
  const text = output === 'json' ? `${JSON.stringify(value)}\n` : human();
  if (text !== '') process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Tables (escaped cells, display widths) live in table.ts; commands import them from here. */
export { table } from './table.ts';

/** One object as "name  value" lines (nested objects flattened into their members), values escaped as table cells are. */
export function record(value: Record<string, unknown>): string {
  const entries = Object.entries(value).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)]);
  const width = Math.max(0, ...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${k.padEnd(width)}  ${escapeCell(v)}`.trimEnd()).join('\n');
}

const STATES: Record<string, string> = { 1: 'pending-activation', 2: 'enabled', 3: 'disabled', 4: 'pending-deletion', 5: 'pending-import', 7: 'frozen' };
export const stateName = (state: unknown): string => (typeof state === 'string' && STATES[state] ? STATES[state] : String(state ?? ''));
/** A millisecond timestamp string as ISO 8601 ("" stays ""). */
export const time = (ms: unknown): string => (typeof ms === 'string' && /^[0-9]+$/.test(ms) ? new Date(Number(ms)).toISOString() : String(ms ?? ''));

/** Reads a file, or stdin for "-" or none. */
export async function readInput(path: string | undefined): Promise<Buffer> {
  if (path !== undefined && path !== '-') {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Writes to a file, or stdout for "-" or none. */
export function writeOutput(path: string | undefined, data: Buffer | string): void {
  if (path !== undefined && path !== '-') writeFileSync(path, data, { mode: 0o600 });
  else process.stdout.write(data);
}

/**
 * Runs a client command: --help prints its help; a usage mistake exits 2, a refusal by the
 * server 3 (with its code), an unreachable server 4.
 */
export function command(help: string, run: (parsed: Parsed, output: Output) => Promise<void>, own: ParseArgsConfig['options'] = {}) {
  return async (argv: string[]): Promise<void> => {
    try {
      if (argv.includes('--help') || argv.includes('-h')) {
        process.stdout.write(`${help}\n`);
        return;
      }
      const parsed = parse(argv, own);
      await run(parsed, outputOf(parsed.flags));
    } catch (error) {
      process.exitCode = failure(error);
    }
  };
}

/** Prints why a command failed; returns its exit code. */
export function failure(error: unknown): number {
  if (error instanceof UsageError) {
    process.stderr.write(`kmsd: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof KmsError) {
    process.stderr.write(`kmsd: ${error.code} ${error.message} (HTTP ${error.status}${error.requestId ? `, request ${error.requestId}` : ''})\n`);
    return EXIT.refused;
  }
  if (error instanceof KmsConnectionError) {
    process.stderr.write(`kmsd: ${failureOf(error)}${retried ? '; gave up' : ''}\n`);
    return EXIT.unreachable;
  }
  if (error instanceof TypeError && error.message.startsWith('KmsClient: ')) {
    process.stderr.write(`kmsd: ${error.message.slice('KmsClient: '.length)}\n`);
    return EXIT.usage;
  }
  throw error;
}

/** A positional argument, or a usage error naming it. */
export function positional(parsed: Parsed, index: number, name: string): string {
  const value = parsed.positionals[index];
  if (value === undefined) throw new UsageError(`missing ${name}`);
  return value;
}

export function noMorePositionals(parsed: Parsed, count: number): void {
  if (parsed.positionals.length > count) throw new UsageError(`unexpected argument "${parsed.positionals[count]}"`);
}
