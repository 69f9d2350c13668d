import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Authenticator, type Principal } from '../auth/authenticate.ts';
import { remember } from '../core/memo.ts';
import { policySet } from '../auth/policy.ts';
import { DECISIONS } from '../core/decisions.ts';
import type { Config } from '../config.ts';
import type { Caller, Project } from '../core/model.ts';
import { laterInRequest } from '../store/store.ts';
import { StoreUnavailableError, failureFields } from '../store/unavailable.ts';
import { PasswordsNotInForceError } from '../auth/password-gate.ts';
import { IAM_ROUTES } from '../iam/routes.ts';
import { parseKmsBody } from './body.ts';
import { signable } from './signable.ts';
import { listeningUrl } from './public-url.ts';
import { secureOptions } from '../tls/certificate.ts';
import { GatewayError, IamError, KmsError, ThrottledError, kms } from '../core/errors.ts';
import { hasExactType } from './fields.ts';
import { anonymousDraft, callerDraft, noteBody, recordingStore, type AuditDraft } from './audit.ts';
import { Serialized, bodySchema, pathOf, statusOf, type Operation, type OperationContext } from './operation.ts';
import { routeGroups, type RouteGroup } from './route-groups.ts';
import { OPERATIONS } from './routes.ts';
import { validationError } from './validation.ts';
import { forService } from './csms-errors.ts';
import type { Services } from './services.ts';
import { versionDocument, versionsDocument } from './versions.ts';
import { registerConsole } from './console.ts';
import { openApiDocument } from './openapi.ts';
import { LAZY_SCHEMA_COMPILERS } from './schema-compilers.ts';
import { registerOperatorRoutes } from './operator.ts';
import { registerSealRoutes } from '../seal/gate.ts';

/** How often Node checks the header and request deadlines. */
const deadlineCheck = (config: Config): number => Math.min(1000, config.headerTimeout);

export interface Authenticated {
  principal: Principal;
  caller: Caller;
}

/**
 * What the edge learns about one request as it goes, kept on the request itself (one object
 * per request; WeakMaps keyed by request cost a hash-table entry each and weigh on the GC).
 */
interface RequestState {
  who: Authenticated | null;
  /** The caller of an IAM endpoint that authenticates one (KMS requests have it in `who`). */
  principal: Principal | null;
  draft: AuditDraft | null;
  /** Why the caller's identity policies last refused it (which Deny statement, or that none allowed). */
  policyReason: string | null;
  /** The error code (and its message) a refused request was answered with, for its access line and metrics. */
  refusal: { code: string; message: string } | null;
  /** The operation the request's path names (set by its route's onRequest hook), and its path parameters. */
  operation: Operation | null;
  pathValues: Record<string, string>;
}

declare module 'fastify' {
  interface FastifyRequest {
    kmsd: RequestState;
  }
}

/**
 * Request ids, 32 hex digits: 16 drawn at random when the event loop starts, then a counter.
 * A request id only has to be unique (on every loop and node: 64 random bits apart), not
 * secret, so no randomness is drawn per request.
 */
function requestIds(): () => string {
  const loop = randomBytes(8).toString('hex');
  let count = 0;
  return () => loop + (++count).toString(16).padStart(16, '0');
}

/**
 * The request's state. Set by the onRequest hook; a request Fastify refuses before its hooks
 * run (a malformed URL) reaches the error handler without one.
 */
const stateOf = (request: FastifyRequest): RequestState =>
  (request.kmsd ??= { who: null, principal: null, draft: null, policyReason: null, refusal: null, operation: null, pathValues: NO_PATH_VALUES });

const NO_PATH_VALUES: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** Answers in progress on a socket (see the 'timeout' handler below). */
const ANSWERING = Symbol('kmsd answers in progress');
type CountedSocket = { [ANSWERING]?: number };

/** Fires when the response closes unfinished: the client went away (or its socket timed out). */
function abandoned(response: ServerResponse): AbortSignal {
  const controller = new AbortController();
  if (response.destroyed && !response.writableFinished) controller.abort(new Error('the client went away'));
  else response.once('close', () => { if (!response.writableFinished) controller.abort(new Error('the client went away')); });
  return controller.signal;
}

