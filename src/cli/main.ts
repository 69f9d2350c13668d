import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-root.ts';
import { ConfigError } from '../config.ts';
import { StartError } from '../root-key.ts';

const SERVE_USAGE = `usage: kmsd serve [--host H] [--port P] [--data-dir DIR] [--identities FILE] [--region R]
                  [--store sqlite|postgres://...] [--root-key-file FILE] [--max-grants-per-key N]
                  [--max-keys N] [--body-limit BYTES] [--log-level LEVEL]
                  [--rate-limit N] [--workers N] [--header-timeout MS] [--request-timeout MS] [--keep-alive-timeout MS]
                  [--seed FILE] [--log-format pretty|json] [--shutdown-grace MS]
                  [--health true|false] [--ready true|false] [--metrics true|false]
                  [--public-url URL] [--audit-refusal-rate N] [--audit-log FILE] [--login-failures N] [--legacy-envelopes true|false]
Every flag is also an environment variable: KMSD_HOST, KMSD_PORT, KMSD_DATA_DIR, ...
The root key may also be given as KMSD_ROOT_KEY (base64 of 32 bytes).`;

const RESET_USAGE = `usage: kmsd reset [--data-dir DIR] [--yes]
Deletes the store, the root key and the development account of a data directory (asks first).`;

const AUDIT_USAGE = `usage: kmsd audit [--data-dir DIR | --store postgres://...] [--key KEY_ID] [--principal ID] [--since ISO-TIME]
Prints the audit trail, oldest first, one JSON object a line.
       kmsd audit verify [--data-dir DIR | --store postgres://...] [--expect-head SEQ:HASH]
Checks the trail's hash chain (no root key needed): exit 0 when intact, 1 naming the first bad record.`;

const USAGE = `usage: kmsd <command> [flags]     (kmsd <command> --help for its flags)
server:
  serve                     serve the KMS API
  audit                     print the audit trail of a store (audit verify: check its hash chain)
  reset                     start over: delete a data directory's store (asks first)
  openapi                   print the OpenAPI 3.1 document
client (of a running kmsd, or Huawei Cloud KMS with --endpoint):
  keys list|create|describe|enable|disable|delete|cancel-delete
  grants list|list-retirable|create|revoke|retire
  encrypt | decrypt         text through encrypt-data / decrypt-data (stdin/stdout or files)
  datakey                   a new data key
  random                    random bytes
  call <operation> '<json>' any operation
  --version                 the version of kmsd`;

const helpOr = (usage: string, run: (argv: string[]) => Promise<void>) => async (argv: string[]) => {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  await run(argv);
};

/**
 * The subcommands, by name: one file each under src/cli/, loaded when used (the client
 * commands do not load the server).
 */
const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = {
  serve: helpOr(SERVE_USAGE, async (argv) => (await import('./serve.ts')).serve(argv)),
  audit: helpOr(AUDIT_USAGE, async (argv) => {
    if (argv[0] !== 'verify') return (await import('./audit.ts')).printAudit(argv, process.env, process.stdout);
    process.exitCode = await (await import('./audit-verify.ts')).verifyAudit(argv.slice(1), process.env, process.stdout);
  }),
  reset: helpOr(RESET_USAGE, async (argv) => {
    const { reset, terminalAsk } = await import('./reset.ts');
    await reset(argv, { env: process.env, out: process.stdout, ask: terminalAsk() });
  }),
  keys: async (argv) => (await import('./keys.ts')).keys(argv),
  grants: async (argv) => (await import('./grants.ts')).grants(argv),
  encrypt: async (argv) => (await import('./crypto.ts')).encrypt(argv),
  decrypt: async (argv) => (await import('./crypto.ts')).decrypt(argv),
  datakey: async (argv) => (await import('./crypto.ts')).datakey(argv),
  random: async (argv) => (await import('./crypto.ts')).random(argv),
  call: async (argv) => (await import('./call.ts')).call(argv),
  openapi: async (argv) => (await import('./openapi.ts')).openapi(argv),
};

function version(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(import.meta.url), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    if (command === '--version' || command === '-v' || command === 'version') {
      process.stdout.write(`kmsd ${version()}\n`);
      return;
    }
    const run = command === undefined ? undefined : COMMANDS[command];
    if (run) return await run(rest);
    const asked = command === 'help' || command === '--help' || command === '-h';
    (asked ? process.stdout : process.stderr).write(`${command === undefined || asked ? '' : `kmsd: unknown command "${command}"\n`}${USAGE}\n`);
    process.exitCode = command === undefined || asked ? 0 : 2;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof StartError) {
      process.stderr.write(`kmsd: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

await main(process.argv.slice(2));
