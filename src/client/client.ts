import { KmsConnectionError, KmsError } from './errors.ts';
import { pythonJson } from './json.ts';
import { OPERATIONS, PAGINATORS, type OperationMethods, type OperationName, type Operations } from './operations.ts';
import { authorization, rfc3986, sdkDate } from './signer.ts';
import { fetchTrusting } from './trusting-fetch.ts';
import type { CallOptions } from './types.ts';


/** TLS verification failures (Node's / OpenSSL's codes): permanent, unlike a refused or dropped connection. */
const UNTRUSTED_CERTIFICATE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_/;
/**
 * The global fetch's type where the caller's types declare one (@types/node, the DOM library),
 * else the little of it the client calls: its declarations need neither.
 */
export type Fetch = typeof globalThis extends { fetch: infer F } ? F
  : (input: string, init: { method: string; headers: Record<string, string>; body?: string; signal: unknown }) => Promise<unknown>;

export interface KmsClientOptions {
  /** kmsd (http://127.0.0.1:8080, the default) or https://kms.<region>.myhuaweicloud.com. */
  endpoint?: string;
  /** The region: the project's name. Default: from a kms.<region>.… endpoint, else cn-north-4. */
  region?: string;
  /** The project id; found through IAM (GET /v3/projects?name=<region>, or the token's project) when not given. */
  projectId?: string;
  /** AK/SK credentials: every request is signed with SDK-HMAC-SHA256. */
  ak?: string;
  sk?: string;
  /** Temporary (STS) credentials' security token, sent and signed as X-Security-Token. */
  securityToken?: string;
  /** Password credentials: a token from POST /v3/auth/tokens, renewed before it expires. */
  username?: string;
  password?: string;
  /** The account (domain) name of `username`. */
  domain?: string;
  /** A token already obtained (X-Auth-Token); not renewed. */
  token?: string;
  /** IAM endpoint for tokens and the project lookup. Default: iam.<region>.… for a kms.<region>.… endpoint, else the endpoint itself (kmsd serves IAM). */
  iamEndpoint?: string;
  /** Per attempt, in ms. Default 30000. */
  timeoutMs?: number;
  /** Retries of idempotent calls after a 429, a 5xx or a network error. Default 3. */
  retries?: number;
  /** First backoff in ms (doubled each retry, with jitter; a Retry-After header wins). Default 200. */
  retryDelayMs?: number;
  /** Told before each retry (which one of how many, after what failure, how long it waits): a tool says so at once. */
  onRetry?: (retry: { attempt: number; retries: number; delayMs: number; error: Error }) => void;
  /** Renew a password token this long before it expires, in ms. Default 10 minutes. */
  tokenRenewMs?: number;
  userAgent?: string;
  /** The fetch to use (default: the global fetch). */
  fetch?: Fetch;
  /**
   * Certificate authorities (PEM) to trust for an https:// endpoint instead of Node's list: a
   * private CA, or a self-signed kmsd development certificate. Not together with `fetch`.
   */
  ca?: string | Uint8Array;
  /** Clock in ms (signing date, token expiry). Default Date.now. */
  now?: () => number;
}

interface Descriptor {
  name: string;
  method: string;
  path: string;
  query: readonly string[];
  status: number;
  idempotent: boolean;
}

interface PreparedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

const DEFAULT_ENDPOINT = 'http://127.0.0.1:8080';
const DEFAULT_REGION = 'cn-north-4';
/** The Retry-After header of a refusal, if any. */
const retryAfter = new WeakMap<KmsError, string | null>();
const BY_NAME = new Map<string, Descriptor>(OPERATIONS.map((d) => [d.name, d]));
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });

/**
 * A client for every operation kmsd serves (and Huawei Cloud KMS answers): one method per
 * operation, named after it (retire-grant → retireGrant), with the request and answer types of
 * its definition. AK/SK signing or password tokens, project discovery, typed errors, retries of
 * idempotent calls, timeouts and paginators.
 */
export class KmsClient {
  readonly endpoint: string;
  readonly iamEndpoint: string;
  readonly region: string;
  readonly #options: KmsClientOptions;
  readonly #fetch: Fetch;
  readonly #now: () => number;
  #projectId: Promise<string> | null;
  #token: { value: string; expiresAt: number } | null = null;
  #login: Promise<{ value: string; expiresAt: number }> | null = null;
  /** The project of the last password token (its scope is the region's project). */
  #tokenProject: string | null = null;