/** The operation's input: body members, then its query parameters, then its path parameters. */
function operationInput(op: Operation, pathValues: Record<string, string>, request: FastifyRequest): Record<string, unknown> {
  const input = parseKmsBody(request.body as Buffer | undefined);
  const query = request.query as Record<string, unknown>;
  for (const name of op.query ?? []) {
    const value = query[name];
    if (value !== undefined && value !== '') Object.defineProperty(input, name, { value, enumerable: true, writable: true, configurable: true });
  }
  for (const [name, value] of Object.entries(pathValues)) Object.defineProperty(input, name, { value, enumerable: true, writable: true, configurable: true });
  return input;
}

/**
 * Builds the HTTP edge: authentication, then body parsing and schema validation, then the
 * operation. Nothing below this file knows about HTTP.
 */
export async function buildApp(services: Services): Promise<FastifyInstance> {
  const { config, store, clock, rootKey } = services;
  const http = {
    headersTimeout: config.headerTimeout,
    requestTimeout: config.requestTimeout,
    connectionsCheckingInterval: deadlineCheck(config),
  };
  const app = Fastify({
    ...(services.logger ? { loggerInstance: services.logger as FastifyBaseLogger } : { logger: false }),
    // One access line per request comes from the onResponse hook below; no header is logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimit,
    // Slow clients: headers must arrive within headerTimeout, the whole request within
    // requestTimeout (Node answers 408 and closes); an idle keep-alive connection closes after
    // keepAliveTimeout. Deadlines are checked at least once a second. A connection silent for
    // headerTimeout is closed too (socket inactivity; no KMS operation is that slow): whichever
    // comes first, the 408 at Node's header deadline (written by Fastify's clientError handler)
    // or that bare close, ends a connection that sends nothing (test/limits.test.ts reads what it
    // gets: a client that never reads would never see the close after a 408).
    // HTTPS only, when it serves TLS (src/tls/certificate.ts): node:https takes the same deadlines,
    // and the handshake the header deadline too (the socket timer does not run until it is
    // done; Node's own handshake deadline is 120 s).
    ...(services.tls ? { https: { ...http, handshakeTimeout: config.headerTimeout, ...secureOptions(services.tls) } } : { http }),
    requestTimeout: config.requestTimeout,
    // Not longer than the header deadline: Node stops the socket's inactivity timer at that
    // deadline, so a longer one would never fire for a connection that sends nothing.
    connectionTimeout: config.headerTimeout,
    keepAliveTimeout: config.keepAliveTimeout,
    genReqId: requestIds(),
    requestIdHeader: false,
    // A path parameter of any length reaches its route, whose checks answer it in the service's
    // own error form (Fastify's default, 100, answered longer ones with its own 414 body). The
    // URL itself is bounded by Node's header size limit.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 16_384 },
    // A path Fastify cannot decode (an invalid percent-encoding, /v1.0/%ZZ/kms/list-keys) is
    // answered in the form of the service the path belongs to, not in Fastify's own body
    // (DECISIONS.badUrl).
    frameworkErrors: (_error, request, genericReply) => {
      const reply = genericReply as unknown as FastifyReply;
      const refusal = badUrlRefusal(request.url.split('?')[0]);
      if (refusal instanceof IamError) return reply.code(refusal.status).send(refusal.body());
      return reply.code(refusal.status).send(refusal.body(config.nodeSdkErrorFields));
    },
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false } },
    // ajv and fast-json-stringify are loaded, and each route's serializer compiled, at first use.
    schemaController: LAZY_SCHEMA_COMPILERS,
  });
  const authenticator = new Authenticator(store, rootKey, clock);
  // Authentication is every request's first read; what the request reads after it may rely on
  // that read's look for new commits.
  const requestStore = laterInRequest(store);
  // Projects never change or go away once created: kept after their first read.
  const projects = new Map<string, Project>();
  // Every request carries its RequestState (set in onRequest). The reason identity policies
  // refused a caller is logged at info with a 403 KMS.0306, whose body stays the documented one.
  app.decorateRequest('kmsd', null as unknown as RequestState);
  const { rateLimiter: limiter, refusals, logins, metrics } = services;
  // Where clients reach this server, for the documents that print URLs: never the Host header
  // a request sends (that would echo whatever a caller writes there).
  const publicUrl = (): string => config.publicUrl ?? listeningUrl(app.server.address(), config.host, config.port, Boolean(services.tls));
  // A store outage by its reason and stage (failureFields), never the driver's error it wraps.
  const auditFailed = (err: unknown) => services.logger && services.logger.error(failureFields(err), 'audit record failed');
  // Summaries of refusals past the rate are written before the store closes.
  app.addHook('onClose', async () => refusals.flush().catch(auditFailed));

  // Every body is kept as raw bytes: signatures are computed over them, and KMS bodies are
  // parsed only after the caller is known (an unauthenticated caller learns nothing).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  // The access line is built only when it will be written (the level is fixed at start).
  const logRequests = services.logger !== false && services.logger.isLevelEnabled('info');
  // Callback-style hooks: an async hook costs a promise and a microtask hop per request.
  // A connection silent for headerTimeout is closed (Node's socket inactivity timeout), but not
  // one whose request is being answered: a slow store (PostgreSQL under load) must not cut an
  // answer off; requestTimeout bounds those. Answers in progress are counted per socket.
  app.server.on('timeout', (socket: CountedSocket & { destroy(): void }) => {
    if (!socket[ANSWERING]) socket.destroy();
  });
  app.addHook('onRequest', (request, reply, done) => {
    stateOf(request);
    reply.header('X-Request-Id', request.id);
    const socket = request.raw.socket as unknown as CountedSocket;
    socket[ANSWERING] = (socket[ANSWERING] ?? 0) + 1;
    done();
  });
  // A sealed node: the gate answers every KMS and IAM request 503 until the root key is in.
  if (services.seal) {
    registerSealRoutes(app, services.seal, {
      store, clock, logger: services.logger,
      refused: (request, code, message) => (stateOf(request).refusal = { code, message }),
    });
  }
  app.addHook('onResponse', (request, reply, done) => {
    const socket = request.raw.socket as unknown as CountedSocket;
    socket[ANSWERING] = (socket[ANSWERING] ?? 1) - 1;
    const state = stateOf(request);
    const refusal = state.refusal;
    // Worked out once for the line and the metrics (a request answered before its route's hook matches it here).
    const op = logRequests || metrics ? operationOf(request) : undefined;
    if (logRequests) {
      // The path as sent (never the query, which may carry markers and filters; never a route
      // template), who called, and what it was taken for.
      const line: Record<string, unknown> = { method: request.method, path: request.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) };
      const principal = state.who?.principal ?? state.principal;
      if (principal) line.caller = `${principal.userName}@${principal.accountName}`;
      const operation = op?.name ?? state.draft?.operation;
      if (operation) line.operation = operation;
      if (refusal) {
        if (refusal.code !== '') line.code = refusal.code;
        line.reason = refusal.message;
      }
      request.log.info(line, 'request');
    }
    if (metrics) {
      metrics.request(metricName(request, op), reply.statusCode, refusal?.code ?? '', reply.elapsedTime / 1000);
      if (request.kmsd.draft?.recorded) metrics.audited();
    }
    done();
  });

  // The operations' routes: one per group of operations (route-groups.ts), each request
  // matched to its operation when it arrives, as by routes of their own.
  for (const group of routeGroups(OPERATIONS)) {
    // Worked out once per operation, not per request. The input (body, query and path fields
    // together) is checked in preValidation rather than as Fastify's body schema, which GET
    // routes may not have; same validator, same options.
    const inputSchemas = new Map(group.operations.map((op) => [op, bodySchema(op)]));
    const bodyLimits = group.operations.map((op) => op.bodyLimit).filter((limit) => limit !== undefined);
    app.route({
      method: group.method,
      url: group.url,
      // For what answers before the onRequest hook below has run (a sealed node's gate): operationOf.
      config: { group },
      ...(bodyLimits.length > 0 && { bodyLimit: Math.max(config.bodyLimit, ...bodyLimits) }),
      onRequest: (request, _reply, done) => {
        const match = group.match(request.params as Record<string, string>);
        const state = request.kmsd;
        state.operation = match?.operation ?? null;
        state.pathValues = match?.values ?? NO_PATH_VALUES;
        done();
      },
      preValidation: async (request, reply) => {
        const state = request.kmsd;
        const op = state.operation;
        // No operation of the route's group has this path: the not-found answer, as when no route
        // matched (after the body is read, as Fastify's not-found route reads it: an oversized
        // body is KMS.0203 there too).
        if (op === null) {
          reply.callNotFound();
          return reply;
        }
        // A request refused before this point gets its anonymous draft in the error handler.
        const principal = await authenticator.authenticate(signable(request));
        const draft = callerDraft(request.id, op.name, principal, request.ip);
        state.draft = draft;
        if (limiter && !limiter.take(principal.accessKey ?? `user:${principal.userId}`)) throw new ThrottledError(config.rateLimit);
        const projectId = (request.params as { project_id: string }).project_id;
        const project = projects.get(projectId) ?? (await requestStore.read((tx) => tx.getProject(projectId)));
        if (project) remember(projects, projectId, project);
        if (!project || project.accountId !== principal.accountId || (principal.projectId !== null && principal.projectId !== projectId)) {
          throw kms('KMS.0321');
        }
        const policies = policySet(principal.policies);
        const subject = {
          userId: principal.userId, userName: principal.userName, accountId: principal.accountId,
          accountName: principal.accountName, projectId, region: project.name,
        };
        const callerFor = (actions: readonly string[]): Caller => ({
          userId: principal.userId,
          accountId: principal.accountId,
          region: project.name,
          readsTags: policies.readsTags,
          allows(resource, values) {
            const verdict = policies.evaluate(actions, subject, resource, values);
            if (!verdict.allowed) state.policyReason = verdict.reason;
            return verdict.allowed;
          },
          denies(resource, values) {
            const verdict = policies.evaluate(actions, subject, resource, values);
            if (verdict.denied) state.policyReason = verdict.reason;
            return verdict.denied;
          },
          forActions: callerFor,
          noteSecret(secret) {
            draft.secretId = secret.secretId;
            draft.secretName = secret.name;
          },
        });
        const caller = callerFor(op.actions);
        state.who = { principal, caller };
        const input = operationInput(op, state.pathValues, request);
        noteBody(draft, input);
        for (const [name, field] of Object.entries(op.fields)) {
          if (!hasExactType(field, (input as Record<string, unknown>)[name])) throw kms(field.code);
        }
        const validate = request.compileValidationSchema(inputSchemas.get(op) as Record<string, unknown>, 'body');
        if (!validate(input)) throw Object.assign(new Error('invalid input'), { validation: validate.errors ?? [] });
        request.body = input;
      },
      handler: async (request, reply) => {
        const state = request.kmsd;
        const op = state.operation as Operation;
        const who = state.who as Authenticated;
        const draft = state.draft as AuditDraft;
        const input = request.body as Record<string, unknown>;
        // The identifiers as validation left them (["id"] is "id" by now): what the operation acts on.
        noteBody(draft, input);
        const audited = op.mutates ? recordingStore(requestStore, clock, draft, statusOf(op)) : requestStore;
        const generate = services.generation.for(who.principal.userId);
        const ctx: OperationContext = {
          ...who, store: audited, clock, rootKey, config, userAgent: request.headers['user-agent'] ?? '', generate, abandoned: () => abandoned(reply.raw),
        };
        const answer = await op.handle(ctx, input);
        if (statusOf(op) === 204) return (reply as FastifyReply).code(204).send();
        if (statusOf(op) === 201) reply.code(201);
        // The operation's response schema, as a route of its own would have it: what the
        // schema does not name is left out, and its types are written as it says.
        const json = answer instanceof Serialized ? answer.json : reply.compileSerializationSchema(op.response, String(statusOf(op)))(answer as Record<string, unknown>);
        return reply.type('application/json; charset=utf-8').send(json);
      },
    });
  }

  for (const route of IAM_ROUTES) {
    app.route({
      method: route.method,
      url: route.url,
      handler: async (request, reply) => {
        const identified = (operation: string, principal: Principal): AuditDraft => {
          const state = stateOf(request);
          state.principal = principal;
          return (state.draft = callerDraft(request.id, operation, principal, request.ip));
        };
        const result = await route.handle({ services, authenticator, request, publicUrl: publicUrl(), refusals, logins, identified });
        for (const [name, value] of Object.entries(result.headers ?? {})) reply.header(name, value);
        return reply.code(result.status).send(result.body);
      },
    });
  }

  registerConsole(app);

  app.get('/', async () => versionsDocument(publicUrl()));
  // The OpenAPI document of every route, without authentication (like the version documents);
  // generated at its first request, not at start.
  let openApi: string | null = null;
  app.get('/openapi.json', (_request, reply) => reply.type('application/json; charset=utf-8').send(openApi ??= JSON.stringify(openApiDocument())));
  app.get('/:version_id', async (request) => {
    const { version_id } = request.params as { version_id: string };
    if (version_id !== 'v1.0') throw kms('KMS.0201');
    return versionDocument(publicUrl());
  });

  app.setErrorHandler(async (error: Error & { code?: string; statusCode?: number; validation?: unknown }, request, reply) => {
    const answer = refusalOf(request, error, services);
    const state = stateOf(request);
    // IAM refusals carry Keystone's numeric code only; their line says IAM.<status>, as their audit records do.
    state.refusal = { code: answer instanceof IamError ? `IAM.${answer.status}` : answer.code, message: answer.message };
    const op = operationOf(request);
    // No "failed" record of a request refused because the store is away: writing it needs the
    // store, which would hold the 503 past the request's deadline (a connect timeout, another
    // stale connection) to fail anyway. The log's "store unavailable" warning is its trace. And a
    // request whose COMMIT was lost may have taken effect, with its own "allowed" record.
    if (op && !(error instanceof StoreUnavailableError)) {
      const draft = state.draft ?? anonymousDraft(request.id, op.name, request.headers.authorization, request.ip);
      const code = answer instanceof GatewayError || answer instanceof KmsError ? answer.code : 'KMS.0103';
      await refusals.record(draft, op.mutates === true, answer.status, code).catch(auditFailed);
    }
    const refusedBy = state.policyReason;
    if (refusedBy && answer instanceof KmsError && answer.code === DECISIONS.callerMayNot && services.logger) {
      const who = state.who;
      request.log.info({
        operation: op?.name, user: who?.principal.userName, account: who?.principal.accountName,
        key_id: state.draft?.keyId ?? null, policy: refusedBy,
      }, 'identity policy refused the call');
    }
    // Every 429 says when to come back (RFC 9110 §10.2.3), so clients need not guess a backoff.
    if (answer.status === 429) reply.header('Retry-After', String((answer as { retryAfterSeconds?: number }).retryAfterSeconds ?? 1));
    if (answer instanceof GatewayError) return reply.code(answer.status).send(answer.body(request.id));
    if (answer instanceof IamError) return reply.code(answer.status).send(answer.body());
    return reply.code(answer.status).send(answer.body(config.nodeSdkErrorFields));
  });

  registerOperatorRoutes(app, services, metrics);

  const knownPaths = [
    ...OPERATIONS.map((op) => new RegExp(`^${pathOf(op).replace(/\./g, '\\.').replace(/\{[a-z_]+\}/g, '[^/]+')}/?$`)),
    ...IAM_ROUTES.map((r) => new RegExp(`^${r.url.replace(/\./g, '\\.').replace(/:[a-z_]+/g, '[^/]+')}/?$`)),
  ];
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const known = knownPaths.some((re) => re.test(path));
    const error = known ? kms('KMS.0215') : kms('KMS.0201');
    if (isIamPath(path)) {
      const iam = known ? new IamError(405, 'The method is not allowed for the requested URL.') : new IamError(404, 'Could not find the requested resource.');
      stateOf(request).refusal = { code: `IAM.${iam.status}`, message: iam.message };
      return reply.code(iam.status).send(iam.body());
    }
    // Paths under /v1/ are CSMS's: answered in its words.
    const answer = path.startsWith('/v1/') ? kms('CSMS.0003') : error;
    stateOf(request).refusal = { code: answer.code, message: answer.message };
    return reply.code(answer.status).send(answer.body(config.nodeSdkErrorFields));
  });

  return app;
}

