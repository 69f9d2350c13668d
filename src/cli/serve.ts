import { join } from 'node:path';
import { parseConfig, type Config } from '../config.ts';
import { startWorkers } from '../cluster.ts';
import { sizeThreadPool } from '../core/fair-gate.ts';
import { startServer, type RunningServer } from '../server.ts';
import { describePostgres } from '../start-checks.ts';

/** Where the console is served (src/api/console). */
export const CONSOLE_PATH = '/_kmsd/console/';

/**
 * The start banner: where kmsd serves, its store, and who may call it — every account with
 * its id and project id, every user with its id and access keys. Secrets (password, SK) are
 * printed only for the generated development account, whose file holds them anyway.
 */
export async function banner(server: RunningServer, config: Config): Promise<string> {
  const store = config.store === 'sqlite' ? `sqlite (${join(config.dataDir, 'kmsd.db')})` : `postgres (${describePostgres(config.store)})`;
  const lines = [
    `kmsd is serving the Huawei Cloud KMS v1.0 API at ${server.url} (region ${config.region}, store ${server.store.driver})`,
    `  endpoint    ${server.url}`,
    `  region      ${config.region}`,
    `  store       ${store}`,
    `  console     ${server.url}${CONSOLE_PATH}`,
  ];
  if (config.workers > 1) lines.push(`  workers     ${config.workers} event loops: the main thread serves now, ${config.workers - 1} worker thread(s) join the port as they start`);
  const ops = [config.health && '/_kmsd/health', config.ready && '/_kmsd/ready', config.metrics && '/_kmsd/metrics'].filter(Boolean);
  if (ops.length > 0) lines.push(`  operator    ${ops.map((p) => `${server.url}${p}`).join('  ')}`);
  const dev = server.devIdentities;
  lines.push(dev ? `development account (from ${dev.path}):` : `accounts (from ${config.identities}):`);
  const ids = await server.store.read(async (tx) => {
    const out = [];
    for (const account of server.identities.accounts) {
      const found = await tx.findAccountByName(account.name);
      const projectId = (await tx.projectsOfAccount(found?.id ?? '')).find((p) => p.name === config.region)?.id;
      const users = [];
      for (const user of account.users) users.push((await tx.findUser(found?.id ?? '', user.name))?.id);
      out.push({ accountId: found?.id, projectId, users });
    }
    return out;
  });
  server.identities.accounts.forEach((account, i) => {
    lines.push(`  account     ${account.name} (id ${ids[i].accountId})`, `  project id  ${ids[i].projectId}`);
    account.users.forEach((user, j) => {
      lines.push(`  user        ${user.name} (id ${ids[i].users[j]})`);
      if (dev) {
        if (user.password !== undefined) lines.push(`  password    ${user.password}`);
        for (const k of user.access_keys ?? []) lines.push(`  AK / SK     ${k.ak} / ${k.sk}`);
      } else {
        for (const k of user.access_keys ?? []) lines.push(`  AK          ${k.ak}`);
      }
    });
  });
  return `${lines.join('\n')}\n`;
}

/** `kmsd serve`: starts the server, prints the banner, stops on SIGINT/SIGTERM (see RunningServer.close). */
export async function serve(argv: string[]): Promise<void> {
  const config = parseConfig(argv, process.env);
  // Before anything starts libuv's pool: it is sized once, when it first starts.
  sizeThreadPool(config.workers, process.env);
  const workers = config.workers > 1 ? await startWorkers(config, workerFailed) : null;
  const server = workers ?? (await startServer(config));
  const text = await banner(server, config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal does not wait for the grace period.
      process.stderr.write(`kmsd: ${signal} again: stopping now\n`);
      process.exit(1);
    }
    stopping = true;
    server.close(`${signal} received`).then(
      () => process.exit(0),
      (error: unknown) => {
        if (server.logger) server.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // SIGHUP re-reads the identities file without a restart (CI pipelines rotate credentials so):
  // whatever it no longer lists is disabled at once, on every node.
  process.on('SIGHUP', () => {
    server.reloadIdentities().then(
      () => process.stdout.write('kmsd: identities reloaded\n'),
      (error: Error) => process.stderr.write(`kmsd: identities not reloaded (the ones in force stay): ${error.message}\n`),
    );
  });
  // The banner last: whoever waits for it may signal kmsd at once.
  process.stdout.write(text);
  if (workers) {
    // The workers join after the banner; one that fails to start stops the process as a failed start would.
    workers.joined.then(
      () => stopping || process.stdout.write(`kmsd: all ${config.workers} event loops are serving\n`),
      (error: unknown) => {
        process.stderr.write(`kmsd: a worker thread failed to start, stopped: ${(error as Error)?.stack ?? String(error)}\n`);
        process.exit(1);
      },
    );
  }
}

/** A worker thread that fails ends the whole process, as a crash of a single-loop kmsd would. */
function workerFailed(error: unknown): void {
  process.stderr.write(`kmsd: a worker thread failed, stopping: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
}
