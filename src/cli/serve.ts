import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, type Config } from '../config.ts';
import { startWorkers } from '../cluster.ts';
import { StartError } from '../root-key.ts';
import { sizeThreadPool } from '../core/fair-gate.ts';
import { startServer, type RunningServer } from '../server.ts';
import { checkEndpointFile, describePostgres } from '../start-checks.ts';
import { writeFileWhole } from './endpoint-file.ts';
import { validityWarning } from '../tls/certificate.ts';

/** Where the console is served (src/api/console). */
export const CONSOLE_PATH = '/_kmsd/console/';

/** Who may call a started kmsd: what the banner prints and the endpoint file holds. */
export interface ServingDescription {
  endpoint: string;
  region: string;
  store: string;
  console: string;
  health: string | null;
  /** "development" (generated: secrets included) or "identities" (a file of the operator's: no secrets). */
  accounts_from: 'development' | 'identities';
  accounts: Array<{
    name: string;
    id: string;
    project_id: string;
    users: Array<{ name: string; id: string; password?: string; access_keys: Array<{ ak: string; sk?: string }> }>;
  }>;
}

/**
 * Every account with its id and project id, every user with its id and access keys. Secrets
 * (password, SK) only for the generated development account, whose file holds them anyway.
 */
export async function describeServing(server: RunningServer, config: Config): Promise<ServingDescription> {
  const dev = server.devIdentities;
  const accounts = await server.store.read(async (tx) => {
    const out: ServingDescription['accounts'] = [];
    for (const account of server.identities.accounts) {
      const found = await tx.findAccountByName(account.name);
      const projectId = (await tx.projectsOfAccount(found?.id ?? '')).find((p) => p.name === config.region)?.id;
      const users = [];
      for (const user of account.users) {
        users.push({
          name: user.name,
          id: (await tx.findUser(found?.id ?? '', user.name))?.id ?? '',
          ...(dev && user.password !== undefined && { password: user.password }),
          access_keys: (user.access_keys ?? []).map((k) => (dev ? { ak: k.ak, sk: k.sk } : { ak: k.ak })),
        });
      }
      out.push({ name: account.name, id: found?.id ?? '', project_id: projectId ?? '', users });
    }
    return out;
  });
  const url = reachableAt(server, config);
  return {
    endpoint: url,
    region: config.region,
    store: server.store.driver,
    console: `${url}${CONSOLE_PATH}`,
    health: config.health ? `${url}/_kmsd/health` : null,
    accounts_from: dev ? 'development' : 'identities',
    accounts,
  };
}

/** Where a caller reaches kmsd: --public-url when given, else where it listens (loopback for 0.0.0.0). */
const reachableAt = (server: RunningServer, config: Config): string => config.publicUrl ?? server.url;

/** The start banner: where kmsd serves, its store, and who may call it (describeServing). */
export async function banner(server: RunningServer, config: Config, described?: ServingDescription): Promise<string> {
  const url = reachableAt(server, config);
  const store = config.store === 'sqlite' ? `sqlite (${join(config.dataDir, 'kmsd.db')})` : `postgres (${describePostgres(config.store)})`;
  const lines = [
    `kmsd is serving the Huawei Cloud KMS v1.0 API at ${url} (region ${config.region}, store ${server.store.driver})`,
    `  endpoint    ${url}`,
    ...(url !== server.url ? [`  listening   ${server.url}`] : []),
    `  region      ${config.region}`,
    `  store       ${store}`,
    `  console     ${url}${CONSOLE_PATH}`,
  ];
  if (server.tls) {
    const made = server.tlsMade ? ` (self-signed, made now: ${server.tlsMade})` : config.tlsSelfSigned ? ' (self-signed, kept from an earlier start)' : '';
    lines.push(`  tls         ${server.tls.certPath}${made}`, `  sha-256     ${server.tls.fingerprint}`);
  }
  if (config.workers > 1) {
    const when = config.loopStartLoad > 0 ? `start when the main thread is ${config.loopStartLoad} % busy (--loop-start-load)` : 'join the port as they start';
    lines.push(`  workers     ${config.workers} event loops: the main thread serves now, ${config.workers - 1} worker thread(s) ${when}`);
  }
  const ops = [config.health && '/_kmsd/health', config.ready && '/_kmsd/ready', config.metrics && '/_kmsd/metrics'].filter(Boolean);
  if (ops.length > 0) lines.push(`  operator    ${ops.map((p) => `${url}${p}`).join('  ')}`);
  if (server.seal?.sealed) {
    const status = await server.seal.unsealer.status();
    lines.push(
      `  sealed      ${status.threshold} of its ${status.shares} shares unseal it: kmsd unseal --url ${url}${caFlag(server, config)}`,
      '  (every KMS and IAM request is answered 503 until then; the accounts are printed once unsealed)',
    );
    return `${lines.join('\n')}\n`;
  }
  return `${lines.join('\n')}\n${await accountLines(server, config, described)}`;
}

/** A self-signed certificate is the client's trust anchor too: kmsd unseal needs it (--ca-file). */
const caFlag = (server: RunningServer, config: Config): string => (server.tls && config.tlsSelfSigned ? ` --ca-file ${server.tls.certPath}` : '');

