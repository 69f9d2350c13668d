#!/bin/sh
':' /*
# The npm bin entry: a POSIX sh script and an ES module in one file. Run as a command (npm's
# node_modules/.bin/kmsd link, ./bin/kmsd.js, `npm start`), sh runs these lines: it finds Node 24
# and replaces itself with it (exec), so kmsd is the one process: signals reach it directly and
# its exit code is the command's. JavaScript reads the line above as a string and this block as
# a comment (it ends below, after the exec that sh never returns from).
# Node 24: the `node` package kmsd depends on, looked up as require() would from the real file
# (npm links .bin/kmsd to it; when kmsd is a dependency, `node` may be hoisted beside it), else
# a `node` on PATH that is 24 or later.
# --max-semi-space-size=8 (MB): V8 sizes its young generation by the allocation rate, up to
# 32 MB per semi-space, two per isolate, and each event loop is an isolate: under load that is
# garbage held resident on every loop. Measured with two loops under encrypt-data load (docs/
# start-and-memory.md, "Memory"): 4 MB saves ~16 MiB but doubles the scavenges, and the loops
# spend 15-23 % of their time in them instead of 10-14 % (fewer requests answered on every
# try); 2 MB, 26-36 %. 8 is where the memory stops paying for the throughput. A V8 flag is the
# process's: the worker threads get it too.
# The old generation's growth (--heap-growing-percent) is set at run time by kmsd itself
# (src/memory/heap-growth.ts): on this line it made the single executable reject its code cache.
# The single executable and the image take the flags of the exec line below (scripts/bin-settings.ts).
# Two glibc malloc settings (a value already set in the environment wins), read by glibc before
# any JavaScript runs:
# - MALLOC_MMAP_THRESHOLD_=1048576: blocks of 1 MiB and more are mapped and given back when
#   freed. Without it glibc raises that threshold after the first large free and keeps every
#   16 MiB scrypt buffer (password checks) in the arena of the libuv thread that ran it:
#   ~16 MiB of resident memory per pool thread that ever checked a password.
# - MALLOC_ARENA_MAX=2: glibc gives every thread that allocates (V8's helpers, libuv's pool,
#   the workers) an arena of its own and keeps what each grew to; two save ~10 MiB under load.
self=$0
while [ -h "$self" ]; do
  link=$(readlink "$self")
  case $link in
    /*) self=$link ;;
    *) base=${self%/*}; [ "$base" = "$self" ] && base=.; self=$base/$link ;;
  esac
done
dir=${self%/*}
[ "$dir" = "$self" ] && dir=.
dir=$(CDPATH= cd -- "$dir/.." && pwd -P) || exit 1
node=
up=$dir
while :; do
  if [ -x "$up/node_modules/node/bin/node" ]; then node=$up/node_modules/node/bin/node; break; fi
  case $up in
    /|'') break ;;
  esac
  up=${up%/*}
done
if [ -z "$node" ]; then
  if command -v node >/dev/null 2>&1 && node -e 'process.exit(+process.versions.node.split(".")[0] < 24 ? 1 : 0)' 2>/dev/null; then
    node=node
  else
    echo "kmsd: needs Node 24 or later and found none: install kmsd with its dependencies (the node package), or put Node 24 first on PATH" >&2
    exit 1
  fi
fi
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}" MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-1048576}"
exec "$node" --max-semi-space-size=8 "$dir/bin/kmsd.js" "$@"
*/
// JavaScript from here: `node bin/kmsd.js` (by tests and the bench, with the flags above), or
// sh's exec above. Plain JavaScript that any Node from 18 on can parse.
// - On a Node older than 24 (`node bin/kmsd.js` with the machine's Node 20) it starts kmsd again
//   through the sh part of this file, as a child that gets our signals (one extra process stays
//   alive as its parent: run the file as a command to avoid it).
// - It runs the compiled dist/main.js: always in the npm package (which has no src/), and in a
//   checkout while that build (`npm run build`, also run by `npm install`) is newer than every
//   file under src/; otherwise the TypeScript sources.
// Built-ins through process.getBuiltinModule where there is one: an ES module import of
// node:fs makes Node read all of its exports, loading fs/promises and readline for nothing.
const builtin = async (name) => process.getBuiltinModule?.(name) ?? (await import(name)).default;
const { existsSync, readdirSync, statSync } = await builtin('node:fs');
const module = await builtin('node:module');
const { dirname, join } = await builtin('node:path');
const { fileURLToPath, pathToFileURL } = await builtin('node:url');

const NEEDED = 24;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

if (Number(process.versions.node.split('.')[0]) < NEEDED) await relay();
else await import(pathToFileURL(entry()).href);

/**
 * In the npm package: dist/main.js, always (a package carries no src/, and npm unpacks it with
 * fresh file times, so times prove nothing there). In a checkout: dist/main.js when the build
 * is newer than every source file, else src/cli/main.ts.
 */
function entry() {
  const built = join(root, 'dist', 'BUILT');
  const source = join(root, 'src', 'cli', 'main.ts');
  // Compiled code is cached on disk between starts (V8's code cache): about a third off the start.
  if (!existsSync(join(root, 'src'))) {
    module.enableCompileCache?.();
    return join(root, 'dist', 'main.js');
  }
  if (!existsSync(built)) return source;
  const builtAt = statSync(built).mtimeMs;
  // A walk of its own: readdirSync's { recursive: true } costs ~4 ms more at every start.
  const newer = (dir) => readdirSync(dir, { withFileTypes: true }).some((e) =>
    e.isDirectory() ? newer(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs > builtAt);
  if (newer(join(root, 'src'))) return source;
  // Compiled code is cached on disk between starts (V8's code cache): about a third off the start.
  module.enableCompileCache?.();
  return join(root, 'dist', 'main.js');
}

/** Runs this file again through its sh part (which finds Node 24), as a child that gets our signals. */
async function relay() {
  if (process.env.KMSD_RELAYED) {
    process.stderr.write(`kmsd: needs Node ${NEEDED} or later, this is ${process.version}\n`);
    process.exit(1);
  }
  const { spawn } = await import('node:child_process');
  const child = spawn('/bin/sh', [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, KMSD_RELAYED: '1' },
    // Its own process group: a Ctrl-C reaches it once, passed on by this process.
    detached: true,
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => {
    process.stderr.write(`kmsd: cannot start /bin/sh: ${error.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    else process.exit(code ?? 1);
  });
}
