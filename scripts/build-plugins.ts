// esbuild plugins shared by the package's build (build.ts) and the single executable's
// (release/executable.ts).

/**
 * Modules loaded when the bundle loads but that kmsd's start never uses, loaded at their first use
 * instead:
 * - lib/server.js's node:http2 and node:https, for the options that use them (kmsd serves
 *   HTTP/1.1, and HTTPS through its own options): about 7 ms of every start, most of it http2;
 * - lib/plugin-utils.js's semver, which checks the Fastify version a registered plugin asks for
 *   (kmsd registers none): about 5 ms;
 * - PostgreSQL's driver, for a PostgreSQL store only.
 */
export const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(build: { onResolve: Function; onLoad: Function }) {
    build.onResolve({ filter: /^node:(http2|https)$/ }, (args: { path: string; importer: string }) =>
      /[\\/]fastify[\\/]lib[\\/]server\.js$/.test(args.importer) ? { path: args.path, namespace: 'lazy-builtin' } : undefined);
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args: { path: string }) => ({
      contents: `let m; module.exports = new Proxy({}, { get: (_, key) => (m ??= process.getBuiltinModule(${JSON.stringify(args.path)}))[key] });`,
      loader: 'js',
    }));
    // The proxy's require() is resolved by esbuild again (from the lazy namespace, so not by this
    // hook): the library is bundled, and esbuild's wrapper evaluates it at that first require.
    build.onResolve({ filter: /^semver$/ }, (args: { path: string; importer: string; resolveDir: string }) =>
      /[\\/]fastify[\\/]lib[\\/]plugin-utils\.js$/.test(args.importer) ? { path: args.path, namespace: 'lazy-library', pluginData: { resolveDir: args.resolveDir } } : undefined);
    // PostgreSQL's driver (external, not bundled) where kmsd's own modules import it: an ES module
    // import of an external library is hoisted to the top of the one output file, which loaded pg
    // at every start of a SQLite node (~10 ms); through this proxy it loads at its first use.
    build.onResolve({ filter: /^pg$/ }, (args: { path: string; importer: string; resolveDir: string; kind: string }) =>
      args.kind === 'import-statement' && /[\\/]src[\\/].*\.ts$/.test(args.importer) ? { path: args.path, namespace: 'lazy-library', pluginData: { resolveDir: args.resolveDir } } : undefined);
    build.onLoad({ filter: /.*/, namespace: 'lazy-library' }, (args: { path: string; pluginData: { resolveDir: string } }) => ({
      // __esModule is answered without loading: esbuild's interop reads it where the importing
      // module is evaluated, which may be at start.
      contents: `let m; module.exports = new Proxy({}, { get: (_, key) => key === '__esModule' ? undefined : (m ??= require(${JSON.stringify(args.path)}))[key] });`,
      resolveDir: args.pluginData.resolveDir,
      loader: 'js',
    }));
  },
};
