import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { OPERATIONS } from '../../src/api/routes.ts';
import { pathOf } from '../../src/api/operation.ts';

/**
 * The README's table of IAM actions by operation is the operations' own declarations: it must
 * list every served operation with exactly the action names it is checked against.
 */
export function actionsTable(): string {
  const rows = OPERATIONS.map((op) => `| \`${op.method} ${pathOf(op)}\` | ${op.name} | ${op.actions.map((a) => `\`${a}\``).join(', ')} |`);
  return ['| request | operation | IAM actions (any one allows it) |', '|---|---|---|', ...rows].join('\n');
}

test("the README's table of IAM actions by operation matches the operations' declarations", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('| request | operation | IAM actions (any one allows it) |');
  assert.ok(start >= 0, 'README has the table');
  const end = readme.indexOf('\n\n', start);
  assert.equal(readme.slice(start, end), actionsTable(), `README table, expected:\n${actionsTable()}`);
});
