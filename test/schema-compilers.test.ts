import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lazySerializerCompiler } from '../src/api/schema-compilers.ts';
import { OPERATIONS } from '../src/api/routes.ts';

/**
 * Fastify's schema compilers are lazy (src/api/schema-compilers.ts): a start no longer compiles
 * every response serializer, so a schema fast-json-stringify cannot compile would only show at
 * its route's first answer. These check it here instead, and that the start really loads
 * neither library.
 */
/** The smallest answer a schema takes: every required member, with an empty value of its type. */
function smallest(schema: Record<string, unknown>): unknown {
  if (Array.isArray(schema.type)) return schema.type.includes('null') ? null : smallest({ ...schema, type: schema.type[0] });
  for (const key of ['anyOf', 'oneOf'] as const) if (Array.isArray(schema[key])) return smallest(schema[key][0] as Record<string, unknown>);
  if (Array.isArray(schema.enum)) return schema.enum[0];
  switch (schema.type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
      return Object.fromEntries(((schema.required ?? []) as string[]).map((name) => [name, smallest(properties[name])]));
    }
    case 'array': return [];
    case 'integer': case 'number': return 0;
    case 'boolean': return false;
    default: return '';
  }
}

test('every operation\'s response schema compiles and renders, as its first answer will; a missing required member is refused', () => {
  for (const op of OPERATIONS) {
    const render = lazySerializerCompiler({ schema: op.response });
    assert.equal(typeof render(smallest(op.response)), 'string', op.name);
    if (((op.response.required ?? []) as string[]).length > 0) assert.throws(() => render({}), /is required/, op.name);
  }
});

test('a start loads neither ajv nor fast-json-stringify; the first request that validates and answers loads both', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmsd-lazy-'));
  const server = fileURLToPath(new URL('../src/server.ts', import.meta.url));
  const config = fileURLToPath(new URL('../src/config.ts', import.meta.url));
  const script = `
    import { createRequire } from 'node:module';
    import { readFileSync } from 'node:fs';
    import { startServer } from ${JSON.stringify(server)};
    import { testConfig } from ${JSON.stringify(config)};
    const loaded = () => Object.keys(createRequire(import.meta.url).cache).filter((p) => /node_modules\\/(ajv\\/dist\\/ajv|fast-json-stringify\\/index)\\.js$/.test(p)).length;
    const s = await startServer(testConfig({ dataDir: ${JSON.stringify(dir)}, port: 0 }), { logger: false });
    const atStart = loaded();
    const admin = JSON.parse(readFileSync(${JSON.stringify(join(dir, 'dev-identities.json'))}, 'utf8')).accounts[0].users[0];
    const login = await fetch(s.url + '/v3/auth/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({
      auth: { identity: { methods: ['password'], password: { user: { name: 'admin', password: admin.password, domain: { name: 'dev' } } } }, scope: { project: { name: 'cn-north-4' } } } }) });
    const project = (await login.json()).token.project.id;
    const created = await fetch(s.url + '/v1.0/' + project + '/kms/create-key', { method: 'POST', headers: { 'X-Auth-Token': login.headers.get('x-subject-token') }, body: '{"key_alias":"lazy"}' });
    const body = await created.json();
    console.log(JSON.stringify({ atStart, status: created.status, keyId: typeof body.key_info?.key_id, afterRequest: loaded() }));
    await s.close();
  `;
  try {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, KMSD_LOG_LEVEL: 'warn' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.equal(code, 0, err);
    // ajv/dist/ajv.js and fast-json-stringify/index.js: none at start, both after the request.
    assert.deepEqual(JSON.parse(out), { atStart: 0, status: 200, keyId: 'string', afterRequest: 2 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
