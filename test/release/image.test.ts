import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KmsClient } from '../../src/client/index.ts';
import { IMAGE_USER, buildImage, releaseEpoch } from '../../scripts/release/image.ts';
import { ROOT } from '../support/built-client.ts';
import { VERSION, artifact, exec, freePort, skipWithout, statusOf, waitFor } from './support.ts';

/**
 * kmsd-<version>-oci.tar as a user runs it: `podman load -i`, both tags, then a container with
 * a host directory mounted at /data, which keeps the keys (and the root key) across a restart.
 * Podman here needs runc and cgroupfs (crun refuses these machines' hybrid cgroups).
 *
 * Everything happens in a podman store of this run's own (--root/--runroot in a temporary
 * directory): loading the archive there neither moves the machine's localhost/kmsd tags nor
 * touches an image or container of anyone else, and the test removes only what it loaded.
 */
const ARCHIVE = `kmsd-${VERSION}-oci.tar`;
const EXE = 'kmsd-linux-x64';
const skip = skipWithout(ARCHIVE);
const store = mkdtempSync(join(tmpdir(), 'kmsd-image-store-'));
const PODMAN_RUN = ['--root', join(store, 'root'), '--runroot', join(store, 'run'), '--runtime', 'runc', '--cgroup-manager=cgroupfs'];
const podman = (...args: string[]) => exec('podman', [...PODMAN_RUN, ...args]);
const name = `kmsd-release-test-${process.pid}`;
const TAGS = [`localhost/kmsd:${VERSION}`, 'localhost/kmsd:latest'];
const data = mkdtempSync(join(tmpdir(), 'kmsd-image-data-'));
let loaded = false;

after(async () => {
  if (!skip) {
    await podman('rm', '--ignore', '-t', '0', '--force', name); // this run's own container only
    if (loaded) {
      const removed = await podman('rmi', ...TAGS); // no -f: in this store nothing else can use them
      assert.equal(removed.status, 0, removed.stderr);
    }
  }
  rmSync(store, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
});

test('podman loads the archive under both tags, with the entrypoint, command, user, volume and health check', { skip }, async () => {
  const load = await podman('load', '-i', artifact(ARCHIVE));
  assert.equal(load.status, 0, load.stderr);
  loaded = true;
  assert.match(load.stdout, new RegExp(`Loaded image: localhost/kmsd:${VERSION.replace(/\./g, '\\.')}\nLoaded image: localhost/kmsd:latest\n`));
  const [a, b] = await Promise.all(TAGS.map((tag) => podman('image', 'inspect', '--format', '{{.Id}}', tag)));
  assert.equal(a.status, 0, a.stderr);
  assert.equal(a.stdout, b.stdout, 'both tags name one image');
  const [image] = JSON.parse((await podman('image', 'inspect', 'localhost/kmsd:latest')).stdout);
  const config = image.Config;
  assert.deepEqual(config.Entrypoint, ['/usr/local/bin/kmsd']);
  assert.deepEqual(config.Cmd, ['serve', '--host', '0.0.0.0', '--port', '8080', '--data-dir', '/data']);
  assert.equal(config.User, `${IMAGE_USER.uid}:${IMAGE_USER.gid}`);
  assert.deepEqual(config.Volumes, { '/data': {} });
  // Podman keeps a health check from a Docker-format image only: it loaded the archive's Docker
  // form (manifest.json), whose configuration carries it.
  assert.equal(image.ManifestType, 'application/vnd.docker.distribution.manifest.v2+json');
  assert.deepEqual(image.Healthcheck, { Test: ['CMD', '/usr/local/bin/kmsd', 'health'], StartPeriod: 5_000_000_000, Interval: 10_000_000_000, Timeout: 3_000_000_000, Retries: 3 });
});

test('a container serves with /data mounted, passes its health check, and keeps its keys across a restart', { skip, timeout: 180_000 }, async () => {
  // The image's user owns /data; a host directory mounted there must be writable by it.
  chownSync(data, IMAGE_USER.uid, IMAGE_USER.gid);
  const port = await freePort();
  const started = await podman('run', '-d', '--name', name, '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024',
    '-p', `127.0.0.1:${port}:8080`, '-v', `${data}:/data`, `localhost/kmsd:${VERSION}`);
  assert.equal(started.status, 0, started.stderr);
  const ep = `http://127.0.0.1:${port}`;
  await waitFor('the container to serve', () => statusOf(`${ep}/_kmsd/health`).then((s) => (s === 200 ? s : undefined)), 60_000);
  const whoami = await podman('exec', name, '/usr/local/bin/kmsd', 'health');
  assert.deepEqual([whoami.status, whoami.stdout], [0, 'ok\n']);
  const health = await podman('healthcheck', 'run', name);
  assert.equal(health.status, 0, `${health.stdout}${health.stderr}`);

  // The development account the container generated, read from the mounted directory.
  const identities = JSON.parse(readFileSync(join(data, 'dev-identities.json'), 'utf8'));
  const { ak, sk } = identities.accounts[0].users[0].access_keys[0];
  const client = new KmsClient({ endpoint: ep, ak, sk });
  const { key_info } = await client.createKey({ key_alias: 'survives-a-restart' });
  const { cipher_text = '' } = await client.encryptData({ key_id: key_info!.key_id!, plain_text: 'kept in /data' });
  assert.equal(existsSync(join(data, 'root.key')), true);

  const restarted = await podman('restart', '-t', '10', name);
  assert.equal(restarted.status, 0, restarted.stderr);
  await waitFor('the restarted container to serve', () => statusOf(`${ep}/_kmsd/health`).then((s) => (s === 200 ? s : undefined)), 60_000);
  const again = new KmsClient({ endpoint: ep, ak, sk });
  assert.equal((await again.decryptData({ cipher_text })).plain_text, 'kept in /data');
  assert.equal((await again.describeKey({ key_id: key_info!.key_id! })).key_info?.key_alias, 'survives-a-restart');
  const logs = await podman('logs', name);
  assert.equal(logs.stdout.split('kmsd is serving the Huawei Cloud KMS v1.0 API').length - 1, 2, 'two starts on one data directory');
});

/** A file of the archive (GNU tar), as text. */
const member = async (archive: string, path: string) => (await exec('tar', ['-xOf', archive, path])).stdout;

test('the image is reproducible: built again from the same executable and time, it has the same bytes', { skip: skip || skipWithout(EXE), timeout: 180_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'kmsd-image-again-'));
  try {
    // The time the release gave it (releaseEpoch: the last commit's, unless SOURCE_DATE_EPOCH).
    const index = JSON.parse(await member(artifact(ARCHIVE), 'index.json'));
    const manifest = JSON.parse(await member(artifact(ARCHIVE), `blobs/sha256/${index.manifests[0].digest.slice(7)}`));
    const config = JSON.parse(await member(artifact(ARCHIVE), `blobs/sha256/${manifest.config.digest.slice(7)}`));
    const epoch = Date.parse(config.created) / 1000;
    assert.equal(typeof releaseEpoch(ROOT), 'number');
    const output = join(work, ARCHIVE);
    buildImage({ root: ROOT, work: join(work, 'work'), executable: artifact(EXE), version: VERSION, output, epoch });
    const digest = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
    assert.equal(digest(output), digest(artifact(ARCHIVE)));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
