/**
 * The `kmsd-client` package: kmsd/client alone, for callers that want the typed client without
 * the server (and without the 100+ MB `node` dependency). One source: the files
 * `npm run build:client` writes (dist/client/index.js, the bundle of src/client with no
 * dependency, and its declarations) are copied as they are; only package.json is its own.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Stages the package in `work` and packs it into `out`; returns the tarball's path. */
export function packClient(root: string, work: string, out: string): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; license: string };
  const dir = join(work, 'kmsd-client');
  rmSync(dir, { recursive: true, force: true });
  for (const sub of ['client', 'signing']) {
    mkdirSync(join(dir, 'dist', sub), { recursive: true });
    for (const name of readdirSync(join(root, 'dist', sub)).filter((n) => n.endsWith('.js') || n.endsWith('.d.ts'))) {
      cpSync(join(root, 'dist', sub, name), join(dir, 'dist', sub, name));
    }
  }
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({
    name: 'kmsd-client',
    version: pkg.version,
    description: 'The typed client of kmsd and of Huawei Cloud KMS v1.0 (the same API as kmsd/client), with no dependencies',
    type: 'module',
    license: pkg.license,
    engines: { node: '>=20' },
    exports: {
      '.': { types: './dist/client/index.d.ts', import: './dist/client/index.js' },
      './package.json': './package.json',
    },
    types: './dist/client/index.d.ts',
    files: ['dist/'],
    sideEffects: false,
  }, null, 2)}\n`);
  writeFileSync(join(dir, 'README.md'), [
    '# kmsd-client',
    '',
    'The typed client of [kmsd](https://www.npmjs.com/package/kmsd), the key management server that speaks the',
    'Huawei Cloud KMS v1.0 API; it also calls Huawei Cloud KMS itself. The same API as `kmsd/client`, no',
    'dependencies, Node.js 20 or later.',
    '',
    '```js',
    "import { KmsClient } from 'kmsd-client';",
    '```',
    '',
    'See the kmsd package\'s README ("The TypeScript client") and docs/client-and-cli.md for its use.',
    '',
  ].join('\n'));
  mkdirSync(out, { recursive: true });
  const name = execFileSync('npm', ['pack', '--silent', '--pack-destination', out], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop()!;
  return join(out, name);
}
