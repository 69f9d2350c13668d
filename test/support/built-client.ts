import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `npm run build:client`'s script (generate, bundle, declarations). */
export function buildClient(): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build-client.ts')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build:client failed: ${r.stderr}`);
}

/** The machine's own Node (v20 here), not the one npm installs: the oldest the client must run on. */
export function systemNode(): string | null {
  const found = spawnSync('which', ['-a', 'node'], { encoding: 'utf8' }).stdout.split('\n').filter((p) => p !== '' && !p.includes('node_modules'));
  for (const path of found) {
    const version = spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout.trim();
    if (/^v2[0-3]\./.test(version)) return path;
  }
  return null;
}

/** A project outside this checkout that has kmsd installed (node_modules/kmsd → this checkout). */
export function consumerProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-consumer-'));
  mkdirSync(join(dir, 'node_modules/@types'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules/kmsd'), 'dir');
  symlinkSync(join(ROOT, 'node_modules/@types/node'), join(dir, 'node_modules/@types/node'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  return dir;
}

/** Runs a script with a given node, without blocking this process (which may be serving kmsd). */
export function run(node: string, args: string[], env: Record<string, string> = {}, cwd?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(node, args, { env: { ...process.env, ...env }, cwd });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

export const tsc = (project: string): string => {
  try {
    return execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['--noEmit', '-p', project], { encoding: 'utf8' });
  } catch (error) {
    return (error as { stdout: string }).stdout;
  }
};
