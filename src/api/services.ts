import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Clock } from '../core/runtime.ts';
import type { RootKey } from '../core/sealing.ts';
import type { Store } from '../store/store.ts';
import type { Limiter } from '../core/rate-limit.ts';
import type { LoginGuard } from '../auth/login-guard.ts';
import type { RefusalRecorder } from './audit.ts';
import type { Metrics } from './metrics.ts';

/** What the HTTP edge (KMS and IAM routes alike) is built on. */
export interface Services {
  config: Config;
  store: Store;
  clock: Clock;
  rootKey: RootKey;
  /** pino logger; false for none (tests). */
  logger: Logger | false;
  /** The rate limiter shared by this process's worker threads; by default one of the edge's own. */
  rateLimiter?: Limiter;
  /** The failed-login limit; by default one of the edge's own (src/server.ts gives the node's). */
  logins?: LoginGuard;
  /** The audit records of refused requests; by default one of the edge's own (src/server.ts gives the node's). */
  refusals?: RefusalRecorder;
  /** The metrics, when config.metrics; by default the edge's own (src/server.ts gives the node's). */
  metrics?: Metrics;
}
