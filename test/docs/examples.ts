import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/built-client.ts';

/**
 * The examples of a documentation page, as its readers see them. A fenced block preceded by
 * `<!-- example: KIND ARGS -->` is one the tests run; unmarked blocks (output, YAML, snippets of
 * other languages) are only read:
 * - `run`: a shell block; every `run` block of a page runs, in order, in one bash session (so a
 *   variable or function set by one is there for the next), against the kmsd the page starts;
 *   `run after PAGE`: after PAGE's `run` blocks, in their session (the page says it uses their variables);
 * - `serve`: the `kmsd serve` command the page tells the reader to start;
 * - `file NAME`: a file the reader writes, under that name, for the blocks after it;
 * - `user-entry FILE PATH`: a member that replaces PATH (e.g. `accounts[0].users[1]`) of FILE;
 * - anything else: a block a test of that page picks out by its kind (e.g. `node-sdk`).
 */
export interface Example {
  kind: string;
  args: string[];
  lang: string;
  body: string;
}

export function readPage(page: string): string {
  return readFileSync(join(ROOT, page), 'utf8');
}

export function examples(page: string): Example[] {
  const text = readPage(page);
  return [...text.matchAll(/<!-- example: ([^>]*?) -->\n```(\w*)\n([\s\S]*?)```/g)].map((m) => {
    const [kind, ...args] = m[1].trim().split(/\s+/);
    return { kind, args, lang: m[2], body: m[3] };
  });
}

/** Every fenced block of a page (marked or not), with its language. */
export function fences(page: string): Array<{ lang: string; body: string }> {
  return [...readPage(page).matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], body: m[2] }));
}

/** What the pages call kmsd (`npx kmsd`, `bin/kmsd.js`), as this checkout's binary. */
export const KMSD = join(ROOT, 'bin/kmsd.js');
export const PAGE_PORT = 'http://127.0.0.1:8080';

export interface Served {
  child: ChildProcess;
  endpoint: string;
  described: any;
  output: () => string;
  stop(): Promise<number | null>;
}

/**
 * Starts kmsd as a page's `serve` line does (or with `args`), on a free port: the page's
 * `--port 8080` becomes `--port 0` and an endpoint file tells where it serves.
 */
export async function serve(args: string[], cwd: string): Promise<Served> {
  const file = join(cwd, '.kmsd-endpoint.json');
  const ported = args.includes('--port') ? args.map((a, i) => (args[i - 1] === '--port' ? '0' : a)) : [...args, '--port', '0'];
  const child = spawn(KMSD, [...ported, '--endpoint-file', file, '--workers', '1'], { cwd, env: { ...process.env, KMSD_LOG_FORMAT: 'json' } });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  for (let waited = 0; !existsSync(file); waited += 50) {
    if (child.exitCode !== null || waited > 60_000) throw new Error(`kmsd did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const described = JSON.parse(readFileSync(file, 'utf8'));
  return {
    child, endpoint: described.endpoint, described, output: () => output,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/**
 * A kmsd for the tests of one file, in a fresh directory (its working directory, as the reader's):
 * started before them with the arguments `start` gives (after it has written what it needs there),
 * stopped after them, cleanly (exit code 0).
 */
export function kmsdForTests(prefix: string, start: (dir: string) => string[] = () => ['serve']): { dir: string; kmsd: Served } {
  const state = {} as { dir: string; kmsd: Served };
  before(async () => {
    state.dir = mkdtempSync(join(tmpdir(), prefix));
    state.kmsd = await serve(start(state.dir), state.dir);
  });
  after(async () => {
    assert.equal(await state.kmsd.stop(), 0, state.kmsd.output());
    rmSync(state.dir, { recursive: true, force: true });
  });
  return state;
}

/** The words of a `serve` block's command line after `kmsd` (no shell quoting in them). */
export function serveArgs(block: string): string[] {
  const line = block.split('\n').find((l) => /kmsd(\.js)? serve/.test(l)) ?? '';
  return line.replace(/#.*$/, '').trim().split(/\s+/).slice(line.includes('npx kmsd') ? 2 : 1);
}

/**
 * Runs a page's `run` blocks in order in one bash session (`-e -o pipefail`), each block's
 * output after a line `@@ block N`, with the page's endpoint replaced by `endpoint`.
 */
export function runBlocks(blocks: string[], endpoint: string, cwd: string, env: Record<string, string> = {}): Promise<{ status: number | null; outputs: string[]; stderr: string }> {
  const script = blocks.map((b, i) => `echo '@@ block ${i}'\n${b.replaceAll(PAGE_PORT, endpoint).replaceAll('npx kmsd', KMSD)}`).join('\n');
  const child = spawn('/bin/bash', ['-e', '-o', 'pipefail', '-c', script], {
    cwd, env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (status) => {
    const outputs = stdout.split(/^@@ block \d+\n/m).slice(1);
    resolve({ status, outputs, stderr });
  }));
}

/**
 * The README's `run` blocks as a reader has them after following it in the second terminal of the
 * quick start (its working directory `dir`, the checkout's): the client example saved as the page
 * says, `import 'kmsd/client'` resolving to this checkout as it does there. Also the environment
 * the page's defaults stand for: the endpoint the CLI and client default to (KMSD_ENDPOINT, the
 * page's 8080), no profiles file of the machine's user.
 */
export function readmeSession(dir: string, endpoint: string): { blocks: string[]; env: Record<string, string> } {
  for (const e of examples('README.md').filter((x) => x.kind === 'file')) writeFileSync(join(dir, e.args[0]), e.body);
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  if (!existsSync(join(dir, 'node_modules/kmsd'))) symlinkSync(ROOT, join(dir, 'node_modules/kmsd'));
  const blocks = examples('README.md').filter((e) => e.kind === 'run').map((e) => e.body);
  return { blocks, env: { KMSD_ENDPOINT: endpoint, KMSD_PROFILES_FILE: join(dir, 'no-profiles.json') } };
}