/** Who may call kmsd (see banner). */
export async function accountLines(server: RunningServer, config: Config, described?: ServingDescription): Promise<string> {
  const d = described ?? (await describeServing(server, config));
  const lines: string[] = [];
  const dev = server.devIdentities;
  lines.push(dev ? `development account (from ${dev.path}):` : `accounts (from ${config.identities}):`);
  for (const account of d.accounts) {
    lines.push(`  account     ${account.name} (id ${account.id})`, `  project id  ${account.project_id}`);
    for (const user of account.users) {
      lines.push(`  user        ${user.name} (id ${user.id})`);
      if (user.password !== undefined) lines.push(`  password    ${user.password}`);
      for (const k of user.access_keys) lines.push(k.sk === undefined ? `  AK          ${k.ak}` : `  AK / SK     ${k.ak} / ${k.sk}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Writes the endpoint file whole or not at all (a reader never sees half of it), mode 0600. */
export function writeEndpointFile(path: string, described: ServingDescription): void {
  writeFileWhole(path, `${JSON.stringify(described, null, 2)}\n`);
}

/**
 * Resolves once the log's last lines are written, or their write failed, or after a second.
 * Awaited before the process exits: pino writes its lines to standard output asynchronously and
 * flushes what is left at exit synchronously; when the reader of that output is gone (`kmsd
 * serve | tee log`, the pipeline ended with Ctrl-C), the exit's flush would throw EPIPE from the
 * exit handler (a stack trace on the terminal) unless the pending write has failed first, which
 * makes pino drop every later line quietly. A reader that is there but slow gets a second.
 */
function logWritten(logger: RunningServer['logger']): Promise<void> {
  if (!logger) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 1000);
    logger.flush(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** `kmsd serve`: starts the server, prints the banner, stops on SIGINT/SIGTERM (see RunningServer.close). */
export async function serve(argv: string[]): Promise<void> {
  const config = parseConfig(argv, process.env);
  // Before anything starts libuv's pool: it is sized once, when it first starts.
  sizeThreadPool(config.workers, process.env);
  // A file left by an earlier run must not be read as this one's. Checked first (the start
  // checks do again, with the rest): a path kmsd cannot write ends here with one line, exit 2.
  if (config.endpointFile) {
    checkEndpointFile(config.endpointFile);
    try {
      rmSync(config.endpointFile, { force: true });
    } catch (error) {
      throw new StartError(`cannot remove the earlier endpoint file ${config.endpointFile}: ${(error as Error).message}`);
    }
  }
  const workers = config.workers > 1 ? await startWorkers(config, workerFailed) : null;
  const server = workers ?? (await startServer(config));
  const described = await describeServing(server, config);
  const text = await banner(server, config, described);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal does not wait for the grace period.
      process.stderr.write(`kmsd: ${signal} again: stopping now\n`);
      process.exit(1);
    }
    stopping = true;
    server.close(`${signal} received`).then(
      async () => {
        if (config.endpointFile) rmSync(config.endpointFile, { force: true });
        await logWritten(server.logger);
        process.exit(0);
      },
      async (error: unknown) => {
        if (server.logger) server.logger.error({ err: error }, 'shutdown failed');
        await logWritten(server.logger);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // SIGHUP re-reads the identities file without a restart (CI pipelines rotate credentials so):
  // whatever it no longer lists is disabled at once, on every node. It re-reads the TLS
  // certificate and key too: new connections get the new pair, on every event loop.
  process.on('SIGHUP', () => {
    server.reloadIdentities().then(
      (added) => process.stdout.write(`kmsd: identities reloaded${added.map((u) => `; added user ${u.name} (id ${u.id}) in ${u.account}`).join('')}\n`),
      (error: Error) => process.stderr.write(`kmsd: identities not reloaded (the ones in force stay): ${error.message}\n`),
    );
    if (server.tls) {
      server.reloadTls().then(
        (pair) => {
          process.stdout.write(`kmsd: TLS certificate reloaded (sha-256 ${pair?.fingerprint})\n`);
          // Served all the same (as at a start): the operator hears that clients will refuse it.
          const warning = pair && validityWarning(pair, Date.now());
          if (warning) process.stderr.write(`kmsd: ${warning}\n`);
        },
        (error: Error) => process.stderr.write(`kmsd: TLS certificate not reloaded (the one in force stays): ${error.message}\n`),
      );
    }
  });
  // The banner and the endpoint file last: whoever waits for them may signal kmsd at once.
  if (config.endpointFile) {
    try {
      writeEndpointFile(config.endpointFile, described);
    } catch (error) {
      // Checked at start, yet the directory can change since: a harness waiting for the file
      // must not wait on a server nobody can find. One line, the server closed, exit 2.
      stopping = true;
      process.stderr.write(`kmsd: cannot write the endpoint file ${config.endpointFile}: ${(error as Error).message}; stopping\n`);
      await server.close('the endpoint file could not be written').catch(() => undefined);
      process.exit(2);
    }
  }
  // A reader of kmsd's output that went away (`kmsd serve | head -2`) fails every later write
  // with EPIPE, which Node raises as an uncaught error (a stack trace, exit 1). Those lines are
  // dropped and kmsd goes on serving, as it does when its log's reader goes away (pino drops
  // them): DECISIONS.closedOutputKeepsServing.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
  process.stdout.write(text);
  if (server.seal?.sealed) {
    // Once enough shares are in (on this node; every node of a cluster is unsealed on its own).
    server.unsealed.then(
      async () => process.stdout.write(`kmsd: unsealed: serving\n${await accountLines(server, config)}`),
      (error: Error) => {
        process.stderr.write(`kmsd: ${error instanceof StartError ? error.message : error?.stack ?? String(error)}\n`);
        process.exit(2);
      },
    );
  }
  if (workers) {
    // The workers join after the banner; one started with the node that fails to start stops the
    // process as a failed start would (one started later, on load, is logged and left out).
    workers.joined.then(
      (serving) => stopping || process.stdout.write(serving === config.workers ? `kmsd: all ${config.workers} event loops are serving\n` : `kmsd: ${serving} of ${config.workers} event loops are serving\n`),
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
