/**
 * `npm run build:native` (part of `npm run build`, so of `npm install` / `npm ci` through
 * `prepare`): compiles native/kmsd-crypto.c into dist/native/kmsd-crypto-<platform>-<arch>.node,
 * the addon src/core/pkey/native.ts loads. One C file and Node-API only, so the build needs a C
 * compiler (`cc`, or $CC) and the headers of the Node that runs kmsd (include/node: Node-API and
 * the OpenSSL Node carries), which the `node` package kmsd depends on ships; nothing is
 * downloaded, and neither node-gyp, make nor python is needed. OpenSSL's symbols are left for the
 * loader to resolve from the node binary, all at load (-z now): a Node without them refuses to load
 * the addon (kmsd then falls back) rather than failing at a first call.
 *
 * `--if-missing` (npm's `install` step, which also runs where kmsd is installed from its package)
 * builds only when dist/native has no addon for this platform: a package ships its prebuilt copy.
 *
 * A failed build is not a failed install: kmsd then uses its fallbacks (docs/signing.md),
 * and says here why. KMSD_REQUIRE_NATIVE=1 makes it fail instead (CI, release builds).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const file = `kmsd-crypto-${process.platform}-${process.arch}.node`;
const output = join(root, 'dist', 'native', file);
const required = process.env.KMSD_REQUIRE_NATIVE === '1';

/** Node's headers: those of the Node running this build (kmsd's own Node 24, `npx node`), else the `node` package's. */
function headers(): string | null {
  const candidates = [
    join(dirname(dirname(process.execPath)), 'include', 'node'),
    join(root, 'node_modules', 'node', 'node_modules', `node-${process.platform}-${process.arch}`, 'include', 'node'),
    join(root, 'node_modules', `node-${process.platform}-${process.arch}`, 'include', 'node'),
  ];
  return candidates.find((dir) => existsSync(join(dir, 'node_api.h')) && existsSync(join(dir, 'openssl', 'evp.h'))) ?? null;
}

function give(reason: string): never {
  process.stderr.write(`kmsd build: the kmsd-crypto addon was not built (${reason}); DIGEST signatures and SM2 encryption will use the slower fallbacks\n`);
  process.exit(required ? 1 : 0);
}

if (process.argv.includes('--if-missing') && existsSync(output)) process.exit(0);
if (process.platform !== 'linux' && process.platform !== 'darwin') give(`no build for ${process.platform}`);
const include = headers();
if (include === null) give('no Node headers with OpenSSL found (include/node)');
mkdirSync(dirname(output), { recursive: true });
const partial = `${output}.${process.pid}.tmp`;
const compiler = process.env.CC || 'cc';
const args = [
  '-O2', '-std=c11', '-fPIC', '-shared', '-fvisibility=hidden', '-Wall', '-Wextra', '-Werror',
  '-I', include, join(root, 'native', 'kmsd-crypto.c'), '-o', partial,
  ...(process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup'] : ['-Wl,-z,now', '-Wl,-z,relro']),
];
try {
  execFileSync(compiler, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  renameSync(partial, output); // whole or not at all: a half-written addon is never there to load
} catch (error) {
  rmSync(partial, { force: true });
  const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
  give(`${compiler} failed${stderr ? `: ${stderr.split('\n')[0]}` : ''}`);
}
