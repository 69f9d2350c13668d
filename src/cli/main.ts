// First: V8's old-generation growth, before the heap grows (src/memory/heap-growth.ts says why here).
import '../memory/heap-growth.ts';
import { kmsdVersion } from '../package-root.ts';
import { ConfigError } from '../config.ts';
import { StartError } from '../root-key.ts';

const SERVE_USAGE = `usage: kmsd serve [--host H] [--port P] [--data-dir DIR] [--identities FILE] [--region R]
                  [--store sqlite|postgres://...] [--root-key-file FILE] [--max-grants-per-key N]
                  [--max-keys N] [--body-limit BYTES] [--log-level LEVEL]
                  [--rate-limit N] [--workers N] [--loop-start-load PERCENT] [--header-timeout MS] [--request-timeout MS] [--keep-alive-timeout MS]
                  [--seed FILE] [--log-format pretty|json] [--shutdown-grace MS]
                  [--health true|false] [--ready true|false] [--metrics true|false]
                  [--public-url URL] [--audit-refusal-rate N] [--audit-log FILE] [--login-failures N] [--legacy-envelopes true|false]
                  [--endpoint-file FILE]
                  [--tls-cert FILE --tls-key FILE | --tls-self-signed]
                  [--native-crypto FILE|none]
Every flag is also an environment variable: KMSD_HOST, KMSD_PORT, KMSD_DATA_DIR, ...
The root key may also be given as KMSD_ROOT_KEY (base64 of 32 bytes).
--endpoint-file FILE: once serving, writes the endpoint and credentials there as JSON (mode 0600;
removed at a clean stop), for test harnesses: with --port 0 it tells them the port.`;

const RESET_USAGE = `usage: kmsd reset [--data-dir DIR] [--yes]
Deletes the store, the root key and the development account of a data directory (asks first).`;

const AUDIT_USAGE = `usage: kmsd audit [--data-dir DIR | --store postgres://...] [--key KEY_ID] [--principal ID] [--since ISO-TIME] [--output table|json]
Prints the audit trail, oldest first: a table naming callers (user@account) and keys (alias) by default,
one JSON object a line with --output json (-o json).
       kmsd audit verify [--data-dir DIR | --store postgres://...] [--expect-head SEQ:HASH]
Checks the trail's hash chain (no root key needed): exit 0 when intact, 1 naming the first bad record.`;

const BACKUP_USAGE = `usage: kmsd backup --out FILE [--data-dir DIR | --store postgres://...]
Writes a consistent backup of the store while kmsd serves it (sealed material only, never the root key).
Its SHA-256 end record catches a file cut short or corrupted, NOT one changed on purpose (anyone who can
write the file can recompute it): keep backups where only you can write them, or sign them yourself.`;

const RESTORE_USAGE = `usage: kmsd restore --in FILE [--data-dir NEWDIR | --store postgres://...]
Restores a backup into a new data directory or an empty PostgreSQL database (either kind, from either kind).
The restored store accepts the source's live tokens and access keys. A file corrupted or cut short is
refused; a file changed on purpose is not detected (its SHA-256 is no signature).`;

const ROTATE_USAGE = `usage: kmsd rotate-root-key --new-root-key-file FILE [--data-dir DIR | --store postgres://...] [--root-key-file CURRENT]
With every kmsd on the store stopped: reseals everything sealed under the current root key (KMSD_ROOT_KEY,
--root-key-file or DIR/root.key) under the new one, in one transaction.`;

const USAGE = `usage: kmsd <command> [flags]     (kmsd <command> --help for its flags)
server:
  serve                     serve the KMS API
  audit                     print the audit trail of a store (audit verify: check its hash chain)
  seal init|status          make a new store sealed under Shamir shares; a node's seal
  unseal                    give a sealed node one of its shares
  reset                     start over: delete a data directory's store (asks first)
  backup                    write a consistent backup of a store, while it serves
  restore                   restore a backup into an empty store (SQLite or PostgreSQL)
  rotate-root-key           reseal a stopped store under a new root key
  openapi                   print the OpenAPI 3.1 document
  health                    exit 0 when a running kmsd answers /_kmsd/health (a health probe)
client (of a running kmsd, or Huawei Cloud KMS with --endpoint):
  keys list|create|describe|enable|disable|delete|cancel-delete
  grants list|list-retirable|create|revoke|retire
  secrets list|create|show|get-value|put-value|versions|stage|delete|restore|password   (CSMS)
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
  backup: helpOr(BACKUP_USAGE, async (argv) => (await import('./backup.ts')).backup(argv, process.env, process.stdout)),
  restore: helpOr(RESTORE_USAGE, async (argv) => (await import('./backup.ts')).restore(argv, process.env, process.stdout)),
  'rotate-root-key': helpOr(ROTATE_USAGE, async (argv) => (await import('./rotate-root-key.ts')).rotateRootKeyCommand(argv, process.env, process.stdout)),
  seal: async (argv) => {
    const [sub, ...rest] = argv;
    if (sub === 'init') {
      const { sealInit, SEAL_INIT_USAGE } = await import('../seal/init.ts');
      return helpOr(SEAL_INIT_USAGE, (a) => sealInit(a, process.env, process.stdout))(rest);
    }
    if (sub === 'status') return (await import('./seal.ts')).sealStatus(rest);
    const asked = sub === undefined || sub === '--help' || sub === '-h';
    (asked ? process.stdout : process.stderr).write(`${asked ? '' : `kmsd: unknown seal command "${sub}"\n`}usage: kmsd seal init|status (kmsd seal <command> --help for its flags)\n`);
    process.exitCode = asked ? 0 : 2;
  },
  unseal: async (argv) => (await import('./seal.ts')).unseal(argv),
  keys: async (argv) => (await import('./keys.ts')).keys(argv),
  grants: async (argv) => (await import('./grants.ts')).grants(argv),
  secrets: async (argv) => (await import('./secrets.ts')).secrets(argv),
  encrypt: async (argv) => (await import('./crypto.ts')).encrypt(argv),
  decrypt: async (argv) => (await import('./crypto.ts')).decrypt(argv),
  datakey: async (argv) => (await import('./crypto.ts')).datakey(argv),
  random: async (argv) => (await import('./crypto.ts')).random(argv),
  call: async (argv) => (await import('./call.ts')).call(argv),
  openapi: async (argv) => (await import('./openapi.ts')).openapi(argv),
  health: async (argv) => (await import('./health.ts')).health(argv),
};

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    if (command === '--version' || command === '-v' || command === 'version') {
      process.stdout.write(`kmsd ${kmsdVersion()}\n`);
      return;
    }
    const run = command === undefined ? undefined : COMMANDS[command];
    if (run) return await run(rest);
    // Asked for: usage on stdout, exit 0. Not given or unknown: usage on stderr, exit 2, as every
    // command group (kmsd keys) answers a missing subcommand.
    const asked = command === 'help' || command === '--help' || command === '-h';
    (asked ? process.stdout : process.stderr).write(`${command === undefined || asked ? '' : `kmsd: unknown command "${command}"\n`}${USAGE}\n`);
    process.exitCode = asked ? 0 : 2;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof StartError) {
      process.stderr.write(`kmsd: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

// Not a top-level await: the single executable's CommonJS bundle cannot hold one. A failure
// is still an uncaught error (its stack printed, exit code 1).
main(process.argv.slice(2)).catch((error: unknown) => {
  process.exitCode = 1;
  throw error;
});