  constructor(options: KmsClientOptions = {}) {
    this.#options = options;
    let endpoint = (options.endpoint ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
    if (!/^https?:\/\//.test(endpoint)) endpoint = `https://${endpoint}`;
    this.endpoint = endpoint;
    const host = new URL(endpoint).hostname;
    this.region = options.region ?? /^kms\.([a-z0-9-]+)\./.exec(host)?.[1] ?? DEFAULT_REGION;
    this.iamEndpoint = (options.iamEndpoint ?? (host.startsWith('kms.') ? endpoint.replace('://kms.', '://iam.') : endpoint)).replace(/\/+$/, '');
    if (options.ca !== undefined && options.fetch !== undefined) throw new TypeError('KmsClient: give ca or fetch, not both');
    this.#fetch = options.fetch ?? (options.ca !== undefined ? fetchTrusting(options.ca) : (input, init) => fetch(input, init));
    this.#now = options.now ?? Date.now;
    this.#projectId = options.projectId ? Promise.resolve(options.projectId) : null;
    const signs = options.ak !== undefined || options.sk !== undefined;
    if (signs && (!options.ak || !options.sk)) throw new TypeError('KmsClient: give both ak and sk');
    if (!signs && !options.token && !(options.username && options.password && options.domain)) {
      throw new TypeError('KmsClient: give ak and sk, or username, password and domain, or a token');
    }
  }

  /** The project id: as given, or found through IAM once. */
  projectId(): Promise<string> {
    if (!this.#projectId) {
      this.#projectId = this.#discoverProject();
      this.#projectId.catch(() => (this.#projectId = null));
    }
    return this.#projectId;
  }

  /** Calls an operation by its name (any operation of the server, also one added after this client was built). */
  async call<N extends OperationName>(name: N, input?: Operations[N]['request'], options?: CallOptions): Promise<Operations[N]['response']>;
  async call(name: string, input?: Record<string, unknown>, options?: CallOptions): Promise<unknown>;
  async call(name: string, input: Record<string, unknown> = {}, options: CallOptions = {}): Promise<unknown> {
    const d = BY_NAME.get(name);
    if (!d) throw new TypeError(`KmsClient: no operation ${name}`);
    return this.#withRetries(d.idempotent, options, async (timeoutMs, signal) => {
      const response = await this.#send(await this.#prepare(d, input), timeoutMs, signal, true);
      if (d.status === 204) return undefined;
      const text = response.text;
      return text === '' ? {} : JSON.parse(text);
    });
  }

  /** Every item of a paging operation (one with limit and marker), page after page. */
  async *paginate(name: string, input: Record<string, unknown> = {}, options: CallOptions = {}): AsyncGenerator<unknown> {
    const p = PAGINATORS.find((x) => x.operation === name);
    if (!p) throw new TypeError(`KmsClient: ${name} does not page`);
    let marker: string | undefined;
    for (;;) {
      const page = (await this.call(name, marker === undefined ? input : { ...input, marker }, options)) as Record<string, unknown>;
      for (const item of (page[p.items] as unknown[] | undefined) ?? []) yield item;
      let next: unknown = page;
      for (const member of p.nextMarker) next = (next as Record<string, unknown> | undefined)?.[member];
      if (typeof next === 'number') next = String(next);
      if (typeof next !== 'string' || next === '' || page.truncated === 'false' || page.truncated === false || next === marker) return;
      marker = next;
    }
  }

