// The console's only way to kmsd: the public API, as any SDK calls it. The token lives in this
// module's memory only (never localStorage, sessionStorage or a cookie): a reload signs out.

let session = null;

/** A refusal as kmsd sent it: the KMS (or IAM, or gateway) code and message. */
export class Refusal extends Error {
  constructor(status, code, message) {
    super(`${code}: ${message}`);
    this.status = status;
    this.code = code;
    this.detail = message;
  }
}

async function refusalOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const error = body?.error;
  if (error?.error_code) return new Refusal(response.status, error.error_code, error.error_msg ?? '');
  if (body?.error_code) return new Refusal(response.status, body.error_code, body.error_msg ?? '');
  if (error?.code) return new Refusal(response.status, `IAM ${error.code}`, error.message ?? error.title ?? '');
  return new Refusal(response.status, `HTTP ${response.status}`, response.statusText);
}

export const currentSession = () => session;

/** POST /v3/auth/tokens with a password; the token is scoped to the account's project of this region. */
export async function signIn(account, user, password) {
  const response = await fetch('/v3/auth/tokens?nocatalog=true', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json;charset=UTF-8' },
    body: JSON.stringify({
      auth: { identity: { methods: ['password'], password: { user: { name: user, password, domain: { name: account } } } } },
    }),
  });
  if (response.status !== 201) throw await refusalOf(response);
  const token = response.headers.get('X-Subject-Token');
  const body = await response.json();
  const project = body.token.project;
  if (!project) throw new Refusal(403, 'KMS.0321', `the account ${account} has no project in this region`);
  session = {
    token,
    projectId: project.id,
    region: project.name,
    user: { id: body.token.user.id, name: body.token.user.name },
    account: { id: body.token.user.domain.id, name: body.token.user.domain.name },
  };
  return session;
}

export function signOut() {
  session = null;
  users = null;
}

async function call(method, path, body) {
  if (!session) throw new Refusal(401, 'signed out', 'sign in again');
  const headers = { 'X-Auth-Token': session.token };
  if (body !== undefined) headers['Content-Type'] = 'application/json;charset=UTF-8';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) throw await refusalOf(response);
  return response.status === 204 ? null : response.json();
}

/** A KMS operation: POST /v1.0/{project_id}/kms/<operation>. */
export const kms = (operation, body = {}) => call('POST', `/v1.0/${session?.projectId}/kms/${operation}`, body);

/** A KMS call by its own method and path under /v1.0/{project_id}/kms/ (tags, aliases). */
export const kmsAt = (method, path, body) => call(method, `/v1.0/${session?.projectId}/kms/${path}`, body);

let users = null;

/**
 * The account's users (IAM KeystoneListUsers, GET /v3/users?domain_id=...); null when they
 * cannot be listed: the console then shows ids, and the signed-in user by name. Only a 403 (the
 * caller lacks iam:users:listUsers) is kept for the session; any other failure (a 503 while the
 * store is away, a lost connection) is asked again at the next page load.
 */
export function accountUsers() {
  if (!session) return Promise.resolve(null);
  if (users) return users;
  const asked = call('GET', `/v3/users?domain_id=${encodeURIComponent(session.account.id)}`)
    .then((body) => body.users.map((u) => ({ id: u.id, name: u.name })), (error) => {
      if (!(error instanceof Refusal && error.status === 403) && users === asked) users = null;
      return null;
    });
  users = asked;
  return asked;
}

/** A CSMS (secrets) call: <method> /v1/{project_id}/<path>. */
export const csms = (method, path, body) => call(method, `/v1/${session?.projectId}/${path}`, body);

/** CTS ListTraces: GET /v3/{project_id}/traces. */
export function listTraces(filter) {
  const query = new URLSearchParams({ trace_type: 'system', limit: '50' });
  for (const [name, value] of Object.entries(filter)) if (value !== undefined && value !== '') query.set(name, String(value));
  return call('GET', `/v3/${session?.projectId}/traces?${query}`);
}

/**
 * When `kmsd audit verify` last passed (and last failed) on this store: kmsd's own endpoint
 * (/_kmsd/, no KMS or CTS operation says it), which needs no token.
 */
export async function auditVerification() {
  const response = await fetch('/_kmsd/audit-verification');
  if (!response.ok) throw await refusalOf(response);
  return response.json();
}
