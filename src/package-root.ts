import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ASSETS, assetText, inSingleExecutable } from './single-executable/assets.ts';

/**
 * The directory of kmsd's package.json, found upwards from a module's URL: the same answer
 * whether the module runs from src/ (TypeScript) or from a dist/ bundle chunk, whose depth
 * below the package differs.
 */
export function packageRoot(moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(moduleUrl)}`);
    dir = up;
  }
  return dir;
}

/** A module that runs beside this one as its own entry: src/<name>.ts, or dist/<name>.js in the build. */
export function siblingEntry(moduleUrl: string, sourcePath: string, builtName: string): URL {
  return moduleUrl.endsWith('.ts') ? new URL(sourcePath, moduleUrl) : new URL(`./${builtName}.js`, moduleUrl);
}

/** The version in kmsd's package.json (carried as an asset by the single executable, which has none). */
export function kmsdVersion(): string {
  if (inSingleExecutable) return assetText(ASSETS.version);
  return (JSON.parse(readFileSync(join(packageRoot(import.meta.url), 'package.json'), 'utf8')) as { version: string }).version;
}
