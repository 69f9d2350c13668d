/**
 * The global AbortSignal where the caller's types declare one (@types/node, the DOM library),
 * else what the client reads of it: its declarations need neither.
 */
export type Signal = typeof globalThis extends { AbortSignal: { prototype: infer S } } ? S : { readonly aborted: boolean };

/** Per-call options of every client method. */
export interface CallOptions {
  /** Abort the call (and its retries). */
  signal?: Signal;
  /** This call's timeout per attempt, in ms (default: the client's timeoutMs). */
  timeoutMs?: number;
  /** Retries after a 429, a 5xx or a network error; only idempotent operations are ever retried. */
  retries?: number;
}