/**
 * The `operation` label of a request's metrics: the KMS operation's name, else the route's
 * template (never the URL itself, which may carry ids), "unknown" for an unknown path.
 */
function metricName(request: FastifyRequest, op: Operation | undefined): string {
  if (op) return op.name;
  const route = request.routeOptions;
  // A route of operations whose path named none of them: an unknown path, as when no route matched.
  if ((route.config as { group?: RouteGroup } | undefined)?.group || route.url === undefined) return 'unknown';
  return `${request.method} ${route.url}`;
}

/**
 * The operation a request's path names, undefined for none: set by its route's onRequest hook, or
 * matched here for a request answered before that hook ran (a sealed node's gate answers in an
 * onRequest hook of its own).
 */
function operationOf(request: FastifyRequest): Operation | undefined {
  const named = request.kmsd?.operation;
  if (named) return named;
  return groupOf(request)?.match(request.params as Record<string, string>)?.operation;
}

/** The group of operations whose route a request took (route-groups.ts), if any. */
const groupOf = (request: FastifyRequest): RouteGroup | undefined =>
  (request.routeOptions.config as { group?: RouteGroup } | undefined)?.group;

/** What a path Fastify could not decode is answered: Keystone's 400, CSMS.0003, or KMS.0202. */
function badUrlRefusal(path: string): IamError | KmsError {
  if (isIamPath(path)) return new IamError(400, DECISIONS.badUrl.iam);
  return kms(path.startsWith('/v1/') ? DECISIONS.badUrl.csms : DECISIONS.badUrl.kms);
}

