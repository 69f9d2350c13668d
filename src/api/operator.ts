import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.ts';
import type { Services } from './services.ts';
import { StoreUnavailableError } from '../store/unavailable.ts';
import { LAST_FAILED, LAST_PASSED } from '../audit/verify.ts';

/**
 * The operator's endpoints, under /_kmsd/ (a prefix no KMS or IAM path can take, as LocalStack
 * serves /_localstack/health). No authentication: they reveal no identifier and no secret.
 * Each can be switched off (--health, --ready, --metrics false); it is then an unknown path;
 * /_kmsd/audit-verification (when the trail's chain was last verified) is always served.
 */
export const OPERATOR_PREFIX = '/_kmsd';

/** How long /_kmsd/ready waits for the store before answering 503. */
const READY_TIMEOUT_MS = 2000;

export function registerOperatorRoutes(app: FastifyInstance, services: Services, metrics: Metrics | null): void {
  const { config, store } = services;
  const json = 'application/json; charset=utf-8';
  if (config.health) {
    // Alive; a sealed node says so (it answers, but serves nothing until unsealed).
    app.get(`${OPERATOR_PREFIX}/health`, async (_request, reply) => reply.type(json).send({ status: services.seal?.sealed ? 'sealed' : 'ok' }));
  }
  if (config.ready) {
    app.get(`${OPERATOR_PREFIX}/ready`, async (_request, reply) => {
      if (services.seal?.sealed) {
        return reply.code(503).type(json).send({ status: 'sealed', store: store.driver, reason: 'the node is sealed: give it its unseal shares (kmsd unseal)' });
      }
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS);
      });
      try {
        if (store.filesPresent && !store.filesPresent()) {
          return reply.code(503).type(json).send({ status: 'unavailable', store: store.driver, reason: 'the store\'s files are gone (deleted or replaced since kmsd opened them): restart kmsd' });
        }
        // One real read of the store (the root-key check's row): on PostgreSQL a round trip.
        await Promise.race([store.read((tx) => tx.getSetting('root-key-canary')), deadline]);
        return reply.type(json).send({ status: 'ready', store: store.driver });
      } catch (error) {
        const reason = error instanceof StoreUnavailableError ? `the store is unreachable: ${error.reason}`
          : (error as Error).message === 'timeout' ? `the store did not answer within ${READY_TIMEOUT_MS} ms` : 'the store does not answer';
        if (services.logger) services.logger.warn({ err: error }, 'readiness check failed');
        return reply.code(503).type(json).send({ status: 'unavailable', store: store.driver, reason });
      } finally {
        clearTimeout(timer);
      }
    });
  }
  // When `kmsd audit verify` last passed and last failed on this store (the console's trail shows it).
  app.get(`${OPERATOR_PREFIX}/audit-verification`, async (_request, reply) => {
    const [passed, failed] = await store.read(async (tx) => [await tx.getSetting(LAST_PASSED), await tx.getSetting(LAST_FAILED)]);
    return reply.type(json).send(verificationView(passed, failed));
  });
  if (metrics) {
    app.get(`${OPERATOR_PREFIX}/metrics`, async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()));
  }
}

/** The kept outcomes as the endpoint answers them: times in ISO 8601, null for never. */
function verificationView(passed: string | null, failed: string | null) {
  const parse = (text: string | null): Record<string, unknown> | null => {
    if (text === null) return null;
    const kept = JSON.parse(text) as Record<string, unknown>;
    return { ...kept, at: new Date(Number(kept.at)).toISOString() };
  };
  return { last_passed: parse(passed), last_failed: parse(failed) };
}
