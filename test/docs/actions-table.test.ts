import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { OPERATIONS } from '../../src/api/routes.ts';
import { pathOf } from '../../src/api/operation.ts';

/**
 * docs/operations.md's table of IAM actions by operation is the operations' own declarations: it must
 * list every served operation with exactly the action names it is checked against.
 */
export function actionsTable(): string {
  const rows = OPERATIONS.map((op) => `| \`${op.method} ${pathOf(op)}\` | ${op.name} | ${op.actions.map((a) => `\`${a}\``).join(', ')} |`);
  return ['| request | operation | IAM actions (any one allows it) |', '|---|---|---|', ...rows].join('\n');
}

test("docs/operations.md's table of IAM actions by operation matches the operations' declarations", () => {
  const page = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
  const start = page.indexOf('| request | operation | IAM actions (any one allows it) |');
  assert.ok(start >= 0, 'docs/operations.md has the table');
  const end = page.indexOf('\n\n', start);
  assert.equal(page.slice(start, end), actionsTable(), `docs/operations.md table, expected:\n${actionsTable()}`);
});
