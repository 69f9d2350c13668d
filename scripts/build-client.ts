// Builds kmsd/client (npm run build:client): regenerates src/client/operations.ts from the
// operation definitions, bundles the client into dist/client/index.js (ESM for Node >= 20,
// no dependency) and writes its declarations (dist/client/*.d.ts).
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { OPERATIONS } from '../src/api/routes.ts';
import { renderClientModule } from '../src/client/generate.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'dist/client');
const generated = join(root, 'src/client/operations.ts');

const text = renderClientModule(OPERATIONS);
if (readFileSync(generated, 'utf8') !== text) writeFileSync(generated, text);
rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'src/client/index.ts')],
  outfile: join(out, 'index.js'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  legalComments: 'none',
});
execFileSync(join(root, 'node_modules/.bin/tsc'), [
  '--ignoreConfig', '--declaration', '--emitDeclarationOnly', '--outDir', out, '--rootDir', join(root, 'src/client'),
  '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--strict', '--skipLibCheck',
  '--allowImportingTsExtensions', '--types', 'node',
  ...readdirSync(join(root, 'src/client')).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'generate.ts').map((f) => join(root, 'src/client', f)),
], { stdio: 'inherit' });
// The declarations name their neighbours as .js, which TypeScript resolves to the .d.ts files.
for (const file of readdirSync(out).filter((f) => f.endsWith('.d.ts'))) {
  const path = join(out, file);
  writeFileSync(path, readFileSync(path, 'utf8').replace(/(from\s+['"]\.\/[\w.-]+)\.ts(['"])/g, '$1.js$2'));
}
