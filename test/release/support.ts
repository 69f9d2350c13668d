import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/built-client.ts';

/**
 * The artifacts of `npm run release` (scripts/release/), as the tests in this folder install
 * them. Built by CI's release step (.ci/run) before the tests; on a developer's machine these
 * tests skip an artifact not built yet (`npm run release` builds them all), in CI they fail.
 */
export const RELEASE_DIR = process.env.KMSD_RELEASE_DIR ?? join(ROOT, 'dist/release');
export const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The artifact's path; throws in CI when it is missing. */
export function artifact(name: string): string {
  return join(RELEASE_DIR, name);
}

/**
 * Set by .ci/run for its `npm test`, once it ran this folder on its own (to time it): the
 * release tests are not run a second time.
 */
export const RAN_BEFORE = process.env.KMSD_RELEASE_TESTS_DONE === '1' && 'run already, on their own, by .ci/run (KMSD_RELEASE_TESTS_DONE=1)';

/** A test's `skip` option: false when the artifact is there (or in CI, where its absence fails the test). */
export function skipWithout(name: string): false | string {
  if (RAN_BEFORE) return RAN_BEFORE;
  if (existsSync(artifact(name)) || process.env.CI) return false;
  return `${name} is not built (npm run release)`;
}

export interface Ran { status: number | null; stdout: string; stderr: string }

/** Runs a command to its end without blocking this process (which may be serving kmsd). */
export function exec(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<Ran> {
  const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  if (child.stdin) {
    child.stdin.on('error', () => {}); // EPIPE from a command that does not read its input: its status tells
    child.stdin.end(options.input);
  }
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** A port on loopback that nothing listens on (a kmsd, or a container's published port, takes it next). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

export interface Started {
  child: ChildProcess;
  /** Its exit code, once its output is all read. */
  exited: Promise<number | null>;
  /** Its stdout and stderr so far, interleaved. */
  output: () => string;
}

/** Starts a long-running command (a kmsd serving) and keeps its output. */
export function start(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Started {
  const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/** Polls until `check` returns a value (not undefined), or fails after `ms`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** GET url's status, or undefined when nothing answers. */
export async function statusOf(url: string): Promise<number | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await r.body?.cancel();
    return r.status;
  } catch {
    return undefined;
  }
}
