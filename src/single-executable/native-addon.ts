/**
 * Loads a native addon (a .node file) in the package and in the single executable alike.
 *
 * In the package (and a checkout) the addon is dist/addons/<name>.node, built there by the
 * addon's own build step, and loads with require(); package.json's `files` ships that folder.
 * The single
 * executable has no files beside it: the addon travels inside it as the asset
 * `addons/<name>.node` (scripts/release/executable.ts carries every file of dist/addons/), and
 * the operating system can only load a shared library from a file. So it is written to a new
 * private directory (mode 0700, the file 0600) under the temporary directory, loaded with
 * process.dlopen, and removed at once: the loaded library stays mapped, no other process ever
 * reads it, and nothing is left behind even if kmsd is killed later.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../package-root.ts';
import { ASSETS, assetBytes, inSingleExecutable } from './assets.ts';

/** Where the package keeps the addon `name`: <package>/dist/addons/<name>.node. */
export const addonPath = (name: string): string => join(packageRoot(import.meta.url), 'dist', 'addons', `${name}.node`);

/**
 * The addon `name`: from the executable's asset addons/<name>.node, or else required from
 * `path` (absolute; by default the package's dist/addons/<name>.node). Throws when there is none
 * (a caller with a pure-JavaScript fallback catches it and uses that).
 */
export function loadNativeAddon<T>(name: string, path?: string): T {
  if (!inSingleExecutable) return createRequire(import.meta.url)(path ?? addonPath(name)) as T;
  const bytes = assetBytes(`${ASSETS.addonPrefix}${name}.node`);
  if (bytes === null) throw new Error(`the kmsd executable carries no native addon "${name}"`);
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-addon-'));
  try {
    const file = join(dir, `${name}.node`);
    writeFileSync(file, bytes, { mode: 0o600 });
    const module = { exports: {} as T };
    process.dlopen(module, file, constants.dlopen.RTLD_NOW);
    return module.exports;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
