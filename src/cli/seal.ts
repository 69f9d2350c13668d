import { parseArgs } from 'node:util';
import { fetchTrusting } from '../client/trusting-fetch.ts';
import { EXIT, readCaFile, readInput, UsageError } from './connect.ts';

/**
 * `kmsd seal status` and `kmsd unseal`: a running node's seal, over its /_kmsd/ endpoints.
 * `kmsd seal init` (offline, on a new store) is in src/seal/init.ts.
 */
export const SEAL_STATUS_USAGE = `usage: kmsd seal status [--url URL] [--ca-file FILE] [-o table|json]
Whether the node at URL (KMSD_ENDPOINT, default http://127.0.0.1:8080) is sealed, and how many of its shares are in.`;

export const UNSEAL_USAGE = `usage: kmsd unseal [--url URL] [--ca-file FILE] [-o table|json] [SHARE | -]
Gives the node at URL one unseal share; without SHARE (or with -) it is read from stdin, asked for
without echo on a terminal: that keeps it out of the process list and the shell history. Every node
of a cluster is unsealed on its own.`;

const FLAGS = {
  url: { type: 'string' },
  'ca-file': { type: 'string' },
  output: { type: 'string', short: 'o' },
} as const;

interface Target {
  url: string;
  json: boolean;
  fetch: typeof fetch;
}

function target(values: { url?: string; 'ca-file'?: string; output?: string }, env: NodeJS.ProcessEnv): Target {
  const url = (values.url ?? env.KMSD_ENDPOINT ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+$/.test(url)) throw new UsageError(`--url must be an http:// or https:// URL of a kmsd node, got "${url}"`);
  const output = values.output ?? 'table';
  if (output !== 'table' && output !== 'json') throw new UsageError(`--output must be table or json, got "${output}"`);
  const caFile = values['ca-file'] ?? env.KMSD_CA_FILE;
  return { url, json: output === 'json', fetch: caFile !== undefined ? fetchTrusting(readCaFile(caFile)) : fetch };
}

interface SealAnswer {
  sealed: boolean;
  threshold: number;
  shares: number;
  progress: number;
  error?: string;
}

/** One request to the node; a node that cannot be reached is exit code 4. */
async function ask(t: Target, path: string, body?: unknown): Promise<{ status: number; answer: SealAnswer | null }> {
  let response: Response;
  try {
    response = await t.fetch(`${t.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const e = error as { code?: string; cause?: { code?: string; message?: string }; message?: string };
    throw new Unreachable(`kmsd: cannot reach ${t.url}: ${e.cause?.code ?? e.code ?? e.cause?.message ?? e.message}`);
  }
  const text = await response.text();
  let answer: SealAnswer | null = null;
  try {
    answer = JSON.parse(text) as SealAnswer;
  } catch {
    answer = null;
  }
  return { status: response.status, answer: answer && typeof answer.sealed === 'boolean' ? answer : null };
}

class Unreachable extends Error {}

const progressLine = (a: SealAnswer) => `${a.progress} of ${a.threshold} shares given (${a.shares} made)`;

/** Runs one of the two commands with their exit codes: 0 done, 2 usage, 3 refused, 4 unreachable. */
async function runCommand(usage: string, argv: string[], work: (values: Record<string, string | undefined>, positionals: string[]) => Promise<number>): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: true });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    process.exitCode = await work(parsed.values as Record<string, string | undefined>, parsed.positionals);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`kmsd: ${error.message}\n`);
      process.exitCode = EXIT.usage;
    } else if (error instanceof Unreachable) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = EXIT.unreachable;
    } else {
      throw error;
    }
  }
}

const notSealed = (t: Target) => `kmsd: ${t.url} has no seal: its store was not made by kmsd seal init (its root key comes from a file or KMSD_ROOT_KEY)\n`;

export function sealStatus(argv: string[]): Promise<void> {
  return runCommand(SEAL_STATUS_USAGE, argv, async (values, positionals) => {
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const t = target(values, process.env);
    const { status, answer } = await ask(t, '/_kmsd/seal-status');
    if (status !== 200 || answer === null) {
      process.stderr.write(status === 404 || status === 400 ? notSealed(t) : `kmsd: ${t.url} answered HTTP ${status}\n`);
      return EXIT.refused;
    }
    process.stdout.write(t.json ? `${JSON.stringify(answer)}\n` : answer.sealed ? `sealed: ${progressLine(answer)}\n` : `unsealed: serving (${answer.threshold} of ${answer.shares} shares unseal it)\n`);
    return 0;
  });
}

export function unseal(argv: string[]): Promise<void> {
  return runCommand(UNSEAL_USAGE, argv, async (values, positionals) => {
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}": give one share at a time`);
    const t = target(values, process.env);
    const given = positionals[0];
    const share = given !== undefined && given !== '-' ? given
      : process.stdin.isTTY ? await askHidden('share (not shown): ') : (await readInput('-')).toString('utf8').trim();
    if (share === '') throw new UsageError('no share given (as an argument, or on stdin)');
    const { status, answer } = await ask(t, '/_kmsd/unseal', { share });
    if (answer === null) {
      process.stderr.write(status === 404 || status === 400 ? notSealed(t) : `kmsd: ${t.url} answered HTTP ${status}\n`);
      return EXIT.refused;
    }
    if (t.json) process.stdout.write(`${JSON.stringify(answer)}\n`);
    if (status !== 200) {
      process.stderr.write(`kmsd: share not counted: ${answer.error}; ${progressLine(answer)}\n`);
      return EXIT.refused;
    }
    if (!t.json) process.stdout.write(answer.sealed ? `share counted: ${progressLine(answer)}; still sealed\n` : 'unsealed: the node serves\n');
    return 0;
  });
}

/** Reads one line from the terminal without echoing it (as a password prompt does). */
function askHidden(prompt: string): Promise<string> {
  const input = process.stdin;
  process.stderr.write(prompt);
  input.setRawMode(true);
  input.resume();
  return new Promise((resolve, reject) => {
    let text = '';
    const done = (error?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(text.trim());
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return done();
        if (char === '\u0003') return done(new UsageError('interrupted'));
        if (char === '\u007f' || char === '\b') text = text.slice(0, -1);
        else text += char;
      }
    };
    input.on('data', onData);
  });
}
