/**
 * The release artifacts' figures for BENCHMARKS.md: size of each file, time to install each as
 * a user does, and cold start (spawn → first 2xx from /_kmsd/health, on a new data directory)
 * of the checkout's bin/kmsd.js, the installed npm package, the executable and the image.
 * Run after `npm run release`: `node bench/release.ts [runs]` (default 5 starts each).
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/release/support.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const release = join(root, 'dist/release');
const { version } = JSON.parse(execFileSync('cat', [join(root, 'package.json')], { encoding: 'utf8' })) as { version: string };
const runs = Number(process.argv[2] ?? 5);
const MiB = (n: number) => (n < 1048576 ? `${(n / 1024).toFixed(0)} KiB` : `${(n / 1048576).toFixed(1)} MiB`);
const du = (dir: string): number => readdirSync(dir, { withFileTypes: true }).reduce((sum, e) =>
  sum + (e.isDirectory() ? du(join(dir, e.name)) : e.isFile() ? statSync(join(dir, e.name)).size : 0), 0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Milliseconds from spawning `command` to the first 2xx of /_kmsd/health on `port`; then `stop`. */
async function coldStart(command: string, args: string[], port: number, stop: (pid: number) => void, env = process.env): Promise<number> {
  const started = performance.now();
  const child = spawn(command, args, { stdio: 'ignore', env });
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/_kmsd/health`);
      if (r.ok) break;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  const took = performance.now() - started;
  stop(child.pid!);
  await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
  return took;
}

const line = (what: string, value: string) => process.stdout.write(`${what.padEnd(58)} ${value}\n`);
for (const name of readdirSync(release).sort()) line(`size ${name}`, MiB(statSync(join(release, name)).size));

// Installs, as a user does (npm's cache warm: the registry's speed is not kmsd's).
const project = mkdtempSync(join(tmpdir(), 'kmsd-bench-release-'));
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'bench', private: true }));
let t = performance.now();
execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(release, `kmsd-${version}.tgz`)], { cwd: project, stdio: 'ignore' });
line(`install kmsd-${version}.tgz (npm, warm cache)`, `${((performance.now() - t) / 1000).toFixed(1)} s, ${MiB(du(join(project, 'node_modules')))} in node_modules`);
const clientProject = mkdtempSync(join(tmpdir(), 'kmsd-bench-client-'));
writeFileSync(join(clientProject, 'package.json'), JSON.stringify({ name: 'bench', private: true }));
t = performance.now();
execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', join(release, `kmsd-client-${version}.tgz`)], { cwd: clientProject, stdio: 'ignore' });
line(`install kmsd-client-${version}.tgz (npm)`, `${((performance.now() - t) / 1000).toFixed(1)} s, ${MiB(du(join(clientProject, 'node_modules')))} in node_modules`);
execFileSync('podman', ['rmi', '-f', `localhost/kmsd:${version}`, 'localhost/kmsd:latest'], { stdio: 'ignore' });
t = performance.now();
execFileSync('podman', ['load', '-i', join(release, `kmsd-${version}-oci.tar`)], { stdio: 'ignore' });
line(`podman load kmsd-${version}-oci.tar`, `${((performance.now() - t) / 1000).toFixed(1)} s`);

const kill = (pid: number) => process.kill(pid, 'SIGTERM');
const data = () => mkdtempSync(join(tmpdir(), 'kmsd-bench-data-'));
const serve = (port: number, dir: string) => ['serve', '--port', String(port), '--data-dir', dir, '--workers', '1', '--log-level', 'warn'];
const targets: Array<[string, (port: number, dir: string) => Promise<number>]> = [
  ['bin/kmsd.js serve (checkout, dist/)', (port, dir) => coldStart(join(root, 'bin/kmsd.js'), serve(port, dir), port, kill)],
  ['node_modules/.bin/kmsd serve (npm package)', (port, dir) => coldStart(join(project, 'node_modules/.bin/kmsd'), serve(port, dir), port, kill)],
  ['kmsd-linux-x64 serve (executable)', (port, dir) => coldStart(join(release, 'kmsd-linux-x64'), serve(port, dir), port, kill, { PATH: '' })],
  ['podman run localhost/kmsd (image, runc)', async (port, dir) => {
    chownSync(dir, 10001, 10001);
    const name = `kmsd-bench-${port}`;
    const took = await coldStart('podman', ['--runtime', 'runc', '--cgroup-manager=cgroupfs', 'run', '--rm', '--name', name,
      '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '-p', `127.0.0.1:${port}:8080`, '-v', `${dir}:/data`, `localhost/kmsd:${version}`, ...serve(8080, '/data').slice(0), '--host', '0.0.0.0'],
    port, () => execFileSync('podman', ['--runtime', 'runc', 'stop', '-t', '5', name], { stdio: 'ignore' }));
    return took;
  }],
];
for (const [what, start] of targets) {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = data();
    times.push(await start(await freePort(), dir));
    rmSync(dir, { recursive: true, force: true });
  }
  line(`cold start ${what}`, `median ${median(times).toFixed(0)} ms (${times.map((x) => x.toFixed(0)).join(', ')})`);
}
rmSync(project, { recursive: true, force: true });
rmSync(clientProject, { recursive: true, force: true });
