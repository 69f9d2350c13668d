import { test } from 'node:test';
import assert from 'node:assert/strict';
import { examples, kmsdForTests, runBlocks, serveArgs } from './examples.ts';

/** docs/limits.md's request-rate example: kmsd started with the page's own flags, the page's curl as written. */
const page = examples('docs/limits.md');
const world = kmsdForTests('kmsd-limits-', () => serveArgs(page.find((e) => e.kind === 'serve')!.body));

test('past --rate-limit a caller gets 429 in the gateway\'s shape with Retry-After: 1, as docs/limits.md shows', { timeout: 120_000 }, async () => {
  assert.deepEqual(serveArgs(page.find((e) => e.kind === 'serve')!.body), ['serve', '--rate-limit', '2']);
  const r = await runBlocks(page.filter((e) => e.kind === 'run').map((e) => e.body), world.kmsd.endpoint, world.dir);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  const lines = r.outputs[0].trimEnd().split('\n');
  const counts = Object.fromEntries(lines.slice(0, -2).map((l) => l.trim().split(/\s+/).reverse()));
  assert.deepEqual(Object.keys(counts).sort(), ['200', '429']);
  assert.equal(Number(counts['200']) + Number(counts['429']), 20);
  assert.ok(Number(counts['200']) >= 2, `${counts['200']} answered`);
  const refused = JSON.parse(lines[lines.length - 2]);
  assert.deepEqual(Object.keys(refused), ['error_msg', 'error_code', 'request_id']);
  assert.deepEqual([refused.error_msg, refused.error_code], ['The throttling threshold has been reached: policy user over ratelimit,limit:2,time:1 second', 'APIGW.0308']);
  assert.match(lines[lines.length - 1], /^retry-after: 1\r?$/i);
});
