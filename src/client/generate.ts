import { pathOf, statusOf, type Operation } from '../api/operation.ts';

/**
 * Writes the client's operation module from the server's operation definitions: a data-only
 * table of operation descriptors (method, path template, query fields, success status,
 * whether a retry is safe, paginators) and the request/response types derived from each
 * operation's field schemas and response schema. `npm run generate:client` writes it to
 * src/client/operations.ts; a test regenerates it in memory and compares.
 */

type Schema = Record<string, unknown>;

const pascal = (name: string): string => name.split(/[-_]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
export const methodName = (name: string): string => {
  const p = pascal(name);
  return p.charAt(0).toLowerCase() + p.slice(1);
};

/** The client's own members, which no operation method may shadow. */
const RESERVED = new Set(['call', 'paginate', 'projectId', 'constructor', 'options']);

const DIGITS_ONLY = /^\^\[0-9\]\{[0-9,]+\}\$$/;

/** The TypeScript type of a JSON schema (the subset the operation definitions use). */
export function tsType(schema: Schema | undefined, indent = ''): string {
  if (!schema) return 'unknown';
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  for (const key of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(schema[key])) return (schema[key] as Schema[]).map((s) => tsType(s, indent)).join(' | ');
  }
  const type = schema.type;
  if (Array.isArray(type)) return type.map((t) => tsType({ ...schema, type: t }, indent)).join(' | ');
  switch (type) {
    case 'string':
      // Numeric strings (limit, pending_days, ...): kmsd and the cloud take a JSON number too.
      return typeof schema.pattern === 'string' && DIGITS_ONLY.test(schema.pattern) ? 'string | number' : 'string';
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array': {
      const item = tsType(schema.items as Schema | undefined, indent);
      return /^[A-Za-z]+$/.test(item) ? `${item}[]` : `Array<${item}>`;
    }
    case 'object': {
      const properties = schema.properties as Record<string, Schema> | undefined;
      if (properties && Object.keys(properties).length > 0) return objectType(properties, (schema.required as string[]) ?? [], indent);
      if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
        return `Record<string, ${tsType(schema.additionalProperties as Schema, indent)}>`;
      }
      return 'Record<string, never>';
    }
    default:
      return 'unknown';
  }
}

function objectType(properties: Record<string, Schema>, required: readonly string[], indent: string): string {
  const inner = `${indent}  `;
  const lines = Object.entries(properties).map(
    ([name, schema]) => `${inner}${/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name)}${required.includes(name) ? '' : '?'}: ${tsType(schema, inner)};`,
  );
  return `{\n${lines.join('\n')}\n${indent}}`;
}

/** The operation's input as one object: body, query and path fields, as the server validates it. */
const inputSchema = (op: Operation): Schema => ({
  type: 'object',
  properties: Object.fromEntries(Object.entries(op.fields).map(([name, field]) => [name, field.schema])),
  required: [...op.required],
});

export interface PaginatorDescriptor {
  /** The client method, e.g. paginateGrants. */
  method: string;
  operation: string;
  /** The response member holding a page's items. */
  items: string;
  /** Where the next marker is in a response (next_marker, or page_info.next_marker). */
  nextMarker: readonly string[];
}

/** An operation that takes limit and marker pages through its answers. */
function paginatorOf(op: Operation): PaginatorDescriptor | null {
  if (!('limit' in op.fields) || !('marker' in op.fields)) return null;
  const properties = (op.response.properties ?? {}) as Record<string, Schema>;
  const arrays = Object.entries(properties).filter(([, s]) => s.type === 'array');
  const items = arrays.find(([, s]) => (s.items as Schema | undefined)?.type === 'object') ?? arrays[0];
  if (!items) return null;
  const pageInfo = properties.page_info?.properties as Record<string, Schema> | undefined;
  const nextMarker = 'next_marker' in properties ? ['next_marker'] : pageInfo && 'next_marker' in pageInfo ? ['page_info', 'next_marker'] : null;
  if (!nextMarker) return null;
  return { method: `paginate${pascal(op.name.replace(/^list-/, ''))}`, operation: op.name, items: items[0], nextMarker };
}

