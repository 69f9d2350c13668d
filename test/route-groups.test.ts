import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathOf, type Operation } from '../src/api/operation.ts';
import { routeGroups, type RouteGroup } from '../src/api/route-groups.ts';
import { OPERATIONS } from '../src/api/routes.ts';

/**
 * The routes that serve several operations each (src/api/route-groups.ts): a request reaches the
 * operation its own route would have reached, with the same path parameters.
 */

/** The path parameters Fastify's router gives a group's route for `path` (its :names, by position). */
function routerParams(group: RouteGroup, path: string): Record<string, string> | null {
  const route = group.url.split('/');
  const segments = path.split('/');
  if (route.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < route.length; i++) {
    if (route[i].startsWith(':')) params[route[i].slice(1)] = segments[i];
    else if (route[i] !== segments[i]) return null;
  }
  return params;
}

/** An operation's path with each parameter filled in with a value of its own. */
const samplePath = (op: Operation): string => pathOf(op).replace(/\{([a-z_]+)\}/g, (_, name: string) => `value-of-${name}`);

const groupOf = (groups: RouteGroup[], op: Operation): RouteGroup => {
  const found = groups.filter((g) => g.operations.includes(op));
  assert.equal(found.length, 1, op.name);
  return found[0];
};

test('every operation is served by one route, which matches its path to it with its own path parameters', () => {
  const groups = routeGroups(OPERATIONS);
  assert.equal(groups.flatMap((g) => g.operations).length, OPERATIONS.length);
  // Far fewer routes for Fastify's router to compile than operations.
  assert.ok(groups.length * 2 < OPERATIONS.length, `${groups.length} routes`);
  for (const op of OPERATIONS) {
    const group = groupOf(groups, op);
    assert.equal(group.method, op.method);
    const params = routerParams(group, samplePath(op));
    assert.ok(params, `${op.name}: ${group.url}`);
    const expected = Object.fromEntries([...pathOf(op).matchAll(/\{([a-z_]+)\}/g)].map(([, name]) => name).filter((n) => n !== 'project_id').map((n) => [n, `value-of-${n}`]));
    assert.deepEqual(group.match(params), { operation: op, values: expected }, op.name);
  }
});

test('the POST and GET operations under /v1.0/{project_id}/kms/<name> are two routes; an operation with its own body limit has its own route, its path as written', () => {
  const groups = routeGroups(OPERATIONS);
  const named = OPERATIONS.filter((op) => (op.method === 'POST' || op.method === 'GET') && /^\/v1\.0\/\{project_id\}\/kms\/[a-z-]+$/.test(pathOf(op)));
  assert.equal(named.length, 42);
  const routes = new Set(named.map((op) => groupOf(groups, op)));
  assert.deepEqual([...routes].map((g) => `${g.method} ${g.url}`).sort(), ['GET /v1.0/:project_id/:p2/:p3', 'POST /v1.0/:project_id/kms/:p3']);
  for (const op of OPERATIONS.filter((o) => o.bodyLimit !== undefined)) {
    const group = groupOf(groups, op);
    assert.deepEqual([group.operations, group.url], [[op], pathOf(op).replace(/\{([a-z_]+)\}/g, ':$1')], op.name);
  }
});

/** A bare operation for routing only. */
const operation = (name: string, method: Operation['method'], path: string): Operation =>
  ({ name, method, path, actions: [], fields: {}, required: [], response: {}, handle: async () => ({}) });

test('at the first segment where two paths differ, the literal is matched before the parameter, whatever their order', () => {
  const byName = operation('show-secret', 'GET', '/v1/{project_id}/secrets/{secret_name}');
  const literal = operation('list-tags', 'GET', '/v1/{project_id}/secrets/tags');
  const deeper = operation('show-version', 'GET', '/v1/{project_id}/{kind}/{name}/versions');
  for (const ops of [[byName, literal], [literal, byName]]) {
    const [group] = routeGroups(ops);
    assert.equal(group.url, '/v1/:project_id/secrets/:p3');
    assert.deepEqual(group.match({ project_id: 'p', p3: 'tags' }), { operation: literal, values: {} });
    assert.deepEqual(group.match({ project_id: 'p', p3: 'tagsX' }), { operation: byName, values: { secret_name: 'tagsX' } });
  }
  // Same method, other length: another route.
  assert.equal(routeGroups([byName, deeper]).length, 2);
  // A parameter every operation of the route writes keeps its name, and each of them takes its value.
  const versions = operation('versions', 'POST', '/v1/{project_id}/secrets/{secret_name}/versions');
  const stages = operation('stages', 'POST', '/v1/{project_id}/secrets/{secret_name}/stages');
  const [named] = routeGroups([versions, stages]);
  assert.equal(named.url, '/v1/:project_id/secrets/:secret_name/:p4');
  assert.deepEqual(named.match({ project_id: 'p', secret_name: 's', p4: 'stages' }), { operation: stages, values: { secret_name: 's' } });
  assert.equal(named.match({ project_id: 'p', secret_name: 's', p4: 'version' }), null);
});

test('a path that names no operation of the route is no match (the not-found answer); other methods and versions are other routes', () => {
  const groups = routeGroups(OPERATIONS);
  const post = groups.find((g) => g.method === 'POST' && g.url === '/v1.0/:project_id/kms/:p3') as RouteGroup;
  assert.equal(post.match({ project_id: 'p', p3: 'no-such-operation' }), null);
  assert.equal(post.match({ project_id: 'p', p3: 'CREATE-KEY' }), null, 'literals are compared exactly, as the router does');
  assert.equal(post.match({ project_id: 'p', p3: 'user-instances' }), null, 'a GET operation is not matched by the POST route');
  assert.equal(post.match({ project_id: 'p', p3: 'create-key' })?.operation.name, 'create-key');
  const a = operation('a', 'POST', '/v1/{project_id}/x');
  const b = operation('b', 'POST', '/v2/{project_id}/y');
  const c = operation('c', 'PUT', '/v1/{project_id}/z');
  assert.deepEqual(routeGroups([a, b, c]).map((g) => `${g.method} ${g.url}`), ['POST /v1/:project_id/x', 'POST /v2/:project_id/y', 'PUT /v1/:project_id/z']);
});
