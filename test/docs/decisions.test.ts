import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DECISIONS } from '../../src/core/decisions.ts';
import { ROOT } from '../support/built-client.ts';

/**
 * docs/decisions.md is the table of what kmsd decided where Huawei's documentation is silent;
 * src/core/decisions.ts holds the same decisions for the code. Every error code a decision names
 * has its row (rows other branches add wait in docs/decisions-new-<branch>.md until merged).
 */
test('every error code src/core/decisions.ts decides on is in the decisions table', () => {
  const pages = readdirSync(join(ROOT, 'docs')).filter((f) => f === 'decisions.md' || /^decisions-new-.+\.md$/.test(f));
  const table = pages.map((f) => readFileSync(join(ROOT, 'docs', f), 'utf8')).join('\n');
  assert.match(table, /^\| question \| decision \|$/m);
  const codes = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string' && /^[A-Z]+\.[0-9A-Z_]+$/.test(value)) codes.add(value);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(DECISIONS);
  assert.ok(codes.size >= 20, `${codes.size} codes`);
  assert.deepEqual([...codes].filter((code) => !table.includes(code)), []);
});
