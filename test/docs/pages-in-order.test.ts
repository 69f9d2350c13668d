import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/built-client.ts';
import { examples, kmsdForTests, readPage, readmeSession, runBlocks } from './examples.ts';

/**
 * A reader follows the README, then docs/operations.md, then docs/csms.md, against the one kmsd the
 * quick start started, in one terminal: no page may trip over what an earlier one left behind (an
 * alias taken, a variable redefined).
 */
const world = kmsdForTests('kmsd-pages-');

test('the README, docs/operations.md and docs/csms.md run one after the other against one kmsd, in one shell', { timeout: 300_000 }, async () => {
  const session = readmeSession(world.dir, world.kmsd.endpoint);
  const pages = [session.blocks, ...['docs/operations.md', 'docs/csms.md'].map((page) => examples(page).filter((e) => e.kind === 'run').map((e) => e.body))];
  const r = await runBlocks(pages.flat(), world.kmsd.endpoint, world.dir, session.env);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.equal(r.outputs.length, pages.flat().length);
  // Nothing left in the reader's checkout but the example they saved (the pages write their files in a scratch directory).
  assert.deepEqual(readdirSync(world.dir).sort(), ['.kmsd-endpoint.json', 'data', 'example.mjs', 'node_modules']);
  // The refusals are the ones the pages show, and only those.
  const refusals = [...r.outputs.join('\n').matchAll(/"error_code":"([\w.]+)"/g)].map((m) => m[1]);
  assert.deepEqual(refusals, ['KMS.0306', 'KMS.0317']);
  const [readme, operations, csms] = [r.outputs.slice(0, pages[0].length), r.outputs.slice(pages[0].length, -pages[2].length), r.outputs.slice(-pages[2].length)];
  assert.match(readme[1], /^card 4111\n/);
  assert.match(readme[2], /^key_state +4 \(pending-deletion\)$/m);
  assert.equal(JSON.parse(operations[0].split('\n')[0]).key_info.key_alias, 'orders');
  const last = csms.at(-1)!.split('\n').slice(0, -1);
  assert.equal(last.length, 12, last.join('\n'));
  assert.equal(JSON.parse(last[0]).secret.state, 'ENABLED');
  assert.equal(JSON.parse(last[10]).secret.state, 'ENABLED');
});

/** Where a page creates a key with a fixed name (not in an output comment). */
function keyAliases(page: string): string[] {
  const re = /(?:"key_alias" ?: ?"|key_alias: ?['`"]|key_alias *= *"|KeyAlias: "|withKeyAlias\("|keys create ['"]?)([^"'`\s]+)/g;
  return readPage(page).split('\n').filter((line) => !/^\s*(#|\/\/)/.test(line)).flatMap((line) => [...line.matchAll(re)].map((m) => m[1]));
}

test('no key alias is used by two examples, across the README and every docs/ page', () => {
  const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const seen = new Map<string, string>();
  const clashes: string[] = [];
  for (const page of pages) {
    for (const alias of keyAliases(page)) {
      if (seen.has(alias)) clashes.push(`${alias}: ${seen.get(alias)} and ${page}`);
      seen.set(alias, page);
    }
  }
  assert.ok(seen.size >= 15, [...seen.keys()].join(' '));
  assert.deepEqual(clashes, []);
});
