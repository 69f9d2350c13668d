import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Clock } from '../core/runtime.ts';
import type { RootKey } from '../core/sealing.ts';
import type { Store } from '../store/store.ts';
import type { Limiter } from '../core/rate-limit.ts';
import type { LoginGuard } from '../auth/login-guard.ts';
import type { FairGate } from '../core/fair-gate.ts';
import type { RefusalRecorder } from './audit.ts';
import type { Metrics } from './metrics.ts';
import type { TlsPair } from '../tls/certificate.ts';
import type { SealGate } from '../seal/gate.ts';
import type { PasswordGate } from '../auth/password-gate.ts';

/** What the HTTP edge (KMS and IAM routes alike) is built on. */
export interface Services {
  config: Config;
  store: Store;
  clock: Clock;
  rootKey: RootKey;
  /** pino logger; false for none (tests). */
  logger: Logger | false;
  // The node's budgets and counts (src/server.ts builds them, over the buckets and the channel
  // every event loop of the process shares when there are several).
  /** The per-caller request rate; null when config.rateLimit is 0. */
  rateLimiter: Limiter | null;
  /** The failed-login limit. */
  logins: LoginGuard;
  /** The audit records of refused requests. */
  refusals: RefusalRecorder;
  /** The metrics; null when config.metrics is off. */
  metrics: Metrics | null;
  /** The certificate and key to serve HTTPS with; null for plain HTTP. */
  tls?: Pick<TlsPair, 'cert' | 'key'> | null;
  /** A node started on a sealed store: its gate (closed until the root key is in); null otherwise. */
  seal?: SealGate | null;
  /** Key generation, a few at a time and fairly per caller (create-key, data-key pairs, import parameters). */
  generation: FairGate;
  /** Open once the declared passwords are in force on this node: password logins wait for it (absent: always open). */
  declaredPasswords?: PasswordGate;
}
