import { test } from 'node:test';
import assert from 'node:assert/strict';
import { examples, kmsdForTests, readmeSession, runBlocks } from './examples.ts';

/**
 * docs/operating.md's examples, in the shell of the README's walk-through as the page says:
 * the operator endpoints, `kmsd audit` (table and JSON) and ListTraces over the API.
 */
const world = kmsdForTests('kmsd-operating-');

test("the operator endpoints, kmsd audit and ListTraces answer as docs/operating.md shows, after the README's walk-through", { timeout: 120_000 }, async () => {
  const readme = readmeSession(world.dir, world.kmsd.endpoint);
  const blocks = [...readme.blocks, ...examples('docs/operating.md').filter((e) => e.kind === 'run').map((e) => e.body)];
  const r = await runBlocks(blocks, world.kmsd.endpoint, world.dir, readme.env);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  const [walk, , , operator, audit, traces] = r.outputs.map((o) => o.trimEnd().split('\n'));
  const key = JSON.parse(walk[0]).key_id;
  const [dev] = world.kmsd.described.accounts;
  const app = dev.users[1];

  assert.deepEqual(operator, ['{"status":"ok"}', '{"status":"ready","store":"sqlite"}', 'kmsd_live_grants 1']);

  // The table by key, the JSON lines by principal, then the two filters together (a table again).
  assert.equal(audit.length, 5 + 3 + 3, audit.join('\n'));
  assert.match(audit[0], /^SEQ +TIME +CALLER +OPERATION +KEY +OUTCOME +SOURCE +GRANT$/);
  const alias = audit[1].split(/ {2,}/)[4];
  assert.match(alias, /^quick-start-\d+$/);
  assert.deepEqual(audit.slice(1, 5).map((l) => l.split(/ {2,}/).slice(2, 6)), [
    ['admin@dev', 'create-key', alias, 'allowed 200'], ['admin@dev', 'create-grant', alias, 'allowed 200'],
    ['app@dev', 'retire-grant', alias, 'allowed 200'], ['app@dev', 'encrypt-data', alias, 'denied 403 KMS.0306'],
  ]);
  const byApp = audit.slice(5, 8).map((l) => JSON.parse(l));
  assert.deepEqual(byApp.map((e) => [e.operation, e.user_id, e.outcome]), [
    ['create-token', app.id, 'allowed'], ['retire-grant', app.id, 'allowed'], ['encrypt-data', app.id, 'denied'],
  ]);
  assert.deepEqual(audit.slice(9).map((l) => l.split(/ {2,}/).slice(2, 4)), [['app@dev', 'retire-grant'], ['app@dev', 'encrypt-data']]);

  const listed = JSON.parse(traces[0]);
  assert.deepEqual(listed.traces.map((t: { trace_name: string; trace_rating: string; resource_id: string; user: { name: string; domain: { name: string } } }) =>
    [t.trace_name, t.trace_rating, t.resource_id, t.user.name, t.user.domain.name]), [
    ['encryptData', 'warning', key, 'app', 'dev'], ['retireGrant', 'normal', key, 'app', 'dev'],
  ]);
  assert.equal(listed.traces[0].response, '{"error":{"error_code":"KMS.0306","error_msg":"No access permissions."}}');
  assert.deepEqual(listed.meta_data, { count: 2, marker: listed.traces[1].trace_id });
});
