/**
 * `npm run build` (also run by `npm install` through `prepare`): compiles kmsd into dist/ so
 * that `kmsd serve` starts without type-stripping TypeScript and without resolving hundreds
 * of library files: one bundle per entry (the CLI and the worker thread) plus the chunk they
 * share, with source maps (stack traces name src/ files when run with --enable-source-maps).
 * PostgreSQL's driver stays outside the bundle and is loaded only when a postgres:// store is
 * configured; so do pino and its transports, which locate their own files at run time.
 * `npm test` runs the TypeScript sources; bin/kmsd.js uses dist/ only while it is newer than
 * every file under src/ (a stale build is ignored, never run).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
rmSync(`${root}dist`, { recursive: true, force: true });
// esbuild is a dev dependency: an install without them (--omit=dev) runs the sources instead.
const esbuild = await import('esbuild').catch(() => null);
if (esbuild === null) {
  process.stderr.write('kmsd build: esbuild is not installed; kmsd will run from its TypeScript sources\n');
  process.exit(0);
}
await esbuild.build({
  absWorkingDir: root,
  entryPoints: { main: 'src/cli/main.ts', worker: 'src/worker.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  sourcemap: true,
  minifySyntax: true,
  minifyWhitespace: true,
  external: ['pg', 'pg-native', 'pino', 'pino-pretty', 'thread-stream', 'prom-client'],
  // Bundled CommonJS libraries call require(): give the ES modules one.
  banner: { js: "import { createRequire as __kmsdRequire } from 'node:module'; const require = __kmsdRequire(import.meta.url);" },
  logLevel: 'warning',
});
// Written last: its time is the build's, which bin/kmsd.js compares with the sources.
writeFileSync(`${root}dist/BUILT`, `${new Date().toISOString()}\n`);
