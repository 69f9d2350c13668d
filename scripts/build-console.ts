/**
 * Builds the web console (console/src) into console/dist, which kmsd serves at /_kmsd/console/.
 * Run by `npm install` (the `prepare` script) and by `npm run build:console`. The bundle is one
 * ES module and one style sheet, so the page needs no inline script or style (strict CSP).
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../console/', import.meta.url));
const out = `${root}dist`;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { console: `${root}src/main.js` },
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  legalComments: 'eof',
  outdir: out,
  logLevel: 'warning',
  nodePaths: process.env.NODE_PATH ? process.env.NODE_PATH.split(':') : [],
});
for (const file of ['index.html', 'console.css', 'favicon.svg']) copyFileSync(`${root}src/${file}`, `${out}/${file}`);
