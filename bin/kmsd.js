#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=1048576 node --max-semi-space-size=8
// The npm bin entry. Plain JavaScript that any Node from 18 on can parse, because it may be
// started by whatever `node` is first on PATH:
//
// - kmsd needs Node 24 (node:sqlite, type stripping). On an older Node this file starts
//   kmsd again with the Node 24 of the `node` package that kmsd depends on, passes signals
//   on and exits with its code (one extra small process stays alive as the parent; put
//   Node 24 first on PATH to avoid it).
// - It runs the compiled dist/main.js (`npm run build`, also run by `npm install`) while that
//   build is newer than every file under src/; otherwise the TypeScript sources.
// --max-semi-space-size=8 (MB): V8 sizes its young generation by the allocation rate, up to
// 32 MB per semi-space; under load that is ~80 MB of resident memory for garbage. 8 MB costs
// no measurable throughput (BENCHMARKS.md).
// Two glibc malloc settings, in the shebang because glibc reads them before any JavaScript runs
// (`npm start` runs this file through its shebang too):
// - MALLOC_MMAP_THRESHOLD_=1048576: blocks of 1 MiB and more are mapped and given back when
//   freed. Without it glibc raises that threshold after the first large free and keeps every
//   16 MiB scrypt buffer (password checks) in the arena of the libuv thread that ran it:
//   ~16 MiB of resident memory per pool thread that ever checked a password.
// - MALLOC_ARENA_MAX=2: glibc gives every thread that allocates (V8's helpers, libuv's pool,
//   the workers) an arena of its own and keeps what each grew to; two save ~10 MiB under load.
import { existsSync, readdirSync, statSync } from 'node:fs';
import module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const NEEDED = 24;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

if (Number(process.versions.node.split('.')[0]) < NEEDED) await relay();
else await import(pathToFileURL(entry()).href);

/** dist/main.js when the build is newer than every source file, else src/cli/main.ts. */
function entry() {
  const built = join(root, 'dist', 'BUILT');
  const source = join(root, 'src', 'cli', 'main.ts');
  if (!existsSync(built)) return source;
  const builtAt = statSync(built).mtimeMs;
  const src = join(root, 'src');
  for (const name of readdirSync(src, { recursive: true })) {
    if (statSync(join(src, name)).mtimeMs > builtAt) return source;
  }
  // Compiled code is cached on disk between starts (V8's code cache): about a third off the start.
  module.enableCompileCache?.();
  return join(root, 'dist', 'main.js');
}

/** Runs this file again with Node 24 from the `node` package, as a child that gets our signals. */
async function relay() {
  const fail = (why) => {
    process.stderr.write(`kmsd: needs Node ${NEEDED} or later, this is ${process.version}; ${why}\n`);
    process.exit(1);
  };
  if (process.env.KMSD_RELAYED) fail('the node package did not provide it either');
  let node;
  try {
    node = join(dirname(createRequire(import.meta.url).resolve('node/package.json')), 'bin', 'node');
  } catch {
    fail('install kmsd with its dependencies (the node package), or put Node 24 first on PATH');
  }
  const { spawn } = await import('node:child_process');
  const child = spawn(node, ['--max-semi-space-size=8', fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '1048576', ...process.env, KMSD_RELAYED: '1' },
    // Its own process group: a Ctrl-C reaches it once, passed on by this process.
    detached: true,
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => fail(`cannot start ${node}: ${error.message}`));
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    else process.exit(code ?? 1);
  });
}
