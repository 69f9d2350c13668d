import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The memory settings bin/kmsd.js starts Node with (docs/start-and-memory.md, "Memory"), read
 * from that file so every other way kmsd starts carries the same ones: the single executable's
 * execArgv (scripts/release/executable.ts), the image's environment (scripts/release/image.ts),
 * and the bench, which runs kmsd as shipped (bench/kmsd.ts).
 */

/** Node's flags: the `--...` words of the `exec "$node" ...` line of its sh part. */
export function binNodeFlags(root: string): string[] {
  const exec = readFileSync(join(root, 'bin', 'kmsd.js'), 'utf8').split('\n').find((line) => line.startsWith('exec ')) ?? '';
  return exec.split(/\s+/).filter((word) => word.startsWith('--'));
}

/** The environment variables it sets unless already set (its `export NAME="${NAME:-VALUE}"` words). */
export function binEnv(root: string): Record<string, string> {
  const text = readFileSync(join(root, 'bin', 'kmsd.js'), 'utf8');
  return Object.fromEntries([...text.matchAll(/\b([A-Z_]+)="\$\{\1:-([^}]*)\}"/g)].map((m) => [m[1], m[2]]));
}
