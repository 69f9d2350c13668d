import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { GENESIS, chainHash } from '../src/audit/chain.ts';
import type { AuditEvent } from '../src/core/model.ts';
import { DECISIONS } from '../src/core/decisions.ts';
import { auditLine } from '../src/audit/line.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import { verifyTrail } from '../src/audit/verify.ts';
import { ERR, newKey, raw, startWorld, worldIdentities, type World } from './harness.ts';
import { startKmsd, type Node } from './support/cluster.ts';

/**
 * `--audit-log FILE` (issue #22 §3): every record also goes to FILE as a JSON line with its
 * chain hash, before the answer leaves; when the file cannot take the line, the request is
 * refused and nothing of it is done.
 */
/** false when the command runs here, else why the test that needs it is skipped. */
function needs(command: string, reason: string): string | false {
  try {
    execFileSync(command, ['--version'], { stdio: 'ignore' });
    return false;
  } catch {
    return reason;
  }
}

const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));

describe('--audit-log FILE', () => {
  let world: World;
  let file: string;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsd-auditlog-'));
    file = join(dir, 'audit.jsonl');
    world = await startWorld({ config: { auditLog: file } });
  });
  after(async () => {
    await world.close();
    rmSync(join(file, '..'), { recursive: true, force: true });
  });

  test('every record is a line with its chain hash, in the file when the answer arrives; the file is 0600', async () => {
    const alice = world.as('alice');
    const created = await alice.kms('create-key', { key_alias: `log-${randomBytes(3).toString('hex')}` });
    assert.equal(created.status, 200);
    const keyId = created.body.key_info.key_id;
    // No wait: the line was written before the answer left.
    const first = lines(file).at(-1);
    const stored = await world.server.store.read((tx) => tx.listAuditChain(0, 1000));
    const record = stored.at(-1);
    assert.deepEqual(first, {
      seq: record?.seq, time: new Date(world.clock.now()).toISOString(), request_id: created.headers.get('x-request-id'),
      account_id: world.users.alice.accountId, user_id: world.users.alice.id, access_key_id: null, claimed_access_key_id: null,
      source: '127.0.0.1', operation: 'create-key', key_id: keyId, grant_id: null, sequence: null, outcome: 'allowed', status: 200,
      error_code: null, count: 1, secret_id: null, secret_name: null, prev_hash: stored.at(-2)?.hash ?? GENESIS, hash: record?.hash,
    });
    assert.equal((await world.as('nobody').kms('disable-key', { key_id: keyId })).status, 403);
    assert.equal((await alice.kms('enable-key', { key_id: keyId })).status, 400);
    const all = await world.server.store.read((tx) => tx.listAuditChain(0, 1000));
    assert.deepEqual(lines(file), all.map((r) => JSON.parse(auditLine(r))));
    assert.deepEqual(lines(file).slice(-2).map((l) => [l.operation, l.outcome, l.error_code]), [['disable-key', 'denied', 'KMS.0306'], ['enable-key', 'failed', 'KMS.1201']]);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });
});

/** A --audit-log line back as the record it was hashed from. */
const fromLine = (l: Record<string, never>): AuditEvent => ({
  time: Date.parse(l.time), requestId: l.request_id, accountId: l.account_id, userId: l.user_id, accessKeyId: l.access_key_id,
  claimedAccessKeyId: l.claimed_access_key_id, source: l.source, operation: l.operation, keyId: l.key_id, grantId: l.grant_id,
  sequence: l.sequence, outcome: l.outcome, status: l.status, errorCode: l.error_code, count: l.count, secretId: l.secret_id, secretName: l.secret_name,
});

const PYTHON = needs('python3', 'needs python3 for the independent check in docs/audit.md');

