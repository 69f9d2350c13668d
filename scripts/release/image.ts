/**
 * The container image, kmsd-<version>-oci.tar: an OCI image layout in a tar archive, which
 * `podman load -i` (and `docker load`, `skopeo copy oci-archive:`) accepts. No base image is
 * pulled from any registry: the root file system is assembled here from
 * - the single executable (kmsd-linux-x64) as /usr/local/bin/kmsd;
 * - the shared libraries it needs, as `ldd` names them, taken from the Debian packages that
 *   hold them (`dpkg -S` names the package, `apt-get download` fetches it, `dpkg-deb -x`
 *   unpacks it): glibc, libstdc++ and libgcc, nothing else;
 * - a few files of /etc (the kmsd user and group, hosts, nsswitch.conf), /tmp and /data.
 * Reproducible: the layers are written by tar.ts with fixed owners, modes, order and time
 * (SOURCE_DATE_EPOCH, else 0), so the same executable and packages give the same digests.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { tar, type TarEntry } from './tar.ts';
import { binEnv } from '../bin-settings.ts';

/** The image's user: not root, owner of /data. */
export const IMAGE_USER = { name: 'kmsd', uid: 10001, gid: 10001 };
/** Where the executable is in the image, and the image's entrypoint. */
export const IMAGE_EXECUTABLE = '/usr/local/bin/kmsd';
export const IMAGE_CMD = ['serve', '--host', '0.0.0.0', '--port', '8080', '--data-dir', '/data'];

export interface ImageOptions {
  root: string;
  work: string;
  executable: string;
  version: string;
  output: string;
  /** The time of every file and of the image (seconds since 1970): releaseEpoch(). */
  epoch: number;
}

/** SOURCE_DATE_EPOCH when set, else the time of the checkout's last commit, else 0. */
export function releaseEpoch(root: string): number {
  if (process.env.SOURCE_DATE_EPOCH) return Number(process.env.SOURCE_DATE_EPOCH);
  try {
    return Number(execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()) || 0;
  } catch {
    return 0;
  }
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** The shared libraries `ldd` says the executable loads (absolute paths), the loader included. */
function neededLibraries(executable: string): string[] {
  const out = execFileSync('ldd', [executable], { encoding: 'utf8' });
  const paths = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) paths.add(m[1]);
  }
  if (paths.size === 0) throw new Error(`ldd found no libraries for ${executable}: is it a dynamically linked Linux executable of this machine's architecture?`);
  return [...paths].sort();
}

/** The same path with and without a /usr prefix: Debian's merged /usr puts a file at either. */
const spellings = (path: string): string[] => (path.startsWith('/usr/') ? [path, path.slice(4)] : [path, `/usr${path}`]);

