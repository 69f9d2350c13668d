import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { examples, kmsdForTests, runBlocks } from './examples.ts';

/** docs/signing.md's DIGEST example, as written, in the quick start's directory against its kmsd. */
const world = kmsdForTests('kmsd-signing-');

test("docs/signing.md's DIGEST signature checks out with openssl, run as written (twice: the key is named per run)", { timeout: 120_000 }, async () => {
  const blocks = examples('docs/signing.md').filter((e) => e.kind === 'run').map((e) => e.body);
  assert.equal(blocks.length, 1);
  // The CLI's default endpoint (the page's 8080) is the test kmsd's.
  const env = { KMSD_ENDPOINT: world.kmsd.endpoint, KMSD_PROFILES_FILE: join(world.dir, 'no-profiles.json') };
  for (const pause of [0, 1100]) {
    await new Promise((r) => setTimeout(r, pause));
    const r = await runBlocks(blocks, world.kmsd.endpoint, world.dir, env);
    assert.deepEqual([r.status, r.stderr, r.outputs], [0, '', ['Verified OK\n']]);
  }
});
