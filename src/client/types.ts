/** Per-call options of every client method. */
export interface CallOptions {
  /** Abort the call (and its retries). */
  signal?: AbortSignal;
  /** This call's timeout per attempt, in ms (default: the client's timeoutMs). */
  timeoutMs?: number;
  /** Retries after a 429, a 5xx or a network error; only idempotent operations are ever retried. */
  retries?: number;
}