/** The Debian package that installed `path` (dpkg -S), e.g. "libc6:amd64". */
function packageOf(path: string): string {
  for (const p of spellings(path)) {
    try {
      return execFileSync('dpkg', ['-S', p], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split(':').slice(0, 2).join(':').trim();
    } catch {
      // not under this spelling
    }
  }
  throw new Error(`no Debian package holds ${path}`);
}

/** A file's content inside an unpacked package tree, following links inside that tree. */
function contentIn(tree: string, path: string): Buffer | null {
  for (const p of spellings(path)) {
    let at = join(tree, p);
    for (let hops = 0; hops < 10 && existsSync(at) && lstatSync(at).isSymbolicLink(); hops++) {
      const target = readlinkSync(at);
      at = target.startsWith('/') ? join(tree, target) : resolve(dirname(at), target);
    }
    if (existsSync(at) && lstatSync(at).isFile()) return readFileSync(at);
  }
  return null;
}

/** Every directory above the given paths, as tar entries (parents first). */
function parents(paths: string[]): TarEntry[] {
  const dirs = new Set<string>();
  for (const p of paths) for (let d = dirname(p); d !== '/' && d !== '.'; d = dirname(d)) dirs.add(d);
  return [...dirs].sort().map((d) => ({ path: d.slice(1), type: 'dir' as const, mode: 0o755 }));
}

/** Layer 1: the libraries and /etc, /tmp, /data. Layer 2: the executable. */
function layers(o: ImageOptions): { libraries: string[]; packages: string[]; base: TarEntry[]; app: TarEntry[] } {
  const libraries = neededLibraries(o.executable);
  const packages = [...new Set(libraries.map(packageOf))].sort();
  const debs = join(o.work, 'debs');
  rmSync(debs, { recursive: true, force: true });
  mkdirSync(debs, { recursive: true });
  // As root, apt-get downloads as its _apt user, which cannot write a private build directory:
  // it downloads as the caller instead (the files are checked against the archive's signed lists either way).
  execFileSync('apt-get', ['download', '-qq', '-o', 'APT::Sandbox::User=root', ...packages], { cwd: debs, stdio: ['ignore', 'ignore', 'inherit'] });
  const tree = join(o.work, 'tree');
  rmSync(tree, { recursive: true, force: true });
  for (const deb of readdirSync(debs).filter((f) => f.endsWith('.deb')).sort()) execFileSync('dpkg-deb', ['-x', join(debs, deb), tree]);
  const files: TarEntry[] = libraries.map((lib) => {
    const data = contentIn(tree, lib);
    if (data === null) throw new Error(`the packages ${packages.join(', ')} hold no ${lib}`);
    return { path: lib.slice(1), type: 'file', mode: 0o755, data };
  });
  const { name, uid, gid } = IMAGE_USER;
  const text = (path: string, body: string): TarEntry => ({ path, type: 'file', mode: 0o644, data: Buffer.from(body) });
  files.push(
    text('etc/passwd', `root:x:0:0:root:/root:/sbin/nologin\n${name}:x:${uid}:${gid}:kmsd:/data:/sbin/nologin\n`),
    text('etc/group', `root:x:0:\n${name}:x:${gid}:\n`),
    text('etc/nsswitch.conf', 'passwd: files\ngroup: files\nhosts: files dns\n'),
    text('etc/hosts', '127.0.0.1\tlocalhost\n::1\tlocalhost\n'),
    text('etc/os-release', `NAME="kmsd"\nID=kmsd\nVERSION_ID="${o.version}"\nPRETTY_NAME="kmsd ${o.version} (libraries from Debian: ${packages.join(' ')})"\n`),
  );
  const base: TarEntry[] = [
    ...parents(files.map((f) => `/${f.path}`)),
    { path: 'data', type: 'dir' as const, mode: 0o700, uid, gid },
    { path: 'tmp', type: 'dir' as const, mode: 0o1777 },
    ...files,
  ].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const app: TarEntry[] = [
    ...parents([IMAGE_EXECUTABLE]),
    { path: IMAGE_EXECUTABLE.slice(1), type: 'file', mode: 0o755, data: readFileSync(o.executable) },
  ];
  return { libraries, packages, base, app };
}

/** Builds the image archive; returns its path. */
export function buildImage(o: ImageOptions): string {
  mkdirSync(o.work, { recursive: true });
  const epoch = o.epoch;
  const created = new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');
  const { packages, base, app } = layers(o);
  const blobs = new Map<string, Buffer>();
  const blob = (data: Buffer): { digest: string; size: number } => {
    const digest = `sha256:${sha256(data)}`;
    blobs.set(digest, data);
    return { digest, size: data.length };
  };
  const layerBlobs = [tar(base, epoch), tar(app, epoch)].map(blob);
  const seconds = (s: number) => s * 1_000_000_000;
  const config = {
    created,
    architecture: 'amd64',
    os: 'linux',
    config: {
      User: `${IMAGE_USER.uid}:${IMAGE_USER.gid}`,
      Entrypoint: [IMAGE_EXECUTABLE],
      Cmd: IMAGE_CMD,
      // bin/kmsd.js's glibc malloc settings (see there), which glibc reads before kmsd runs.
      Env: ['PATH=/usr/local/bin', ...Object.entries(binEnv(o.root)).map(([name, value]) => `${name}=${value}`)],
      ExposedPorts: { '8080/tcp': {} },
      Volumes: { '/data': {} },
      WorkingDir: '/data',
      StopSignal: 'SIGTERM',
      Labels: {
        'org.opencontainers.image.title': 'kmsd',
        'org.opencontainers.image.description': 'A key management server that speaks the Huawei Cloud KMS v1.0 API',
        'org.opencontainers.image.version': o.version,
        'org.opencontainers.image.licenses': 'Apache-2.0',
      },
      // Not part of the OCI image configuration (Docker's); podman and docker read it from the
      // configuration all the same (docs/install.md says what each does with it).
      Healthcheck: { Test: ['CMD', IMAGE_EXECUTABLE, 'health'], Interval: seconds(10), Timeout: seconds(3), StartPeriod: seconds(5), Retries: 3 },
    },
    rootfs: { type: 'layers', diff_ids: layerBlobs.map((l) => l.digest) },
    history: [
      { created, created_by: `libraries from Debian (${packages.join(' ')}); /etc, /tmp, /data` },
      { created, created_by: `kmsd ${o.version} single executable at ${IMAGE_EXECUTABLE}` },
    ],
  };
  const configBlob = blob(Buffer.from(JSON.stringify(config)));
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob },
    layers: layerBlobs.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...l })),
  };
  const manifestBlob = blob(Buffer.from(JSON.stringify(manifest)));
  const tags = [o.version, 'latest'];
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: tags.map((tag) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...manifestBlob,
      annotations: { 'org.opencontainers.image.ref.name': `localhost/kmsd:${tag}` },
    })),
  };
  const dockerManifest = [{
    Config: `blobs/sha256/${configBlob.digest.slice(7)}`,
    RepoTags: tags.map((tag) => `localhost/kmsd:${tag}`),
    Layers: layerBlobs.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
  }];
  const entries: TarEntry[] = [
    { path: 'blobs', type: 'dir', mode: 0o755 },
    { path: 'blobs/sha256', type: 'dir', mode: 0o755 },
    ...[...blobs.keys()].sort().map((d): TarEntry => ({ path: `blobs/sha256/${d.slice(7)}`, type: 'file', mode: 0o644, data: blobs.get(d)! })),
    { path: 'index.json', type: 'file', mode: 0o644, data: Buffer.from(JSON.stringify(index)) },
    // The same image as a Docker archive (what `docker save` writes beside its OCI layout since
    // Docker 25): podman 4 refuses an OCI archive that names two images ("more than one image in
    // oci, choose an image") and then reads this instead, with both tags.
    { path: 'manifest.json', type: 'file', mode: 0o644, data: Buffer.from(JSON.stringify(dockerManifest)) },
    { path: 'oci-layout', type: 'file', mode: 0o644, data: Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })) },
  ];
  writeFileSync(o.output, tar(entries, epoch));
  return o.output;
}
