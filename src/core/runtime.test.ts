import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newGrantId } from './runtime.ts';

test('grant ids: 64 lowercase hex, the creation time first (so they sort by it), 208 random bits after', () => {
  const t = Date.UTC(2026, 10, 22, 11, 23, 52, 417);
  const ids = Array.from({ length: 1000 }, (_, i) => newGrantId(t + i));
  for (const id of ids) assert.match(id, /^[0-9a-f]{64}$/);
  assert.equal(ids[0].slice(0, 12), t.toString(16).padStart(12, '0'));
  assert.deepEqual([...ids].sort(), ids);
  const sameMillisecond = new Set(Array.from({ length: 1000 }, () => newGrantId(t).slice(12)));
  assert.equal(sameMillisecond.size, 1000);
});
