import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.ts';
import type { Services } from './services.ts';
import { failureFields, StoreUnavailableError } from '../store/unavailable.ts';
import { LAST_FAILED, LAST_PASSED, chainsFrom, readKeptFailure, readKeptPass } from '../audit/verify.ts';

/**
 * The operator's endpoints, under /_kmsd/ (a prefix no KMS or IAM path can take, as LocalStack
 * serves /_localstack/health). No authentication: they reveal no identifier and no secret.
 * Each can be switched off (--health, --ready, --metrics false); it is then an unknown path;
 * /_kmsd/audit-verification (when the trail's chain was last verified: counts, record numbers,
 * hashes) goes with --health.
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
        // One real read of the store (the root-key check's row): on PostgreSQL a round trip, on a
        // new connection if need be even while the node waits between attempts (ReadOptions.probe).
        await Promise.race([store.read((tx) => tx.getSetting('root-key-canary'), { probe: true }), deadline]);
        return reply.type(json).send({ status: 'ready', store: store.driver });
      } catch (error) {
        const reason = error instanceof StoreUnavailableError ? `the store is unreachable: ${error.reason}`
          : (error as Error).message === 'timeout' ? `the store did not answer within ${READY_TIMEOUT_MS} ms` : 'the store does not answer';
        if (services.logger) services.logger.warn(failureFields(error), 'readiness check failed');
        return reply.code(503).type(json).send({ status: 'unavailable', store: store.driver, reason });
      } finally {
        clearTimeout(timer);
      }
    });
  }
  // When `kmsd audit verify` last passed and last failed on this store, and whether the head still chains from the one it verified (the console's trail shows it).
  // Switched off with --health false, with the other unauthenticated status: an operator who hides one hides both.
  if (config.health) {
    app.get(`${OPERATOR_PREFIX}/audit-verification`, async (_request, reply) => {
      try {
        return reply.type(json).send(await verificationView(services.store));
      } catch (error) {
        if (services.logger) services.logger.warn(failureFields(error), 'audit verification view failed');
        return reply.code(503).type(json).send({ status: 'unavailable', store: store.driver, reason: 'the store does not answer' });
      }
    });
  }
  if (metrics) {
    app.get(`${OPERATOR_PREFIX}/metrics`, async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()));
  }
}

/**
 * The kept outcomes as the endpoint answers them (times in ISO 8601, null for never), checked:
 * a settings row of the wrong shape (anyone with write access to the database can write one)
 * is named in `unreadable` and shown as never. `since_passed` is the head now and whether it
 * still chains from the head the last passing run reached (null: not checked, too many records since).
 */
async function verificationView(store: Services['store']) {
  const [passedText, failedText] = await store.read(async (tx) => [await tx.getSetting(LAST_PASSED), await tx.getSetting(LAST_FAILED)]);
  const passed = readKeptPass(passedText);
  const failed = readKeptFailure(failedText);
  const unreadable = [...(passed === 'unreadable' ? ['last_passed'] : []), ...(failed === 'unreadable' ? ['last_failed'] : [])];
  const iso = <T extends { at: number }>(kept: T | null | 'unreadable') => (kept === null || kept === 'unreadable' ? null : { ...kept, at: new Date(kept.at).toISOString() });
  let sincePassed = null;
  if (passed !== null && passed !== 'unreadable') {
    const since = await chainsFrom(store, passed);
    sincePassed = { head_seq: since.headSeq, head_hash: since.headHash, chains: since.chains };
  }
  return { last_passed: iso(passed), last_failed: iso(failed), since_passed: sincePassed, unreadable };
}
