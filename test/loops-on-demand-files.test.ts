import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { testConfig } from '../src/config.ts';
import { startWorkers } from '../src/cluster.ts';
import { SAMPLE_MS } from '../src/loops-on-demand.ts';

/**
 * Event loops started on load (src/loops-on-demand.ts) after the node serves, while the files
 * it started from have changed on disk (review of #25 item 3, D3): a loop started late serves
 * the certificate the main thread serves, not the files (a pair staged for the next reload, or
 * mid-rotation: a new certificate beside the old key), and a loop that fails to start then
 * costs that loop only: the node serves on, the failure counted in the metrics. The server runs
 * in this process, so this thread is its main thread: a synchronous spin makes it busy. The
 * certificates come from the openssl CLI.
 */
const spin = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* busy, as a loaded main thread is */ }
};

function pair(dir: string, name: string): { cert: string; key: string; fingerprint: string } {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', '/CN=localhost', '-days', '2'], { cwd: dir, stdio: 'ignore' });
  const cert = readFileSync(join(dir, `${name}.crt`), 'utf8');
  return { cert, key: readFileSync(join(dir, `${name}.key`), 'utf8'), fingerprint: new X509Certificate(cert).fingerprint256 };
}

/** The certificates served over `n` connections (SO_REUSEPORT spreads them over the loops: 40 reach both of two loops but with odds 2^-39). */
async function servedFingerprints(url: string, n = 40): Promise<Set<string>> {
  const { port } = new URL(url);
  const seen = await Promise.all(Array.from({ length: n }, () => new Promise<string>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port), rejectUnauthorized: false, servername: 'localhost' }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.on('error', reject);
  })));
  return new Set(seen);
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/_kmsd/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
}

function world(): { dir: string; ids: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-loops-files-'));
  writeFileSync(join(dir, 'ids.json'), JSON.stringify({ accounts: [{ name: 'acme', users: [{ name: 'admin' }] }] }));
  return { dir, ids: join(dir, 'ids.json') };
}

/** A node of 2 loops (the second started on load) serving pair a from tls.crt/tls.key; pair b made beside it. */
async function servingPairA() {
  const { dir, ids } = world();
  const a = pair(dir, 'a');
  const b = pair(dir, 'b');
  writeFileSync(join(dir, 'tls.crt'), a.cert);
  writeFileSync(join(dir, 'tls.key'), a.key, { mode: 0o600 });
  const server = await startWorkers(
    testConfig({ dataDir: dir, identities: ids, port: 0, workers: 2, loopStartLoad: 60, logLevel: 'silent', tlsCert: join(dir, 'tls.crt'), tlsKey: join(dir, 'tls.key') }),
    (error) => assert.fail(String(error)),
  );
  return { dir, a, b, server };
}

describe('event loops started on load, with the files changed on disk since the start', () => {
  test('a pair staged on disk without a reload: the late loop serves the main thread\'s certificate; the reload then moves every loop', async () => {
    const { dir, a, b, server } = await servingPairA();
    try {
      assert.deepEqual(await servedFingerprints(server.url), new Set([a.fingerprint]));
      // The next pair is staged; the operator has not sent SIGHUP yet.
      writeFileSync(join(dir, 'tls.crt'), b.cert);
      writeFileSync(join(dir, 'tls.key'), b.key);
      spin(SAMPLE_MS * 2.5);
      const serving = await server.joined;
      assert.deepEqual(await servedFingerprints(server.url), new Set([a.fingerprint]));
      assert.equal(serving, 2);
      // SIGHUP: every loop, the late one too, serves the new pair.
      assert.equal((await server.reloadTls())?.fingerprint, b.fingerprint);
      assert.deepEqual(await servedFingerprints(server.url), new Set([b.fingerprint]));
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('files mid-rotation (the new certificate beside the old key): the late loop starts and serves the pair in force; the node does not stop', async () => {
    const { dir, a, b, server } = await servingPairA();
    try {
      writeFileSync(join(dir, 'tls.crt'), b.cert);
      spin(SAMPLE_MS * 2.5);
      const serving = await server.joined;
      assert.deepEqual(await servedFingerprints(server.url), new Set([a.fingerprint]));
      assert.equal(serving, 2);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a loop that fails to start on load (an identities file mid-edit) is counted and left out; the main thread serves on', async () => {
    const { dir, ids } = world();
    const server = await startWorkers(
      testConfig({ dataDir: dir, identities: ids, port: 0, workers: 3, loopStartLoad: 60, logLevel: 'silent' }),
      (error) => assert.fail(String(error)),
    );
    try {
      writeFileSync(ids, '{"accounts": [');
      spin(SAMPLE_MS * 2.5);
      assert.equal(await server.joined, 1);
      assert.equal(await metric(server.url, 'kmsd_event_loops'), 1);
      assert.equal(await metric(server.url, 'kmsd_event_loop_start_failures_total'), 2);
      assert.equal((await fetch(`${server.url}/`)).status, 200);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
