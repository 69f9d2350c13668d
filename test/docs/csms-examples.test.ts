import { test } from 'node:test';
import assert from 'node:assert/strict';
import { examples, kmsdForTests, runBlocks } from './examples.ts';

/** docs/csms.md's curl walk-through, in the shell of docs/operations.md's examples as the page says. */
const world = kmsdForTests('kmsd-csms-');

test("docs/csms.md's curl examples run after docs/operations.md's, each answer as documented", { timeout: 240_000 }, async () => {
  const csms = examples('docs/csms.md').filter((e) => e.kind === 'run');
  assert.deepEqual(csms.map((e) => e.args), [['after', 'docs/operations.md']]);
  const before = examples('docs/operations.md').filter((e) => e.kind === 'run');
  const r = await runBlocks([...before, ...csms].map((e) => e.body), world.kmsd.endpoint, world.dir);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  // One line an answer (the 204s are empty lines), the last one ended by its newline.
  const out = r.outputs[r.outputs.length - 1].split('\n').slice(0, -1);
  assert.equal(out.length, 12, out.join('\n'));
  assert.deepEqual([out[6], out[11]], ['', '']);
  const [created, latest, second, versions, staged, stage, , listed, password, scheduled, restored] = out.map((l) => (l === '' ? null : JSON.parse(l)));
  assert.deepEqual([created.secret.name, created.secret.state], ['orders-db', 'ENABLED']);
  assert.deepEqual([latest.version.version_metadata.id, latest.version.version_metadata.version_stages, latest.version.secret_string], ['v1', ['SYSCURRENT'], '{"user":"app","password":"s3cret"}']);
  assert.deepEqual([second.version_metadata.id, second.version_metadata.version_stages], ['v2', ['SYSCURRENT']]);
  assert.deepEqual(versions.version_metadatas.map((v: { id: string; version_stages: string[] }) => [v.id, v.version_stages]), [['v1', ['SYSPREVIOUS']], ['v2', ['SYSCURRENT']]]);
  assert.deepEqual([staged.stage.name, staged.stage.version_id], ['canary', 'v1']);
  assert.deepEqual(stage, staged);
  assert.deepEqual(listed.secrets.map((s: Record<string, unknown>) => [s.name, 'secret_string' in s]), [['orders-db', false]]);
  assert.equal(password.password.length, 24);
  assert.equal(scheduled.secret.state, 'PENDING_DELETE');
  assert.equal(restored.secret.state, 'ENABLED');
});
