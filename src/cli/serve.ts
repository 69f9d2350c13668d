import { parseConfig } from '../config.ts';
import { startServer } from '../server.ts';

/** `kmsd serve`: starts the server, prints where it serves (and the development account), stops on SIGINT/SIGTERM. */
export async function serve(argv: string[]): Promise<void> {
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
  // SIGHUP re-reads the identities file without a restart (CI pipelines rotate credentials so):
  // whatever it no longer lists is disabled at once, on every node.
  process.on('SIGHUP', () => {
    server.reloadIdentities().then(
      () => process.stdout.write('kmsd: identities reloaded\n'),
      (error: Error) => process.stderr.write(`kmsd: identities not reloaded (the ones in force stay): ${error.message}\n`),
    );
  });
}