  async #prepare(d: Descriptor, input: Record<string, unknown>): Promise<PreparedRequest> {
    const rest: Record<string, unknown> = { ...input };
    const projectId = d.path.includes('{project_id}') ? await this.projectId() : '';
    const path = d.path.replace(/\{([a-z_]+)\}/g, (_m, name: string) => {
      if (name === 'project_id') return rfc3986(projectId);
      const value = rest[name];
      delete rest[name];
      if (value === undefined || value === null || value === '') throw new TypeError(`KmsClient: ${d.name} needs ${name}`);
      return rfc3986(String(value));
    });
    const hasBody = d.method === 'POST' || d.method === 'PUT';
    const query: string[] = [];
    for (const name of hasBody ? d.query : Object.keys(rest)) {
      const value = rest[name];
      delete rest[name];
      if (value === undefined || value === null) continue;
      for (const v of Array.isArray(value) ? value : [value]) query.push(`${rfc3986(name)}=${rfc3986(String(v))}`);
    }
    const body = hasBody ? pythonJson(rest) : undefined;
    // As the Python SDK: the classic POST operations declare charset=utf-8, the others plain JSON.
    const contentType = d.method === 'POST' && d.path === `/v1.0/{project_id}/kms/${d.name}` ? 'application/json;charset=utf-8' : 'application/json';
    const url = `${this.endpoint}${path}${query.length > 0 ? `?${query.join('&')}` : ''}`;
    return { method: d.method, url, headers: await this.#authHeaders(d.method, url, { 'Content-Type': contentType }, body, projectId), body };
  }

  /** The headers of a request with its credentials: a signature over them, or the token. */
  async #authHeaders(method: string, url: string, base: Record<string, string>, body: string | undefined, projectId: string): Promise<Record<string, string>> {
    const o = this.#options;
    const headers: Record<string, string> = { ...base };
    if (o.ak && o.sk) {
      headers.Host = new URL(url).host;
      headers['User-Agent'] = this.#userAgent();
      if (projectId !== '') headers['X-Project-Id'] = projectId;
      if (o.securityToken) headers['X-Security-Token'] = o.securityToken;
      headers['X-Sdk-Date'] = sdkDate(this.#now());
      headers.Authorization = authorization({ method, url, headers, body }, o.ak, o.sk);
      return headers;
    }
    headers['User-Agent'] = this.#userAgent();
    headers['X-Auth-Token'] = await this.#currentToken();
    return headers;
  }

