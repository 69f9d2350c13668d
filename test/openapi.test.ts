import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Validator } from '@seriousme/openapi-schema-validator';
import { pathOf, statusOf } from '../src/api/operation.ts';
import { openApiDocument } from '../src/api/openapi.ts';
import { OPERATIONS } from '../src/api/routes.ts';
import { routeGroups } from '../src/api/route-groups.ts';
import { startWorld, type World } from './harness.ts';

/** The OpenAPI 3.1 document: valid, served without authentication, and exactly the routes kmsd serves. */
let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

/**
 * A path with its parameters unnamed: /v1.0/{}/kms/{}. Routes that share a node of Fastify's tree
 * print it with all their names (:p3|:key_id), and a route of operations names its own
 * (src/api/route-groups.ts): the tree is compared with the document by shape.
 */
const unnamed = (path: string): string => path.replace(/:[a-z0-9_]+(?:\|:[a-z0-9_]+)*|\{[a-z0-9_]+\}/g, '{}');

/** Every METHOD /path the server routes (HEAD, which Fastify adds to every GET, aside), from Fastify's route tree. */
function servedRoutes(tree: string): string[] {
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ├└─]*?)([^│ ├└─].*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 4;
    stack.length = depth;
    stack[depth] = m[2];
    const path = stack.join('');
    for (const method of m[3]?.split(', ') ?? []) if (method !== 'HEAD') routes.push(`${method} ${unnamed(path)}`);
  }
  // kmsd's own endpoints under /_kmsd/ (health, readiness, metrics, the console's pages) are for
  // operators and browsers, documented in the README, not operations of the KMS API; nor is the
  // icon browsers ask every origin for (/favicon.ico, the console's).
  return routes.filter((route) => !/ \/_kmsd\//.test(route) && route !== 'GET /favicon.ico').sort();
}

test('GET /openapi.json needs no credentials and is a valid OpenAPI 3.1 document', async () => {
  const r = await fetch(`${world.url}/openapi.json`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
  const doc = await r.json();
  assert.equal(doc.openapi, '3.1.0');
  assert.deepEqual(doc, JSON.parse(JSON.stringify(openApiDocument())));
  const result = await new Validator().validate(doc);
  assert.deepEqual(result, { valid: true });
});

test('every route kmsd serves is in the document, and nothing else', async () => {
  const doc = openApiDocument() as { paths: Record<string, Record<string, unknown>> };
  const documented = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${unnamed(path)}`)).sort();
  const tree = servedRoutes(world.server.app.printRoutes({ commonPrefix: false }));
  // A route that serves a group of operations (src/api/route-groups.ts) serves each of their paths.
  const groups = new Map(routeGroups(OPERATIONS).map((g) => [`${g.method} ${unnamed(g.url)}`, g]));
  for (const route of groups.keys()) assert.ok(tree.includes(route), route);
  const served = tree.flatMap((route) => groups.get(route)?.operations.map((op) => `${op.method} ${unnamed(pathOf(op))}`) ?? [route]).sort();
  assert.ok(served.length >= OPERATIONS.length + 5);
  assert.deepEqual(documented, served);
});

test('each operation: its path and method, parameters from the template, body fields with their error codes, answer schema, both security schemes', () => {
  const doc = openApiDocument() as any;
  for (const op of OPERATIONS) {
    const entry = doc.paths[pathOf(op)][op.method.toLowerCase()];
    assert.equal(entry.summary, op.name);
    assert.deepEqual(entry['x-iam-actions'], op.actions);
    assert.deepEqual(entry.security, [{ XAuthToken: [] }, { SdkHmacSha256: [] }]);
    const params = (entry.parameters ?? []).map((p: any) => `${p.in}:${p.name}`);
    for (const name of [...pathOf(op).matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1])) assert.ok(params.includes(`path:${name}`), `${op.name} ${name}`);
    for (const name of op.query ?? []) assert.ok(params.includes(`query:${name}`), `${op.name} ${name}`);
    if (op.method === 'POST' || op.method === 'PUT') {
      const body = entry.requestBody.content['application/json'].schema;
      for (const [name, field] of Object.entries(op.fields)) {
        if (!params.some((p: string) => p.endsWith(`:${name}`))) assert.equal(body.properties[name]['x-kms-error-code'], field.code, `${op.name}.${name}`);
      }
    }
    if (statusOf(op) === 204) assert.deepEqual(Object.keys(entry.responses['204']), ['description']);
    else assert.deepEqual(entry.responses[String(statusOf(op))].content['application/json'].schema, op.response, op.name);
    // CSMS operations answer CSMS's flat errors.
    const refusal = op.service === 'csms' ? 'CsmsError' : 'KmsError';
    assert.deepEqual(entry.responses['400'].content['application/json'].schema, { $ref: `#/components/schemas/${refusal}` }, op.name);
    assert.deepEqual(entry.responses['403'].content['application/json'].schema, { $ref: `#/components/schemas/${refusal}` }, op.name);
    assert.deepEqual(entry.responses['401'].content['application/json'].schema, { $ref: '#/components/schemas/GatewayError' });
  }
  assert.deepEqual(doc.components.securitySchemes.XAuthToken, { type: 'apiKey', in: 'header', name: 'X-Auth-Token', description: 'An IAM token from POST /v3/auth/tokens' });
  assert.deepEqual([doc.components.securitySchemes.SdkHmacSha256.type, doc.components.securitySchemes.SdkHmacSha256.in, doc.components.securitySchemes.SdkHmacSha256.name], ['apiKey', 'header', 'Authorization']);
  assert.deepEqual(doc.components.schemas.KmsError.properties.error.required, ['error_code', 'error_msg']);
  assert.deepEqual(doc.components.schemas.CsmsError.required, ['error_code', 'error_msg']);
});

test('kmsd openapi writes the same document', async () => {
  const bin = new URL('../bin/kmsd.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [bin, 'openapi']);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(code, 0);
  assert.equal(out, `${JSON.stringify(openApiDocument(), null, 2)}\n`);
});
