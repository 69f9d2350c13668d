import type { Caller } from '../core/model.ts';
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
}

/**
 * One API operation: its path under /v1.0/{project_id}/kms/, its body fields (schema and
 * error code each), the IAM action it needs (every name it goes by), its response schema
 * (which doubles as an allow-list: nothing else ever reaches the wire) and its handler.
 */
export interface Operation {
  name: string;
  method: 'POST' | 'GET';
  actions: readonly string[];
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

/** The body schema of an operation, from its fields. */
export function bodySchema(op: Operation): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(op.fields)) properties[name] = field.schema;
  return { type: 'object', properties, required: [...op.required] };
}

// Response schema helpers.
export const str = { type: 'string' } as const;
export const int = { type: 'integer' } as const;
export const arr = (items: unknown): Record<string, unknown> => ({ type: 'array', items });
export const obj = (properties: Record<string, unknown>): Record<string, unknown> => ({ type: 'object', properties });
export const EMPTY = obj({});