  #userAgent(): string {
    return this.#options.userAgent ?? `kmsd-client (node/${process.versions.node})`;
  }

  async #send(request: PreparedRequest, timeoutMs: number, signal: AbortSignal | undefined, relogin: boolean): Promise<{ status: number; text: string; headers: Headers }> {
    const { Host: _host, ...headers } = request.headers;
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(request.url, { method: request.method, headers, body: request.body, signal: combined });
      text = await response.text();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const timedOut = timeout.aborted;
      const reason = timedOut ? `no answer within ${timeoutMs} ms` : describeNetworkError(error);
      throw new KmsConnectionError(request.url, `${request.method} ${request.url}: ${reason}`, timedOut, error);
    }
    if (response.status === 401 && relogin && this.#canLogin() && request.headers['X-Auth-Token'] !== undefined) {
      // The token was refused (expired early, or revoked): log in again once.
      this.#token = null;
      const again = { ...request, headers: { ...request.headers, 'X-Auth-Token': await this.#currentToken() } };
      return this.#send(again, timeoutMs, signal, false);
    }
    if (response.status >= 400) {
      const error = KmsError.from(response.status, text, response.headers.get('x-request-id'));
      retryAfter.set(error, response.headers.get('retry-after'));
      throw error;
    }
    return { status: response.status, text, headers: response.headers };
  }

  async #withRetries<T>(idempotent: boolean, options: CallOptions, attempt: (timeoutMs: number, signal?: AbortSignal) => Promise<T>): Promise<T> {
    const retries = idempotent ? (options.retries ?? this.#options.retries ?? 3) : 0;
    const timeoutMs = options.timeoutMs ?? this.#options.timeoutMs ?? 30_000;
    const base = this.#options.retryDelayMs ?? 200;
    for (let n = 0; ; n++) {
      try {
        return await attempt(timeoutMs, options.signal);
      } catch (error) {
        // A certificate the client does not trust will not be trusted a moment later: no retry.
        const retriable = (error instanceof KmsConnectionError && !UNTRUSTED_CERTIFICATE.test(error.message)) ||
          (error instanceof KmsError && (error.status === 429 || error.status >= 500));
        if (!retriable || n >= retries) throw error;
        const after = Number(error instanceof KmsError ? retryAfter.get(error) : undefined);
        const delay = Number.isFinite(after) && after > 0 ? Math.min(after * 1000, 10_000) : Math.random() * Math.min(base * 2 ** n, 5_000);
        this.#options.onRetry?.({ attempt: n + 1, retries, delayMs: delay, error: error as Error });
        await sleep(delay, options.signal);
      }
    }
  }

  #canLogin(): boolean {
    const o = this.#options;
    return !!(o.username && o.password && o.domain);
  }

  /** The token to send: the given one, or a password token renewed before it expires. */
  async #currentToken(): Promise<string> {
    const o = this.#options;
    if (!this.#canLogin() && o.token) return o.token;
    const renewMs = o.tokenRenewMs ?? 10 * 60_000;
    if (this.#token && this.#token.expiresAt - renewMs > this.#now()) return this.#token.value;
    if (!this.#login) {
      this.#login = this.#passwordLogin().finally(() => (this.#login = null));
    }
    this.#token = await this.#login;
    return this.#token.value;
  }

  async #passwordLogin(): Promise<{ value: string; expiresAt: number }> {
    const o = this.#options;
    const given = this.#options.projectId;
    const scope = given ? { project: { id: given } } : { project: { name: this.region } };
    const body = JSON.stringify({
      auth: { identity: { methods: ['password'], password: { user: { name: o.username, password: o.password, domain: { name: o.domain } } } }, scope },
    });
    const url = `${this.iamEndpoint}/v3/auth/tokens`;
    const request = { method: 'POST', url, headers: { 'Content-Type': 'application/json;charset=utf8', 'User-Agent': this.#userAgent() }, body };
    const answer = await this.#withRetries(true, {}, (timeoutMs) => this.#send(request, timeoutMs, undefined, false));
    const value = answer.headers.get('x-subject-token');
    if (!value) throw new KmsError(answer.status, String(answer.status), 'the IAM answer has no X-Subject-Token', answer.headers.get('x-request-id') ?? '', answer.text);
    const token = (JSON.parse(answer.text) as { token?: { expires_at?: string; project?: { id?: string } } }).token;
    const expiresAt = Date.parse(token?.expires_at ?? '');
    this.#tokenProject = token?.project?.id ?? null;
    return { value, expiresAt: Number.isNaN(expiresAt) ? this.#now() + 60 * 60_000 : expiresAt };
  }

  async #discoverProject(): Promise<string> {
    if (this.#canLogin()) {
      await this.#currentToken();
      if (this.#tokenProject) return this.#tokenProject;
    }
    const url = `${this.iamEndpoint}/v3/projects?name=${rfc3986(this.region)}`;
    const answer = await this.#withRetries(true, {}, async (timeoutMs) => {
      const headers = await this.#authHeaders('GET', url, { 'Content-Type': 'application/json' }, undefined, '');
      return this.#send({ method: 'GET', url, headers, body: undefined }, timeoutMs, undefined, true);
    });
    const projects = ((JSON.parse(answer.text) as { projects?: Array<{ id: string }> }).projects ?? []);
    if (projects.length !== 1) {
      throw new KmsError(404, 'PROJECT.NOT_FOUND', `${projects.length === 0 ? 'no' : 'more than one'} project named ${this.region} (give projectId)`, answer.headers.get('x-request-id') ?? '', answer.text);
    }
    return projects[0].id;
  }
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  // node:https (a client with `ca`) puts the code on the error itself, fetch on its cause.
  return cause?.code ?? cause?.message ?? (error as { code?: string }).code ?? (error as Error).message ?? String(error);
}

// One method per operation and one per paginator, from the generated descriptors.
export interface KmsClient extends OperationMethods {}
for (const d of OPERATIONS) {
  Object.defineProperty(KmsClient.prototype, d.clientMethod, {
    value: function (this: KmsClient, input?: Record<string, unknown>, options?: CallOptions) {
      return this.call(d.name, input, options);
    },
    writable: true,
    configurable: true,
  });
}
for (const p of PAGINATORS) {
  Object.defineProperty(KmsClient.prototype, p.method, {
    value: function (this: KmsClient, input?: Record<string, unknown>, options?: CallOptions) {
      return this.paginate(p.operation, input, options);
    },
    writable: true,
    configurable: true,
  });
}

