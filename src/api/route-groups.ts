import { pathOf, type HttpMethod, type Operation } from './operation.ts';

/**
 * Operations that share a method, a version and a path length share one Fastify route (docs/start-and-memory.md,
 * "The start"). Fastify's router compiles a matcher for every route it is given, and that was
 * most of the start's route registration: 80 operations, 78 routes, ~30–70 ms of a ~400 ms start
 * on a 2-core machine. Grouped, the 42 POST and GET operations under /v1.0/{project_id}/kms/ are
 * two routes, and the 80 operations 26.
 *
 * A group's route keeps a segment every operation of the group writes alike (a literal, or a
 * parameter of one name), and makes any other segment a parameter :p<position>. A request the
 * route matches is then matched against the group's operations here, exactly as Fastify's router
 * would have matched their own routes: at each segment a literal before a parameter (its depth-first
 * search, static children first), literals compared with the segment as the router decoded it. A
 * request that matches none of them gets Fastify's not-found answer once its body is read, as
 * before (src/api/app.ts).
 * An operation with its own body limit keeps a route of its own (Fastify reads the body before
 * any of kmsd's code knows which operation it is for).
 */
export interface RouteGroup {
  method: HttpMethod;
  /** The route as Fastify writes it: /v1.0/:project_id/kms/:p3. */
  url: string;
  operations: readonly Operation[];
  /** The operation a request's path parameters (as Fastify decoded them) name, and its path parameters but project_id; null for none. */
  match(params: Record<string, string>): { operation: Operation; values: Record<string, string> } | null;
}

type Segment = { literal: string } | { param: string };

const segmentsOf = (op: Operation): Segment[] =>
  pathOf(op).split('/').slice(1).map((s) => (/^\{([a-z_]+)\}$/.test(s) ? { param: s.slice(1, -1) } : { literal: s }));

/** Fastify's router order: at the first segment where two paths differ, a literal comes before a parameter. */
function routerOrder(a: Segment[], b: Segment[]): number {
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [a[i], b[i]];
    if ('literal' in x && 'param' in y) return -1;
    if ('param' in x && 'literal' in y) return 1;
  }
  return 0;
}

/**
 * What the route writes at `position`, for what its operations write there: their one literal
 * (nothing to match), their one parameter (every operation takes the value), or a parameter
 * :p<position> whose value is matched against each operation's segment.
 */
function routeSegment(column: Segment[], position: number): { url: string; kind: 'literal' | 'shared' | 'mixed' } {
  const first = column[0];
  if ('literal' in first && column.every((s) => 'literal' in s && s.literal === first.literal)) return { url: first.literal, kind: 'literal' };
  if ('param' in first && column.every((s) => 'param' in s && s.param === first.param)) return { url: `:${first.param}`, kind: 'shared' };
  return { url: `:p${position}`, kind: 'mixed' };
}

type Match = { operation: Operation; values: Record<string, string> };

function group(method: HttpMethod, operations: Operation[]): RouteGroup {
  const paths = operations.map((operation) => ({ operation, segments: segmentsOf(operation) }));
  paths.sort((a, b) => routerOrder(a.segments, b.segments));
  const route = paths[0].segments.map((_, i) => routeSegment(paths.map((p) => p.segments[i]), i));
  const name = (i: number): string => route[i].url.slice(1);
  const shared = route.flatMap((r, i) => (r.kind === 'shared' && name(i) !== 'project_id' ? [i] : []));
  const mixed = route.flatMap((r, i) => (r.kind === 'mixed' ? [i] : []));
  // An operation that writes a literal at each mixed position is found at once by the request's
  // values there, joined (every request to the 38 POST operations under /v1.0/{project_id}/kms/
  // takes this path). It comes before any operation with a parameter there, as in the router's
  // order: where the two differ, it writes the literal. No literal holds a NUL, so a key joined
  // from values that hold one has more NULs than any operation's and finds none.
  const keyOf = (values: readonly string[]): string => values.join('\0');
  const exact = new Map<string, Operation>();
  const withParams: typeof paths = [];
  for (const path of paths) {
    const literals = mixed.map((i) => path.segments[i]);
    if (literals.every((s) => 'literal' in s)) exact.set(keyOf(literals.map((s) => (s as { literal: string }).literal)), path.operation);
    else withParams.push(path);
  }
  // project_id is every path's, read by the edge itself (pathParams leaves it out too).
  const sharedValues = (params: Record<string, string>): Record<string, string> => {
    const values: Record<string, string> = {};
    for (const i of shared) values[name(i)] = params[name(i)];
    return values;
  };
  return {
    method,
    url: `/${route.map((r) => r.url).join('/')}`,
    operations,
    match(params): Match | null {
      const found = exact.get(keyOf(mixed.map((i) => params[name(i)])));
      if (found !== undefined) return { operation: found, values: sharedValues(params) };
      for (const { operation, segments } of withParams) {
        const values = sharedValues(params);
        const matches = mixed.every((i) => {
          const segment = segments[i];
          const value = params[name(i)];
          if ('literal' in segment) return value === segment.literal;
          if (segment.param !== 'project_id') values[segment.param] = value;
          return true;
        });
        if (matches) return { operation, values };
      }
      return null;
    },
  };
}

/** The routes that serve `operations`: one per method, version and path length, and one per operation with its own body limit. */
export function routeGroups(operations: readonly Operation[]): RouteGroup[] {
  const byShape = new Map<string, Operation[]>();
  const alone: RouteGroup[] = [];
  for (const op of operations) {
    if (op.bodyLimit !== undefined) {
      alone.push(group(op.method, [op]));
      continue;
    }
    // The version (/v1.0, /v1, /v2, /v3) stays a literal: no route of another path prefix (IAM's
    // /v3/auth/..., the console's, the operator's) shares a node with a group's parameter.
    const segments = segmentsOf(op);
    const shape = `${op.method} ${(segments[0] as { literal: string }).literal} ${segments.length}`;
    byShape.set(shape, [...(byShape.get(shape) ?? []), op]);
  }
  return [...alone, ...[...byShape].map(([shape, ops]) => group(shape.split(' ')[0] as HttpMethod, ops))];
}