test('the Python check in docs/audit.md, an independent implementation, accepts a log kmsd wrote and finds a line altered', { skip: PYTHON }, async () => {
  const doc = readFileSync(new URL('../docs/audit.md', import.meta.url), 'utf8');
  const script = /```python\n([\s\S]*?)```/.exec(doc)?.[1] as string;
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-pycheck-'));
  const file = join(dir, 'audit.jsonl');
  const world = await startWorld({ config: { auditLog: file } });
  try {
    const alice = world.as('alice');
    const keyId = await newKey(alice);
    await world.as('nobody').kms('disable-key', { key_id: keyId });
    // A claimed access key is whatever the caller wrote: a character outside ASCII reaches the record (and the JSON).
    const forged = await raw(world.url, 'POST', `/v1.0/${world.users.alice.projectId}/kms/disable-key`, {
      headers: { 'Content-Type': 'application/json', Authorization: 'SDK-HMAC-SHA256 Access=AK\u00e9\u00df, SignedHeaders=host, Signature=00' }, body: '{}',
    });
    assert.equal(forged.status, 401);
    assert.equal(lines(file).at(-1).claimed_access_key_id, 'AK\u00e9\u00df');
    await alice.kms('schedule-key-deletion', { key_id: keyId, pending_days: '7' });
    // A non-BMP character and a lone surrogate (kept as U+FFFD) in a refused request's key_id: the same hash in Python.
    assert.equal((await world.as('nobody').kms('disable-key', { key_id: 'x\ud83d\ude00\ud800' })).status, 400);
    assert.equal(lines(file).at(-1).key_id, 'x\ud83d\ude00\ufffd');
    writeFileSync(join(dir, 'check.py'), script);
    const count = lines(file).length;
    const head = lines(file).at(-1).hash;
    assert.equal(execFileSync('python3', [join(dir, 'check.py'), file], { encoding: 'utf8' }), `${count} lines chained, head ${head}\n`);
    const altered = readFileSync(file, 'utf8').replace('"outcome":"denied"', '"outcome":"allowed"');
    writeFileSync(join(dir, 'altered.jsonl'), altered);
    const line = altered.split('\n').findIndex((l) => l.includes('"operation":"disable-key"')) + 1;
    assert.throws(() => execFileSync('python3', [join(dir, 'check.py'), join(dir, 'altered.jsonl')], { encoding: 'utf8', stdio: 'pipe' }),
      (error: { status: number; stderr: string }) => error.status === 1 && error.stderr === `line ${line} (record ${lines(file)[line - 1].seq}) was altered\n`);
    const check = (name: string, text: string, ...args: string[]) => {
      writeFileSync(join(dir, name), text);
      try {
        return { status: 0, stdout: execFileSync('python3', [join(dir, 'check.py'), join(dir, name), ...args], { encoding: 'utf8', stdio: 'pipe' }), stderr: '' };
      } catch (error) {
        const { status, stdout, stderr } = error as { status: number; stdout: string; stderr: string };
        return { status, stdout, stderr };
      }
    };
    const text = readFileSync(file, 'utf8');
    const all = text.trimEnd().split('\n');
    // A line whose commit failed (its hash never reached the store): the next line chains onto the same record; reported, not a break.
    const orphan = { ...lines(file)[2], request_id: 'never-committed' };
    orphan.hash = chainHash(orphan.prev_hash, fromLine(orphan));
    const withOrphan = [...all.slice(0, 2), JSON.stringify(orphan), ...all.slice(2)].join('\n') + '\n';
    assert.deepEqual(check('orphan.jsonl', withOrphan), {
      status: 0, stdout: `lines never committed (their request failed; the next line chains past them): [3]\n${count + 1} lines chained, head ${lines(file).at(-1).hash}\n`, stderr: '',
    });
    // A group whose COMMIT failed: its lines chained onto each other, the first onto the last committed
    // record, and the next committed line onto that record again. Reported as a run, not a break.
    const group: Record<string, unknown>[] = [];
    for (const i of [1, 2, 3]) {
      const line = { ...lines(file)[2], request_id: `group-never-committed-${i}`, prev_hash: i === 1 ? lines(file)[2].prev_hash : group[i - 2].hash };
      line.hash = chainHash(line.prev_hash as string, fromLine(line));
      group.push(line);
    }
    const withGroup = [...all.slice(0, 2), ...group.map((l) => JSON.stringify(l)), ...all.slice(2)].join('\n') + '\n';
    assert.deepEqual(check('group.jsonl', withGroup), {
      status: 0, stdout: `lines never committed (their request failed; the next line chains past them): [3, 4, 5]\n${count + 3} lines chained, head ${lines(file).at(-1).hash}\n`, stderr: '',
    });
    // Two failed groups one after the other, both onto the same committed record.
    const twice = [...all.slice(0, 2), JSON.stringify(orphan), ...group.map((l) => JSON.stringify(l)), ...all.slice(2)].join('\n') + '\n';
    assert.deepEqual(check('twice.jsonl', twice), {
      status: 0, stdout: `lines never committed (their request failed; the next line chains past them): [3, 4, 5, 6]\n${count + 4} lines chained, head ${lines(file).at(-1).hash}\n`, stderr: '',
    });
    // A committed line taken out of the middle is still a break, with runs of uncommitted lines allowed.
    const removed = [...all.slice(0, 3), ...all.slice(4)].join('\n') + '\n';
    assert.deepEqual(check('removed.jsonl', removed), { status: 1, stdout: '', stderr: `line 4 (record ${lines(file)[4].seq}) does not follow the line before it\n` });
    // A file must start at the chain's start (64 zeros) unless told the hash before its first line.
    const tail = all.slice(1).join('\n') + '\n';
    assert.deepEqual(check('tail.jsonl', tail), { status: 1, stdout: '', stderr: `line 1 (record ${lines(file)[1].seq}) does not follow the line before it\n` });
    assert.deepEqual(check('tail.jsonl', tail, lines(file)[0].hash), { status: 0, stdout: `${count - 1} lines chained, head ${lines(file).at(-1).hash}\n`, stderr: '' });
    // No traceback: an empty file, a line with a lone surrogate (kmsd never writes one), a line that is not a record.
    assert.deepEqual(check('empty.jsonl', ''), { status: 1, stdout: '', stderr: 'the file holds no line\n' });
    const surrogate = all[0].replace(/"request_id":"[^"]*"/, '"request_id":"\\ud800"');
    assert.deepEqual(check('surrogate.jsonl', `${surrogate}\n`), { status: 1, stdout: '', stderr: 'line 1 is not a kmsd audit record (UnicodeEncodeError)\n' });
    assert.deepEqual(check('junk.jsonl', `${all[0]}\n[1]\n`), { status: 1, stdout: '', stderr: 'line 2 is not a kmsd audit record (TypeError)\n' });
  } finally {
    await world.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('--audit-log on a device with no space left (/dev/full: ENOSPC)', () => {
  test('a change is refused with KMS.0102 and not done; reads still answer', async () => {
    const world = await startWorld({ config: { auditLog: '/dev/full' } });
    try {
      // Signed requests: a login (token) is a recorded change too, and would be refused itself.
      const alice = world.as('alice', 'aksk');
      const before = await world.server.store.read((tx) => tx.listAuditChain(0, 1000));
      const alias = `full-${randomBytes(3).toString('hex')}`;
      const r = await alice.kms('create-key', { key_alias: alias });
      assert.deepEqual([r.status, r.body], [500, ERR(DECISIONS.auditLogUnwritable, 'Abnormal KMS I/O.')]);
      const list = await alice.kms('list-keys', { limit: '1000' });
      assert.equal(list.status, 200);
      assert.equal(list.body.key_details.some((k: { key_alias: string }) => k.key_alias === alias), false);
      // Neither the change nor a record of it (nor of its failure) reached the store.
      assert.deepEqual(await world.server.store.read((tx) => tx.listAuditChain(0, 1000)), before);
      assert.equal(statSync('/dev/full').mode & 0o777, 0o666, '/dev/full is left as it was');
    } finally {
      await world.close();
    }
  });
});

const PRLIMIT = needs('prlimit', 'needs prlimit (util-linux) to give kmsd a file size limit');

describe('--audit-log on a disk that fills up (a real file size limit: prlimit --fsize)', { skip: PRLIMIT }, () => {
  let dir: string;
  let node: Node;
  let file: string;
  // The limit is on every file kmsd writes; the log starts just under it (a sparse file), so the
  // store (well under it) keeps working and the log fills after a few lines.
  const LIMIT = 8 * 1024 * 1024;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kmsd-fsize-'));
    file = join(dir, 'audit.jsonl');
    writeFileSync(file, '');
    truncateSync(file, LIMIT - 1500);
    const { path, users } = worldIdentities(dir);
    node = await startKmsd({
      store: 'sqlite', dataDir: join(dir, 'data'), identities: path, rootKey: randomBytes(32).toString('base64'), users,
      env: { KMSD_AUDIT_LOG: file, KMSD_LOG_LEVEL: 'error', KMSD_LOG_FORMAT: 'json' }, launcher: ['prlimit', `--fsize=${LIMIT}:${LIMIT}`],
    });
  });
  after(async () => {
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('once the log cannot grow, changes are refused (KMS.0102) and not done; every record in the store has its whole line', async () => {
    const alice = node.as('alice');
    const answers: number[] = [];
    for (let i = 0; i < 10; i++) answers.push((await alice.kms('create-key', { key_alias: `fill-${i}` })).status);
    const done = answers.filter((s) => s === 200).length;
    assert.ok(done >= 1 && done < 10, `some creates done, then refused: ${answers}`);
    assert.deepEqual(answers, [...Array(done).fill(200), ...Array(10 - done).fill(500)]);
    const refused = await alice.kms('create-key', { key_alias: 'one-more' });
    assert.deepEqual([refused.status, refused.body], [500, ERR(DECISIONS.auditLogUnwritable, 'Abnormal KMS I/O.')]);
    const list = await alice.kms('list-keys', { limit: '1000' });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.key_details.map((k: { key_alias: string }) => k.key_alias).filter((a: string) => !a.includes('/')).sort(), Array.from({ length: done }, (_, i) => `fill-${i}`));
    assert.match(node.output(), /did not take a record: its request is refused/);
    assert.doesNotMatch(node.output(), /fill-\d/, 'no alias (or anything of a request) in the log of the failure');
    // The file holds whole lines only, one per record of the store, in the order of the chain.
    const text = readFileSync(file, 'utf8').slice(LIMIT - 1500);
    assert.ok(text.endsWith('\n'));
    const logged = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
    const store = new SqliteStore(join(dir, 'data', 'kmsd.db'));
    try {
      const stored = await store.read((tx) => tx.listAuditChain(0, 1000));
      assert.deepEqual(logged, stored.map((r) => JSON.parse(auditLine(r))));
      assert.equal((await verifyTrail(store)).intact, true);
    } finally {
      await store.close();
    }
    // Space again (the log shipped and cut): changes are done again.
    truncateSync(file, 0);
    assert.equal((await alice.kms('create-key', { key_alias: 'after-rotation' })).status, 200);
    assert.equal(lines(file).at(-1).operation, 'create-key');
  });
});

test('--audit-log on a named pipe whose reader stalls: refused at start in one line (exit 2), rather than a node that freezes at its first record', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-fifo-'));
  const fifo = join(dir, 'audit.pipe');
  execFileSync('mkfifo', [fifo]);
  // A reader that opens the pipe and never reads: a blocking write would stop the node once the pipe's buffer is full.
  const reader = spawn('sh', ['-c', `exec 3<"${fifo}"; sleep 60`], { stdio: 'ignore' });
  try {
    const started = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [fileURLToPath(new URL('../bin/kmsd.js', import.meta.url)), 'serve', '--port', '0', '--data-dir', join(dir, 'data'), '--audit-log', fifo],
        { timeout: 30_000, env: { ...process.env, KMSD_LOG_LEVEL: 'error' } },
        (error, stdout, stderr) => resolve({ code: error ? (error as { code?: number }).code ?? null : 0, stdout, stderr }));
    });
    assert.deepEqual(started, {
      code: 2, stdout: '',
      stderr: `kmsd: cannot open the audit log ${fifo}: it is a named pipe: a reader that stalls would stop every audited request of the node; give a regular file (a shipper can follow it)\n`,
    });
  } finally {
    reader.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
