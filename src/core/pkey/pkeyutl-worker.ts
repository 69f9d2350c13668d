import { spawn } from 'node:child_process';
import { closeSync, constants as fsc, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The small process that runs `openssl pkeyutl` for kmsd (see pkeyutl.ts, which starts it once
 * and talks to it over its IPC channel). It exists because spawning a process forks its parent:
 * from kmsd, with a few hundred MB resident, every fork copies the page tables and blocks kmsd's
 * event loop for tens of milliseconds; from this process (a bare Node) it costs a few.
 *
 * openssl is spawned without a shell and with PATH as its whole environment. The digest goes
 * through its stdin; the key (and, to verify, the signature) through named pipes (FIFOs, mode 0600,
 * in a private 0700 directory made once and removed at exit; made by `mkfifo` in batches and
 * reused, one call at a time each): data only ever passes through the kernel's pipe buffers,
 * never a file. (`-inkey /dev/fd/3` does not work from Node: its child stdio pipes are
 * socketpairs, which Linux refuses to open() through /proc/self/fd.)
 */

const OPENSSL = 'openssl';
const TIMEOUT = 'timeout';
const MKFIFO = 'mkfifo';
export const TIMEOUT_MS = 10_000;
/** A child's whole environment: PATH to find the binaries, nothing else (no OPENSSL_CONF, ...). */
export const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
/** Stands in openssl's arguments for the path of the i-th FIFO. */
export const fifoArg = (i: number): string => `\u0000fifo${i}`;

export interface Outcome { code: number | null; stdout: Buffer }

let directory: string | undefined;
let counter = 0;
/** FIFOs no call is using: no process has them open, so they are empty. */
const idle: string[] = [];
const BATCH = 8;

/** The FIFOs' private directory and the idle ones (for the tests: all idle between calls). */
export const fifoState = (): { directory: string | undefined; idle: readonly string[] } => ({ directory, idle });

const PREFIX = 'kmsd-pkeyutl-';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

function privateDirectory(): string {
  if (directory === undefined) {
    // Directories of helpers that were killed (no exit handler ran): FIFOs only, never data.
    for (const name of readdirSync(tmpdir())) {
      const pid = Number(/^kmsd-pkeyutl-(\d+)-/.exec(name)?.[1]);
      if (pid > 0 && pid !== process.pid && !alive(pid)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
    const dir = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`)); // mode 0700
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    directory = dir;
  }
  return directory;
}

/** Waits for a process; a spawn error or a kill by the timeout is exit code null. */
function finished(child: ReturnType<typeof spawn>): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.resume(); // OpenSSL's messages are not kept: nothing secret, nothing needed
    child.on('error', () => resolve({ code: null, stdout: Buffer.alloc(0) }));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out) }));
  });
}

async function takeFifos(count: number): Promise<string[] | null> {
  while (idle.length < count) {
    const dir = privateDirectory();
    const paths = Array.from({ length: BATCH }, () => join(dir, String(++counter)));
    const child = spawn(MKFIFO, ['-m', '600', '--', ...paths], { stdio: ['ignore', 'ignore', 'pipe'], timeout: TIMEOUT_MS, killSignal: 'SIGKILL', env: ENV });
    const { code } = await finished(child);
    if (code !== 0) {
      for (const p of paths) rmSync(p, { force: true });
      return null;
    }
    idle.push(...paths);
  }
  return idle.splice(idle.length - count, count);
}

/**
 * Writes data into a FIFO once the reader has opened it (non-blocking opens, polled, so nothing
 * waits on a reader that may never come), then closes it: the reader sees end of file.
 */
async function feed(path: string, data: Buffer, stopped: () => boolean): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  let fd: number | undefined;
  try {
    while (fd === undefined) {
      try {
        fd = openSync(path, fsc.O_WRONLY | fsc.O_NONBLOCK);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENXIO' || stopped() || Date.now() > deadline) return;
        await sleep(1);
      }
    }
    let offset = 0;
    while (offset < data.length) {
      try {
        offset += writeSync(fd, data, offset);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || stopped() || Date.now() > deadline) return;
        await sleep(1);
      }
    }
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Runs `openssl pkeyutl <args>` with `stdin` on its stdin and the i-th FIFO fed `fed[i]`. */
export async function runPkeyutl(args: readonly string[], stdin: Buffer, fed: readonly Buffer[]): Promise<Outcome> {
  const fifos = await takeFifos(fed.length);
  if (fifos === null) return { code: null, stdout: Buffer.alloc(0) };
  let stopped = false;
  let outcome: Promise<Outcome> | undefined;
  try {
    const argv = args.map((a) => (a.startsWith('\u0000fifo') ? fifos[Number(a.slice(5))] : a));
    // Under coreutils' timeout as well as our own: should this helper die mid-call (kmsd killed),
    // an openssl left waiting on a FIFO is still killed after TIMEOUT_MS, never orphaned for good.
    const child = spawn(TIMEOUT, ['--signal=KILL', String(TIMEOUT_MS / 1000), OPENSSL, 'pkeyutl', ...argv], {
      stdio: ['pipe', 'pipe', 'pipe'], timeout: TIMEOUT_MS, killSignal: 'SIGKILL', env: ENV,
    });
    outcome = finished(child).finally(() => { stopped = true; });
    child.stdin?.on('error', () => {}); // EPIPE when OpenSSL stops early: its exit status tells
    child.stdin?.end(stdin);
    await Promise.all(fifos.map((path, i) => feed(path, fed[i], () => stopped)));
    return await outcome;
  } catch {
    return { code: null, stdout: Buffer.alloc(0) };
  } finally {
    // Back to the pool only once the process is gone and every writer closed: then they are empty.
    await outcome;
    idle.push(...fifos);
  }
}

export interface Request { id: number; args: string[]; stdin: Uint8Array; fed: Uint8Array[] }
export interface Reply { id: number; code: number | null; stdout: Uint8Array }

const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** At most this many openssl processes at once (a burst of DIGEST calls waits in line for them). */
export const MAX_RUNNING = Math.max(2, 2 * availableParallelism());
let running = 0;
const waiting: Array<() => void> = [];

async function inTurn<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_RUNNING) await new Promise<void>((go) => waiting.push(go)); // handed a slot
  else running++;
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next(); // the slot passes on
    else running--;
  }
}

// Started by pkeyutl.ts as `pkeyutl-worker.ts --serve`: one request per IPC message, answered by id.
if (process.argv[2] === '--serve' && process.send) {
  process.on('message', async (m: Request) => {
    const fed = m.fed.map(asBuffer);
    const stdin = asBuffer(m.stdin);
    let outcome: Outcome;
    try {
      outcome = await inTurn(() => runPkeyutl(m.args, stdin, fed));
    } finally {
      for (const b of fed) b.fill(0); // the key's DER
      stdin.fill(0); // an SM2 plaintext to encrypt
    }
    process.send?.({ id: m.id, code: outcome.code, stdout: outcome.stdout } satisfies Reply);
  });
  process.on('disconnect', () => process.exit(0)); // kmsd is gone
}
