import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { KMSD, examples, kmsdForTests, readmeSession, runBlocks } from './examples.ts';
import { run } from '../support/built-client.ts';

/** docs/backup-and-keys.md's backup and restore of the quick start's store, after the README, as written. */
const world = kmsdForTests('kmsd-backup-');

test("docs/backup-and-keys.md: a backup of the quick start's store, restored, holds the walk-through key's trail", { timeout: 180_000 }, async () => {
  const page = examples('docs/backup-and-keys.md').filter((e) => e.kind === 'run');
  assert.deepEqual(page.map((e) => e.args), [['after', 'README.md']]);
  const readme = readmeSession(world.dir, world.kmsd.endpoint);
  const r = await runBlocks([...readme.blocks, ...page.map((e) => e.body)], world.kmsd.endpoint, world.dir, readme.env);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  const [backedUp, restored, ...trail] = r.outputs.at(-1)!.trimEnd().split('\n');
  assert.match(backedUp, /^backed up \d+ keys, \d+ grants, \d+ audit records; \d+ rows in \d+ tables \(schema \d+\) to \/\S+\/kmsd\.kmsdbak$/);
  assert.match(restored, /^restored \d+ keys, \d+ grants, \d+ audit records; .* into \/\S+\/restored; start kmsd on it with the root key of the store it came from$/);
  // The restored trail of the walk-through's key is the one ./data holds.
  const key = JSON.parse(r.outputs[0].split('\n')[0]).key_id;
  const original = await run(KMSD, ['audit', '--data-dir', join(world.dir, 'data'), '--key', key]);
  assert.equal(`${trail.join('\n')}\n`, original.stdout);
  assert.equal(trail.length, 5, trail.join('\n'));
});
