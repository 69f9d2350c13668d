// esbuild plugins shared by the package's build (build.ts) and the single executable's
// (release/executable.ts).

/**
 * Fastify's lib/server.js requires node:http2 and node:https when it loads, for the options that
 * use them (kmsd serves plain HTTP/1.1 only): in the bundle each is loaded at its first use
 * instead (about 7 ms of every start, most of it http2).
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
  },
};
