import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { DECISIONS } from '../core/decisions.ts';
import { kms } from '../core/errors.ts';
import type { AuditEvent } from '../core/model.ts';
import type { Clock } from '../core/runtime.ts';
import type { Store } from '../store/store.ts';
import { REFUSAL_TEXT, type SealStatus, type UnsealOutcome, type UnsealRefusal } from './collector.ts';

/**
 * Where an event loop sends the shares it is given: the ShareCollector itself on the main
 * thread, a message to the main thread on a worker thread (src/worker.ts).
 */
export interface Unsealer {
  status(): Promise<SealStatus>;
  /** The share as text (undefined when the body held none: refused as malformed). */
  submit(share: string | undefined, source: string): Promise<UnsealOutcome>;
}

/** One event loop's seal: closed (every KMS and IAM request 503) until the root key is in. */
export class SealGate {
  #sealed = true;
  readonly unsealer: Unsealer;
  constructor(unsealer: Unsealer) {
    this.unsealer = unsealer;
  }
  get sealed(): boolean {
    return this.#sealed;
  }
  /** The root key is installed in this event loop: serve. */
  open(): void {
    this.#sealed = false;
  }
}

const JSON_TYPE = 'application/json; charset=utf-8';
const AUDIT_CODES: Record<UnsealRefusal, string> = {
  malformed: 'SEAL.MALFORMED', 'unknown-share': 'SEAL.UNKNOWN_SHARE', repeated: 'SEAL.REPEATED', 'wrong-key': 'SEAL.WRONG_KEY',
};

/**
 * The share a body carries ({"share": "…"}), or undefined (refused as malformed). Only a
 * string is given on: on a node with worker threads it crosses to the main thread, and a
 * deeply nested value would overflow the structured clone's stack there.
 */
function shareOf(body: unknown): string | undefined {
  if (!Buffer.isBuffer(body)) return undefined;
  try {
    const share = (JSON.parse(body.toString('utf8')) as { share?: unknown } | null)?.share;
    return typeof share === 'string' ? share : undefined;
  } catch {
    return undefined;
  }
}

export interface SealRouteDeps {
  store: Store;
  clock: Clock;
  logger: Logger | false;
  /** Marks a request refused (for its access line and metrics), as the edge's error handler does. */
  refused(request: FastifyRequest, code: string, message: string): void;
}

/**
 * The sealed node's edge: the gate in front of every KMS and IAM route (503 in their own error
 * shapes; the operator's /_kmsd/ paths stay open), POST /_kmsd/unseal and GET
 * /_kmsd/seal-status. The share is read from the body and handed on; it is never logged (no
 * body is), never in a metric label, and the audit record of the attempt leaves it out.
 */
export function registerSealRoutes(app: FastifyInstance, gate: SealGate, deps: SealRouteDeps): void {
  const sealedKms = kms(DECISIONS.sealedKmsError);
  const sealedIam = { error: { code: 503, title: 'Service Unavailable', message: 'The service is unavailable: this kmsd node is sealed.' } };
  app.addHook('onRequest', (request, reply, done) => {
    if (!gate.sealed || request.url.startsWith('/_kmsd/')) return done();
    if (request.url.startsWith('/v3/') || request.url === '/v3') {
      deps.refused(request, '', sealedIam.error.message);
      reply.code(503).type(JSON_TYPE).send(sealedIam);
    } else {
      deps.refused(request, sealedKms.code, sealedKms.message);
      reply.code(503).type(JSON_TYPE).send(sealedKms.body());
    }
  });

  app.get('/_kmsd/seal-status', async (_request, reply) => reply.type(JSON_TYPE).send(await gate.unsealer.status()));

  app.post('/_kmsd/unseal', async (request, reply) => {
    let outcome: UnsealOutcome;
    try {
      outcome = await gate.unsealer.submit(shareOf(request.body), request.ip);
    } catch {
      // A worker thread's ask that the main thread did not answer in time (src/worker.ts).
      return reply.code(503).type(JSON_TYPE).send({ error: 'the node did not take the attempt in time: try again' });
    }
    const [status, body] = answerOf(outcome);
    // An unsealed node's answer writes nothing: the trail records the attempts that unsealed it.
    if (outcome.result !== 'throttled' && outcome.result !== 'already-unsealed') await audit(deps, request, outcome, status);
    if (outcome.result === 'throttled') reply.header('Retry-After', String(outcome.retryAfterSeconds));
    if (outcome.result === 'unsealed' && deps.logger) deps.logger.info(`unsealed: ${outcome.status.threshold} of ${outcome.status.shares} shares given, the node serves`);
    return reply.code(status).type(JSON_TYPE).send(body);
  });
}

function answerOf(outcome: UnsealOutcome): [number, Record<string, unknown>] {
  switch (outcome.result) {
    case 'refused':
      return [400, { ...outcome.status, error: REFUSAL_TEXT[outcome.reason] }];
    case 'throttled':
      return [429, { ...outcome.status, error: `too many unseal attempts: try again in ${outcome.retryAfterSeconds} s` }];
    default:
      return [200, { ...outcome.status }];
  }
}

/** Every attempt on a sealed node is recorded (not one refused by the rate limit): who sent it, and how it ended. */
async function audit(deps: SealRouteDeps, request: FastifyRequest, outcome: UnsealOutcome, status: number): Promise<void> {
  const event: AuditEvent = {
    time: deps.clock.now(), requestId: request.id, accountId: null, userId: null, accessKeyId: null, claimedAccessKeyId: null,
    source: request.ip, operation: 'unseal', keyId: null, grantId: null, sequence: null,
    outcome: outcome.result === 'refused' ? 'denied' : 'allowed', status,
    errorCode: outcome.result === 'refused' ? AUDIT_CODES[outcome.reason] : null, count: 1,
  };
  try {
    await deps.store.write((tx) => tx.insertAudit(event));
  } catch (err) {
    if (deps.logger) deps.logger.error({ err }, 'audit record failed');
  }
}
