/**
 * The single executable's entry (scripts/release/executable.ts bundles it as CommonJS, the
 * form Node's single executable applications run). The executable always runs this one
 * script, whatever its arguments, so it plays the parts that the package runs as separate
 * entry files:
 * - the openssl helper process (src/core/pkey/pkeyutl-worker.ts), which pkeyutl.ts forks as
 *   `<node> <dir of the module>/pkeyutl-worker.js --serve`: in the executable <node> is the
 *   executable itself and the path is the one the build gives every module (MODULE_URL);
 * - otherwise the CLI (src/cli/main.ts).
 * (The worker threads of `serve --workers N` run the worker bundle, an asset: src/cluster.ts.)
 */
import { fileURLToPath } from 'node:url';
import { MODULE_URL } from './assets.ts';

const HELPER = fileURLToPath(new URL('./pkeyutl-worker.js', MODULE_URL));

// No top-level await: a CommonJS main cannot hold one.
if (process.argv[2] === HELPER && process.argv[3] === '--serve') {
  process.argv.splice(2, 1);
  void import('../core/pkey/pkeyutl-worker.ts');
} else {
  void import('../cli/main.ts');
}
