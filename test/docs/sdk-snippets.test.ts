import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATIONS } from '../../src/api/routes.ts';
import { fences } from './examples.ts';

/**
 * The Python, Go and Java snippets cannot run here (no SDK of theirs is installed): what they send
 * is checked instead. Each request body they build names an operation kmsd serves (the SDK's class
 * `CreateGrantRequestBody` is create-grant) and only fields of it, in the SDK's spelling
 * (Python `key_id=`, Go `KeyId:`, Java `.withKeyId(`); the client methods they call are the
 * operations' (`create_grant`, `CreateKey`, `createKey`); the endpoint is kmsd's.
 */
const PAGES = ['README.md', 'docs/sdks.md', 'docs/tls-and-sealing.md'];
const snake = (camel: string) => camel.replace(/^[A-Z]/, (c) => c.toLowerCase()).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const kebab = (camel: string) => snake(camel).replaceAll('_', '-');

/** The operation an SDK class or method names (CreateGrant, create_grant, createKey → create-grant, create-key). */
function operation(name: string) {
  const wanted = name.includes('_') ? name.replaceAll('_', '-') : kebab(name);
  return OPERATIONS.find((op) => op.name === wanted || op.name.replaceAll('-', '') === wanted.replaceAll('-', ''));
}

const snippets = PAGES.flatMap((page) => fences(page).filter((f) => ['python', 'go', 'java'].includes(f.lang)).map((f) => ({ page, ...f })));

test('the pages hold Python, Go and Java snippets', () => {
  assert.deepEqual([...new Set(snippets.map((s) => s.lang))].sort(), ['go', 'java', 'python']);
});

test('every request body an SDK snippet builds names an operation kmsd serves and fields of it', () => {
  let bodies = 0;
  for (const { page, lang, body } of snippets) {
    const built = lang === 'python'
      ? [...body.matchAll(/(\w+)RequestBody\(([^)]*)\)/g)].map((m) => ({ op: m[1], fields: [...m[2].matchAll(/(\w+)=/g)].map((f) => f[1]) }))
      : lang === 'go'
        ? [...body.matchAll(/model\.(\w+)RequestBody\{([^}]*)\}/g)].map((m) => ({ op: m[1], fields: [...m[2].matchAll(/(\w+):/g)].map((f) => snake(f[1])) }))
        : [...body.matchAll(/new (\w+)RequestBody\(\)((?:\.with\w+\([^)]*\))*)/g)].map((m) => ({ op: m[1], fields: [...m[2].matchAll(/\.with(\w+)\(/g)].map((f) => snake(f[1])) }));
    for (const { op, fields } of built) {
      bodies++;
      const served = operation(op);
      assert.ok(served, `${page} (${lang}): ${op} is no operation kmsd serves`);
      for (const field of fields) assert.ok(field in served.fields, `${page} (${lang}): ${served.name} has no field ${field}`);
      for (const field of served.required ?? []) assert.ok(fields.includes(field), `${page} (${lang}): ${served.name} needs ${field}`);
    }
  }
  assert.ok(bodies >= 5, `${bodies} bodies`);
});

test('every client method an SDK snippet calls is an operation kmsd serves', () => {
  let calls = 0;
  for (const { page, lang, body } of snippets) {
    for (const [, method] of body.matchAll(/\bclient\.(\w+)\(/g)) {
      calls++;
      assert.ok(operation(method), `${page} (${lang}): client.${method}`);
    }
  }
  assert.ok(calls >= 5, `${calls} calls`);
});

test('the snippets talk to kmsd: its endpoint (or the variable the CI recipe exports), never the cloud', () => {
  for (const { page, lang, body } of snippets) {
    if (!/[Ee]ndpoint|with_region|WithRegion/.test(body)) continue;
    assert.match(body, /127\.0\.0\.1:8080|KMS_ENDPOINT|kms\.internal:8443/, `${page} (${lang})`);
    assert.doesNotMatch(body, /myhuaweicloud\.com/, `${page} (${lang})`);
  }
});
