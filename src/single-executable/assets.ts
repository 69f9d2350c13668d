/**
 * What kmsd needs at run time besides its code, when it runs as the single executable
 * (kmsd-linux-x64, built by scripts/release/executable.ts): there is no package directory
 * then, and every file kmsd would read beside its modules (the console's built files, the
 * worker thread's code, the version, a native addon) is an asset carried inside the
 * executable (node:sea). Outside the executable `inSingleExecutable` is false and nothing here
 * is used.
 */
import type * as SeaModule from 'node:sea';

type Sea = typeof SeaModule;

/** node:sea when this process is the single executable, else null (a plain Node, the tests). */
function seaOrNull(): Sea | null {
  const sea = process.getBuiltinModule('node:sea') as Sea | undefined;
  return sea?.isSea() ? sea : null;
}

const sea = seaOrNull();

export const inSingleExecutable = sea !== null;

/**
 * What `import.meta.url` reads in the executable's bundles (a CommonJS bundle has none): one
 * made-up location for every module, so that a module named beside another (siblingEntry)
 * gets a path that src/single-executable/main.ts recognises, and never a real file.
 */
export const MODULE_URL = 'file:///kmsd-single-executable/main.js';

/** The names of the assets the executable carries under `prefix` (e.g. "console/"). */
export function assetNames(prefix: string): string[] {
  return sea === null ? [] : sea.getAssetKeys().filter((name) => name.startsWith(prefix));
}

/** An asset's bytes (a copy: the executable's own memory is read-only), or null when it carries none by that name. */
export function assetBytes(name: string): Buffer | null {
  if (sea === null || !sea.getAssetKeys().includes(name)) return null;
  return Buffer.from(sea.getAsset(name));
}

/** An asset's text (UTF-8); the executable is built with it, so a missing one is a broken build. */
export function assetText(name: string): string {
  const bytes = assetBytes(name);
  if (bytes === null) throw new Error(`the kmsd executable carries no asset "${name}": it was built without it`);
  return bytes.toString('utf8');
}

/** Names the build gives the assets (scripts/release/executable.ts writes them by these names). */
export const ASSETS = {
  /** The bundle of src/worker.ts, run as a worker thread from its text (eval). */
  worker: 'worker.cjs',
  /** package.json's version. */
  version: 'version',
  /** The console's built files, console/dist/<name>. */
  consolePrefix: 'console/',
  /** Native addons, addons/<name>.node (see native-addon.ts). */
  addonPrefix: 'addons/',
} as const;
