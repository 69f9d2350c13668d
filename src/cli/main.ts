import { ConfigError, parseConfig } from '../config.ts';
import { StartError } from '../root-key.ts';
import { startServer } from '../server.ts';
import { printAudit } from './audit.ts';

const USAGE = `usage: kmsd serve [--host H] [--port P] [--data-dir DIR] [--identities FILE] [--region R]
                  [--store sqlite|postgres://...] [--root-key-file FILE] [--max-grants-per-key N]
                  [--max-keys N] [--body-limit BYTES] [--log-level LEVEL]
                  [--rate-limit N] [--header-timeout MS] [--request-timeout MS] [--keep-alive-timeout MS]
       kmsd audit [--data-dir DIR | --store postgres://...] [--key KEY_ID] [--principal ID] [--since ISO-TIME]
Every flag is also an environment variable: KMSD_HOST, KMSD_PORT, KMSD_DATA_DIR, ...
The root key may also be given as KMSD_ROOT_KEY (base64 of 32 bytes).`;

async function serve(argv: string[]): Promise<void> {
  const config = parseConfig(argv, process.env);
  const server = await startServer(config);
  const dev = server.devIdentities;
  const lines = [`kmsd is serving the Huawei Cloud KMS v1.0 API at ${server.url} (region ${config.region}, store ${server.store.driver})`];
  if (dev) {
    const account = dev.spec.accounts[0];
    const user = account.users[0];
    const projectId = await server.store.read(async (tx) => {
      const found = await tx.findAccountByName(account.name);
      return (await tx.projectsOfAccount(found?.id ?? '')).find((p) => p.name === config.region)?.id;
    });
    lines.push(
      `development account (from ${dev.path}):`,
      `  endpoint    ${server.url}`,
      `  project id  ${projectId}`,
      `  account     ${account.name}`,
      `  user        ${user.name}`,
      `  password    ${user.password}`,
      `  AK / SK     ${user.access_keys?.[0]?.ak} / ${user.access_keys?.[0]?.sk}`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  const stop = () => {
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    if (command === 'serve') return await serve(rest);
    if (command === 'audit') return await printAudit(rest, process.env, process.stdout);
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
