/**
 * `npm run build` (also run by `npm install` through `prepare`): compiles kmsd into dist/ so
 * that `kmsd serve` starts without type-stripping TypeScript and without resolving hundreds
 * of library files: one file per entry (the CLI, the worker thread, the openssl helper), with
 * source maps (stack traces name src/ files when run with --enable-source-maps).
 * PostgreSQL's driver stays outside the bundle and is loaded only when a postgres:// store is
 * configured; so do pino-pretty (loaded only for --log-format pretty) and Fastify's schema
 * compilers (loaded at first use, src/api/schema-compilers.ts).
 * `npm test` runs the TypeScript sources; bin/kmsd.js uses dist/ only while it is newer than
 * every file under src/ (a stale build is ignored, never run).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { lazyBuiltins } from './build-plugins.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
mkdirSync(`${root}dist`, { recursive: true });
// Only what this build writes: dist/client and dist/signing are the client's (build-client.ts).
for (const name of readdirSync(`${root}dist`, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name)) rmSync(`${root}dist/${name}`);
// esbuild is a dev dependency: an install without them (--omit=dev) runs the sources instead.
const esbuild = await import('esbuild').catch(() => null);
if (esbuild === null) {
  process.stderr.write('kmsd build: esbuild is not installed; kmsd will run from its TypeScript sources\n');
  process.exit(0);
}
/**
 * kmsd's own `import { a, b } from 'node:x'` read the built-in with process.getBuiltinModule
 * rather than as an ES module: Node builds the ES module facade of a built-in by reading every
 * one of its exports, which loads the lazy ones kmsd never uses (node:fs's `promises` loads
 * fs/promises and readline, node:util its own): several ms of every start. Each importing file
 * gets a module that exports exactly the names its import statements name (a name missed fails
 * the build, never a run); any other form of import is left as it is.
 */
const builtinsWithoutFacade = {
  name: 'builtins-without-facade',
  setup(build: { onResolve: Function; onLoad: Function }) {
    build.onResolve({ filter: /^node:/ }, (args: { path: string; importer: string; kind: string }) => {
      if (args.kind !== 'import-statement' || !/\.ts$/.test(args.importer)) return undefined;
      const source = readFileSync(args.importer, 'utf8');
      const from = new RegExp(`^import\\s+([^'";]*?)\\s+from\\s+'${args.path.replace(/[/]/g, '\\/')}';`, 'gm');
      const names = new Set<string>();
      let withDefault = false;
      for (const [, clause] of source.matchAll(from)) {
        if (clause.startsWith('type ')) continue;
        const named = /^(?:([A-Za-z_$][\w$]*)\s*,\s*)?\{([^}]*)\}$/.exec(clause.trim());
        const lone = /^([A-Za-z_$][\w$]*)$/.exec(clause.trim());
        if (lone) withDefault = true;
        else if (!named) return undefined;
        else {
          if (named[1]) withDefault = true;
          for (const item of named[2].split(',').map((i) => i.trim()).filter((i) => i !== '' && !i.startsWith('type '))) names.add(item.split(/\s+as\s+/)[0]);
        }
      }
      const exports = [...names].sort();
      return { path: `${args.path}?${withDefault ? 'default,' : ''}${exports.join(',')}`, namespace: 'builtin', pluginData: { specifier: args.path, exports, withDefault } };
    });
    build.onLoad({ filter: /.*/, namespace: 'builtin' }, (args: { pluginData: { specifier: string; exports: string[]; withDefault: boolean } }) => {
      const { specifier, exports, withDefault } = args.pluginData;
      const lines = [`const m = process.getBuiltinModule(${JSON.stringify(specifier)});`];
      if (withDefault) lines.push('export default m;');
      for (const name of exports) lines.push(`export const ${name} = m.${name};`);
      return { contents: lines.join('\n'), loader: 'js' };
    });
  },
};
await esbuild.build({
  plugins: [lazyBuiltins, builtinsWithoutFacade],
  absWorkingDir: root,
  // Every module that runs as an entry of its own: the CLI, a worker thread, the openssl helper process.
  entryPoints: { main: 'src/cli/main.ts', worker: 'src/worker.ts', 'pkeyutl-worker': 'src/core/pkey/pkeyutl-worker.ts' },
  outdir: 'dist',
  bundle: true,
  // One file per entry, no shared chunks: the modules the CLI imports at run time (import()) are
  // in its file, evaluated at that import. Node resolved, read and linked ~30 chunk files at every
  // start: one file starts ~20 ms sooner on a 2-core machine (docs/start-and-memory.md, "The
  // start"); the worker thread's file holds its own copy of what it shares with the CLI (each
  // event loop evaluates its own copy anyway).
  splitting: false,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  sourcemap: true,
  minifySyntax: true,
  minifyWhitespace: true,
  // The libraries' license comments go to dist/<entry>.js.LEGAL.txt (in the package), not the
  // end of the file: one of them has a non-ASCII letter, which made Node decode all of main.js
  // as UTF-8 and V8 keep it as a two-byte string (~13 ms of every start, and twice the memory).
  legalComments: 'external',
  // Fastify's schema compilers (ajv, fast-json-stringify) are loaded at first use by
  // src/api/schema-compilers.ts, with require(): never part of the start.
  // pino is bundled (loading it from node_modules took ~11 ms of every start): kmsd logs through
  // its default destination or a pino-pretty stream, never a transport, the one part of pino
  // (and thread-stream) that locates files at run time.
  // The libraries kmsd imports only with import(), at their first use, stay out of the bundle too
  // (each file Node reads at start costs its size: ~4-7 ms a MiB to decode, and V8's parse):
  // @peculiar/x509 (a self-signed TLS certificate; ~0.5 MiB with its ASN.1 libraries) and
  // @noble/curves (the pure-JS signing fallback).
  external: ['pg', 'pg-native', 'pino-pretty', 'prom-client', '@fastify/ajv-compiler', '@fastify/fast-json-stringify-compiler', '@peculiar/x509', '@noble/curves', '@noble/curves/*'],
  // Bundled CommonJS libraries call require(): give the ES modules one.
  banner: { js: "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);" },
  logLevel: 'warning',
});
// Written last: its time is the build's, which bin/kmsd.js compares with the sources.
writeFileSync(`${root}dist/BUILT`, `${new Date().toISOString()}\n`);
