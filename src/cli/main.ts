import { ConfigError } from '../config.ts';
import { StartError } from '../root-key.ts';
import { printAudit } from './audit.ts';
import { serve } from './serve.ts';

const USAGE = `usage: kmsd serve [--host H] [--port P] [--data-dir DIR] [--identities FILE] [--region R]
                  [--store sqlite|postgres://...] [--root-key-file FILE] [--max-grants-per-key N]
                  [--max-keys N] [--body-limit BYTES] [--log-level LEVEL]
                  [--rate-limit N] [--workers N] [--header-timeout MS] [--request-timeout MS] [--keep-alive-timeout MS]
       kmsd audit [--data-dir DIR | --store postgres://...] [--key KEY_ID] [--principal ID] [--since ISO-TIME]
Every flag is also an environment variable: KMSD_HOST, KMSD_PORT, KMSD_DATA_DIR, ...
The root key may also be given as KMSD_ROOT_KEY (base64 of 32 bytes).`;

/** The subcommands, by name: one file each under src/cli/. */
const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = {
  serve,
  audit: (argv) => printAudit(argv, process.env, process.stdout),
};

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    const run = command === undefined ? undefined : COMMANDS[command];
    if (run) return await run(rest);
    process.stderr.write(`${USAGE}\n`);
    process.exitCode = command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof StartError) {
      process.stderr.write(`kmsd: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

await main(process.argv.slice(2));
