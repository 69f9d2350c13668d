import { createRequire } from 'node:module';
import type fastJsonType from 'fast-json-stringify';
import type { FastifyServerOptions } from 'fastify';

/**
 * Fastify's schema compilers, made lazy. Fastify's defaults load ajv and fast-json-stringify
 * when the instance is created and compile every route's response serializer at start
 * (58 routes: about a tenth of the start, plus the libraries' own loading). These do the same
 * work with the same libraries and the same options, when a route first needs it: the first
 * request that validates an input loads ajv, the first answer of each route compiles its
 * serializer (well under a millisecond each).
 *
 * The libraries are loaded with require() (not bundled into dist/ by esbuild, which leaves a
 * local require alone): fast-json-stringify is a dependency of kmsd, @fastify/ajv-compiler
 * Fastify's own, resolved from Fastify's directory.
 */
const require = createRequire(import.meta.url);

type FastJson = typeof fastJsonType;
let fastJson: FastJson | null = null;

/**
 * A response serializer compiled at its first use, exactly as Fastify's default compiler does
 * (fast-json-stringify with no shared schemas: kmsd adds none).
 */
export function lazySerializerCompiler({ schema }: { schema: unknown }): (data: unknown) => string {
  let serialize: ((data: unknown) => string) | null = null;
  return (data) => {
    if (serialize === null) {
      fastJson ??= require('fast-json-stringify') as FastJson;
      serialize = fastJson(schema as Parameters<FastJson>[0], { schema: {} });
    }
    return serialize(data);
  };
}

type ValidatorCompiler = (route: { schema: unknown; method: string; url: string; httpPart?: string }) => unknown;
type ValidatorFactory = (externalSchemas: unknown, ajvOptions: unknown) => ValidatorCompiler;

/** Fastify's compilersFactory.buildValidator: its default (@fastify/ajv-compiler), set up at its first compile. */
export function lazyValidatorFactory(externalSchemas: unknown, ajvOptions: unknown): ValidatorCompiler {
  let compile: ValidatorCompiler | null = null;
  return (route) => {
    if (compile === null) {
      const fromFastify = createRequire(require.resolve('fastify'));
      const selector = fromFastify('@fastify/ajv-compiler') as () => ValidatorFactory;
      compile = selector()(externalSchemas, ajvOptions);
    }
    return compile(route);
  };
}

/** Fastify's `schemaController` option with both compilers lazy. */
export const LAZY_SCHEMA_COMPILERS = {
  compilersFactory: { buildValidator: lazyValidatorFactory, buildSerializer: () => lazySerializerCompiler },
} as unknown as NonNullable<FastifyServerOptions['schemaController']>;
