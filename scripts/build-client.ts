// Builds kmsd/client (npm run build:client): regenerates src/client/operations.ts from the
// operation definitions, bundles the client into dist/client/index.js (ESM for Node >= 20,
// no dependency) and writes its declarations (dist/client/*.d.ts). Files whose content is
// unchanged are left alone, so a build never removes what another process is reading.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { OPERATIONS } from '../src/api/routes.ts';
import { renderClientModule } from '../src/client/generate.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'dist/client');
const source = join(root, 'src/client');
// The client's own modules, and the one signing module it shares with the server.
const DECLARED = ['client', 'signing'];

/** Writes a file unless it already has this content. */
function put(path: string, text: string): void {
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return;
  writeFileSync(path, text);
}

/**
 * The client's declarations name no module of Node's, so a TypeScript user needs no @types/node:
 * the one type they would take from node:crypto (a signing key given as a KeyObject) becomes
 * the part of it the signature uses, which node:crypto's KeyObject has.
 */
function withoutNodeTypes(text: string): string {
  const local = "/** node:crypto's KeyObject, as far as this module needs it (no @types/node required). */\ninterface KeyObject {\n    readonly type: 'secret' | 'public' | 'private';\n}";
  const out = text.replace("import { type KeyObject } from 'node:crypto';", local);
  if (/from ['"]node:/.test(out)) throw new Error(`build:client: a declaration imports a Node module, which kmsd-client's users would need @types/node for:\n${out}`);
  return out;
}

put(join(source, 'operations.ts'), renderClientModule(OPERATIONS));
mkdirSync(out, { recursive: true });
const bundle = await build({
  entryPoints: [join(source, 'index.ts')],
  outfile: join(out, 'index.js'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  legalComments: 'none',
  // A class that names itself in its own body (KmsError.from) is renamed _KmsError by the bundler;
  // keepNames gives it back its name, which is what a printed error or a stack trace shows.
  keepNames: true,
  write: false,
});
for (const file of bundle.outputFiles) put(file.path, file.text);

const declarations = mkdtempSync(join(tmpdir(), 'kmsd-client-dts-'));
try {
  execFileSync(join(root, 'node_modules/.bin/tsc'), [
    '--ignoreConfig', '--declaration', '--emitDeclarationOnly', '--outDir', declarations, '--rootDir', join(root, 'src'),
    '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--strict', '--skipLibCheck',
    '--allowImportingTsExtensions', '--types', 'node',
    ...DECLARED.flatMap((dir) => readdirSync(join(root, 'src', dir))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'generate.ts').map((f) => join(root, 'src', dir, f))),
  ], { stdio: 'inherit' });
  // The declarations name their neighbours as .js, which TypeScript resolves to the .d.ts files.
  for (const dir of DECLARED) {
    mkdirSync(join(root, 'dist', dir), { recursive: true });
    for (const file of readdirSync(join(declarations, dir)).filter((f) => f.endsWith('.d.ts'))) {
      const text = withoutNodeTypes(readFileSync(join(declarations, dir, file), 'utf8').replace(/(from\s+['"]\.\.?\/[\w./-]+)\.ts(['"])/g, '$1.js$2'));
      put(join(root, 'dist', dir, file), text);
    }
  }
} finally {
  rmSync(declarations, { recursive: true, force: true });
}
