import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.ts';
import type { Services } from './services.ts';

/**
 * The operator's endpoints, under /_kmsd/ (a prefix no KMS or IAM path can take, as LocalStack
 * serves /_localstack/health). No authentication: they reveal no identifier and no secret.
 * Each can be switched off (--health, --ready, --metrics false); it is then an unknown path.
 */
export const OPERATOR_PREFIX = '/_kmsd';

/** How long /_kmsd/ready waits for the store before answering 503. */
const READY_TIMEOUT_MS = 2000;

export function registerOperatorRoutes(app: FastifyInstance, services: Services, metrics: Metrics | null): void {
  const { config, store } = services;
  const json = 'application/json; charset=utf-8';
  if (config.health) {
    app.get(`${OPERATOR_PREFIX}/health`, async (_request, reply) => reply.type(json).send({ status: 'ok' }));
  }
  if (config.ready) {
    app.get(`${OPERATOR_PREFIX}/ready`, async (_request, reply) => {
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
        const reason = (error as Error).message === 'timeout' ? `the store did not answer within ${READY_TIMEOUT_MS} ms` : 'the store does not answer';
        if (services.logger) services.logger.warn({ err: error }, 'readiness check failed');
        return reply.code(503).type(json).send({ status: 'unavailable', store: store.driver, reason });
      } finally {
        clearTimeout(timer);
      }
    });
  }
  if (metrics) {
    app.get(`${OPERATOR_PREFIX}/metrics`, async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()));
  }
}
