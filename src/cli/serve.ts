import { parseConfig } from '../config.ts';
import { startWorkers } from '../cluster.ts';
import { startServer } from '../server.ts';

/** `kmsd serve`: starts the server, prints where it serves (and the development account), stops on SIGINT/SIGTERM. */
export async function serve(argv: string[]): Promise<void> {
  const config = parseConfig(argv, process.env);
  const server = config.workers > 1 ? await startWorkers(config, workerFailed) : await startServer(config);
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

/** A worker thread that fails ends the whole process, as a crash of a single-loop kmsd would. */
function workerFailed(error: unknown): void {
  process.stderr.write(`kmsd: a worker thread failed, stopping: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
}
