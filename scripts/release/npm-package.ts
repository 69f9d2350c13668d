/**
 * The `kmsd` npm package: `npm pack` of this checkout's files (`files` in package.json), staged
 * under a package.json without `scripts`. Those are the checkout's (build, test, prepare…):
 * nothing an installed package runs, and npm (11) warns about a package with a `prepare` or
 * install script, or runs it when installing from a git URL.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Stages the package in `work` and packs it into `out`; returns the tarball's path. */
export function packNpm(root: string, work: string, out: string): string {
  // What npm would pack of the checkout (the build already ran: --ignore-scripts skips prepare).
  const [listing] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' })) as Array<{ files: Array<{ path: string }> }>;
  const dir = join(work, 'kmsd');
  rmSync(dir, { recursive: true, force: true });
  for (const { path } of listing!.files) {
    if (path === 'package.json') continue;
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    cpSync(join(root, path), join(dir, path));
  }
  const { scripts: _scripts, ...pkg } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  mkdirSync(out, { recursive: true });
  const name = execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', out], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop()!;
  return join(out, name);
}