/** IAM's paths (/v3 itself included) answer in Keystone's error shape. */
const isIamPath = (path: string): boolean => path === '/v3' || path.startsWith('/v3/');

/** The message of IAM's 503 while the store is unreachable. */
export const STORE_UNAVAILABLE_IAM = 'The service is temporarily unavailable.';

/** What a failure is answered with: its own error, the documented KMS error, or KMS.0103. */
function refusalOf(
  request: FastifyRequest,
  error: Error & { code?: string; statusCode?: number; validation?: unknown },
  services: Services,
): GatewayError | IamError | KmsError {
  if (error instanceof GatewayError || error instanceof IamError) return error;
  if (error instanceof StoreUnavailableError) {
    if (services.logger) request.log.warn(failureFields(error), 'store unavailable');
    // IAM's paths answer in IAM's shape (a Keystone 503), KMS's with the KMS error.
    return isIamPath(request.url.split('?')[0]) ? new IamError(503, STORE_UNAVAILABLE_IAM) : kms(DECISIONS.storeUnavailable);
  }
  // A password login the declared passwords' gate did not let through (only IAM's token route
  // waits on it): the same 503 as a store outage, logged as what it is.
  if (error instanceof PasswordsNotInForceError) {
    if (services.logger) request.log.warn({ reason: error.reason }, 'password login refused: the identities file\'s passwords are not in force yet');
    return new IamError(503, STORE_UNAVAILABLE_IAM);
  }
  const mapped = toKmsError(request, error);
  if (!mapped && services.logger) request.log.error({ err: error }, 'internal error');
  return forService(operationOf(request), mapped ?? kms('KMS.0103'));
}

/** The documented KMS error for a failure, or null when it is internal. */
function toKmsError(request: FastifyRequest, error: Error & { code?: string; statusCode?: number; validation?: unknown }): KmsError | null {
  if (error instanceof KmsError) return error;
  const op = operationOf(request);
  if (error.validation && op) return validationError(op, error.validation as never);
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return kms('KMS.0203');
  // Fastify's own 4xx (malformed content length, bad encoding, ...) are malformed requests.
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) return kms('KMS.0202');
  return null;
}
