import type { Caller } from '../core/model.ts';
import type { Bounded } from '../core/fair-gate.ts';
import type { Principal } from '../auth/authenticate.ts';
import type { Clock } from '../core/runtime.ts';
import type { RootKey } from '../core/sealing.ts';
import type { Config } from '../config.ts';
import type { Store } from '../store/store.ts';
import type { Field } from './fields.ts';

/** What an operation handler is given: the request's caller and the server's services. */
export interface OperationContext {
  caller: Caller;
  principal: Principal;
  store: Store;
  clock: Clock;
  rootKey: RootKey;
  config: Config;
  /** The request's User-Agent ("" when none): a few answers differ per official SDK (list-aliases). */
  userAgent: string;
  /** Runs a key generation in the caller's fair share of the event loop's generation slots (core/fair-gate.ts). */
  generate: Bounded;
  /**
   * A signal that fires when the client goes away before its answer (made at the first call):
   * work that waits in a queue (src/core/pkey/fair-queue.ts) is then dropped unrun.
   */
  abandoned(): AbortSignal;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * One API operation: its method and path, its input fields (schema and error code each),
 * the IAM action it needs (every name it goes by), its response schema (which doubles as an
 * allow-list: nothing else ever reaches the wire) and its handler.
 *
 * The input an operation's handler gets is one object: the JSON body's members, then the
 * query parameters named in `query`, then the path parameters (other than project_id), each
 * checked against `fields`. So `DELETE .../kms/{key_id}/tags/{key}` and a POST body that
 * names key_id are validated, audited and handled alike.
 */
export interface Operation {
  name: string;
  /**
   * The service whose contract the operation speaks: KMS (default) or CSMS (secrets), whose
   * errors are CSMS codes in CSMS's flat body (api/csms-errors.ts).
   */
  service?: 'kms' | 'csms';
  method: HttpMethod;
  /**
   * The path, with parameters written {name} (as in OpenAPI); by default
   * /v1.0/{project_id}/kms/<name>. Every path starts with /<version>/{project_id}/.
   */
  path?: string;
  /** Input fields read from the query string (GET lists). */
  query?: readonly string[];
  /** The status of a success: 200 (or 201, for creations documented so) with the response body, or 204 with none. */
  status?: 200 | 201 | 204;
  actions: readonly string[];
  /**
   * The body size (bytes) the operation needs at least, when its documented maximum input does
   * not fit the server's --body-limit (a 32 KiB secret value in the worst JSON escaping).
   */
  bodyLimit?: number;
  /** Changes the store (its one store.write is then audited in the same transaction). */
  mutates?: boolean;
  fields: Readonly<Record<string, Field>>;
  required: readonly string[];
  response: Record<string, unknown>;
  handle(ctx: OperationContext, body: Record<string, unknown>): Promise<unknown>;
}

/**
 * An answer already rendered as JSON by the operation's response schema (see list-grants, which
 * reuses rendered answers); the edge sends it as it is.
 */
export class Serialized {
  readonly json: string;
  constructor(json: string) {
    this.json = json;
  }
}

export function defineOperation(op: Operation): Operation {
  return op;
}

/** The path template of an operation, parameters written {name}. */
export const pathOf = (op: Operation): string => op.path ?? `/v1.0/{project_id}/kms/${op.name}`;

/** The path parameters of an operation other than project_id, in order. */
export const pathParams = (op: Operation): string[] =>
  [...pathOf(op).matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]).filter((name) => name !== 'project_id');

/** The success status of an operation. */
export const statusOf = (op: Operation): 200 | 201 | 204 => op.status ?? 200;

/** The input schema of an operation (body, query and path fields together), from its fields. */
export function bodySchema(op: Operation): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(op.fields)) properties[name] = field.schema;
  return { type: 'object', properties, required: [...op.required] };
}

// Response schema helpers.
export const str = { type: 'string' } as const;
export const int = { type: 'integer' } as const;
export const arr = (items: unknown): Record<string, unknown> => ({ type: 'array', items });
/**
 * An object every one of whose members the answer always carries, but those named `optional`:
 * the serializer refuses an answer that lacks a required member (a 500, caught by the tests), and
 * the client's types and the API document mark exactly these members required.
 */
export const obj = (properties: Record<string, unknown>, optional: readonly string[] = []): Record<string, unknown> => ({
  type: 'object', properties, required: Object.keys(properties).filter((name) => !optional.includes(name)),
});
export const EMPTY = obj({});