export interface OperationDescriptor {
  name: string;
  /** The client method, e.g. retireGrant. */
  clientMethod: string;
  method: string;
  path: string;
  query: readonly string[];
  status: 200 | 201 | 204;
  /** No state changes: safe to retry after a 429, a 5xx or a network error. */
  idempotent: boolean;
}

export function describeOperations(ops: readonly Operation[]): { operations: OperationDescriptor[]; paginators: PaginatorDescriptor[] } {
  const operations = ops.map((op) => ({
    name: op.name,
    clientMethod: methodName(op.name),
    method: op.method,
    path: pathOf(op),
    query: [...(op.query ?? [])],
    status: statusOf(op),
    idempotent: op.mutates !== true,
  }));
  const paginators = ops.map(paginatorOf).filter((p): p is PaginatorDescriptor => p !== null);
  const names = new Set<string>();
  for (const name of [...ops.map((op) => methodName(op.name)), ...paginators.map((p) => p.method)]) {
    if (RESERVED.has(name) || names.has(name)) throw new Error(`client method name ${name} is taken twice`);
    names.add(name);
  }
  return { operations, paginators };
}

/** The text of src/client/operations.ts. */
export function renderClientModule(ops: readonly Operation[]): string {
  const { operations, paginators } = describeOperations(ops);
  const out: string[] = [
    '// Generated from the operation definitions (src/api/routes.ts OPERATIONS) by src/client/generate.ts:',
    '// `npm run generate:client` rewrites it. Do not edit by hand.',
    '',
    "import type { CallOptions } from './types.ts';",
    '',
  ];
  for (const op of ops) {
    const type = pascal(op.name);
    out.push(`/** Input of ${op.method} ${pathOf(op)}: body, query and path fields. */`);
    const request = tsType(inputSchema(op));
    out.push(request.startsWith('{') ? `export interface ${type}Request ${request}` : `export type ${type}Request = ${request};`);
    out.push('');
    out.push(`/** Answer of ${op.name}${statusOf(op) === 204 ? ' (204: no body)' : ''}. */`);
    const response = statusOf(op) === 204 ? 'Record<string, never>' : tsType(op.response);
    out.push(response.startsWith('{') ? `export interface ${type}Response ${response}` : `export type ${type}Response = ${response};`);
    out.push('');
  }
  out.push('/** Every operation by name, with its input and answer. */');
  out.push('export interface Operations {');
  for (const op of ops) out.push(`  ${JSON.stringify(op.name)}: { request: ${pascal(op.name)}Request; response: ${pascal(op.name)}Response };`);
  out.push('}');
  out.push('');
  out.push('/** One method per operation, and one paginator per operation that pages. */');
  out.push('export interface OperationMethods {');
  for (const op of ops) {
    const type = pascal(op.name);
    const optional = op.required.length === 0 ? '?' : '';
    const answer = statusOf(op) === 204 ? 'void' : `${type}Response`;
    out.push(`  /** ${op.method} ${pathOf(op)} */`);
    out.push(`  ${methodName(op.name)}(input${optional}: ${type}Request, options?: CallOptions): Promise<${answer}>;`);
  }
  for (const p of paginators) {
    const op = ops.find((o) => o.name === p.operation) as Operation;
    const type = pascal(op.name);
    const optional = op.required.length === 0 ? '?' : '';
    out.push(`  /** Every item of ${p.operation}, page after page (${p.items}). */`);
    out.push(`  ${p.method}(input${optional}: Omit<${type}Request, 'marker'>, options?: CallOptions): AsyncIterable<NonNullable<${type}Response[${JSON.stringify(p.items)}]>[number]>;`);
  }
  out.push('}');
  out.push('');
  out.push('export const OPERATIONS = [');
  for (const d of operations) out.push(`  ${JSON.stringify(d)},`);
  out.push('] as const;');
  out.push('');
  out.push('export const PAGINATORS = [');
  for (const p of paginators) out.push(`  ${JSON.stringify(p)},`);
  out.push('] as const;');
  out.push('');
  out.push('export type OperationName = keyof Operations;');
  out.push('');
  return out.join('\n');
}
