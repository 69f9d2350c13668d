// kmsd's web console: Preact components written with htm (tagged templates, no build-time JSX),
// over the public API only (see api.js). Pages are chosen by the location hash.
import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { Refusal, auditVerification, currentSession, kms, listTraces, signIn, signOut } from './api.js';
import { SecretPage, Secrets } from './secrets.js';

const KEY_STATES = { 1: 'Pending creation', 2: 'Enabled', 3: 'Disabled', 4: 'Pending deletion', 5: 'Pending import' };
const GRANT_OPERATIONS = [
  'create-datakey', 'create-datakey-without-plaintext', 'encrypt-datakey', 'decrypt-datakey', 'describe-key',
  'create-grant', 'retire-grant', 'encrypt-data', 'decrypt-data',
];

const formatTime = (ms) => (ms ? new Date(Number(ms)).toLocaleString() : '');

/** The page the hash names: #/keys, #/keys/<id>, #/retirable, #/trail?key=...&user=... */
function parseHash(hash) {
  const [path, query = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  return { page: parts[0] ?? 'keys', id: parts[1] ? decodeURIComponent(parts[1]) : null, params: new URLSearchParams(query) };
}

function useHash() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return parseHash(hash);
}

/** Loads with `load`, again whenever `deps` change or reload() is called. */
function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: useCallback(() => setTick((t) => t + 1), []) };
}

function RefusalNote({ error }) {
  if (!error) return null;
  if (error instanceof Refusal) {
    return html`<p class="refusal" role="alert"><strong class="code">${error.code}</strong> ${error.detail} <span class="status">(HTTP ${error.status})</span></p>`;
  }
  return html`<p class="refusal" role="alert">${String(error.message ?? error)}</p>`;
}

function SignIn({ onSignedIn }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    try {
      onSignedIn(await signIn(form.get('account'), form.get('user'), form.get('password')));
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return html`<main class="signin">
    <h1>kmsd console</h1>
    <form onSubmit=${submit} aria-label="Sign in">
      <label>Account <input name="account" autocomplete="organization" required /></label>
      <label>User <input name="user" autocomplete="username" required /></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
      <button type="submit" disabled=${busy}>Sign in</button>
      <${RefusalNote} error=${error} />
    </form>
    <p class="hint">Signs in through <code>POST /v3/auth/tokens</code>; the token is kept in this page's memory only.</p>
  </main>`;
}

function Nav({ session, page, onSignOut }) {
  const link = (href, name, label) => html`<a href=${href} aria-current=${page === name ? 'page' : undefined}>${label}</a>`;
  return html`<header>
    <strong class="brand">kmsd</strong>
    <nav>${link('#/keys', 'keys', 'Keys')}${link('#/secrets', 'secrets', 'Secrets')}${link('#/retirable', 'retirable', 'Retirable grants')}${link('#/trail', 'trail', 'Audit trail')}</nav>
    <span class="who">${session.user.name} @ ${session.account.name} · ${session.region}</span>
    <button type="button" class="secondary" onClick=${onSignOut}>Sign out</button>
  </header>`;
}

async function loadKeys() {
  const list = await kms('list-keys', { key_spec: 'ALL', limit: '1000' });
  return Promise.all(list.key_details.map(async (key) => {
    const [rotation, grants] = await Promise.all([
      kms('get-key-rotation-status', { key_id: key.key_id }).catch(() => null),
      kms('list-grants', { key_id: key.key_id, limit: '1' }).catch(() => null),
    ]);
    return { ...key, rotation, grants: grants?.total };
  }));
}

function rotationText(key) {
  if (!key.rotation) return key.key_rotation_enabled === 'true' ? 'on' : 'off';
  return key.rotation.key_rotation_enabled ? `every ${key.rotation.rotation_interval} days` : 'off';
}

function Keys() {
  const { data, error, loading } = useLoad(loadKeys, []);
  return html`<main>
    <h1>Keys</h1>
    <${RefusalNote} error=${error} />
    ${loading && !data ? html`<p class="muted">Loading…</p>` : null}
    ${data && html`<table class="keys">
      <thead><tr><th>Alias</th><th>Key ID</th><th>State</th><th>Spec</th><th>Rotation</th><th>Grants</th><th>Created</th></tr></thead>
      <tbody>${data.map((key) => html`<tr>
        <td><a href=${`#/keys/${key.key_id}`}>${key.key_alias}</a></td>
        <td><code>${key.key_id}</code></td>
        <td><span class=${`state state-${key.key_state}`}>${KEY_STATES[key.key_state] ?? key.key_state}</span></td>
        <td>${key.key_spec}</td>
        <td>${rotationText(key)}</td>
        <td class="num">${key.grants ?? '—'}</td>
        <td>${formatTime(key.creation_date)}</td>
      </tr>`)}</tbody>
    </table>`}
    ${data && data.length === 0 ? html`<p class="muted">No keys.</p>` : null}
  </main>`;
}

function GrantTable({ grants, actions }) {
  if (grants.length === 0) return html`<p class="muted">No grants.</p>`;
  return html`<table class="grants">
    <thead><tr><th>Grant ID</th><th>Name</th><th>Grantee</th><th>Operations</th><th>Retiring principal</th><th>Created</th><th></th></tr></thead>
    <tbody>${grants.map((g) => html`<tr data-grant=${g.grant_id}>
      <td><code title=${g.grant_id}>${g.grant_id.slice(0, 12)}…</code></td>
      <td>${g.name ?? ''}</td>
      <td><code>${g.grantee_principal}</code> <span class="muted">(${g.grantee_principal_type})</span></td>
      <td>${g.operations.join(', ')}</td>
      <td>${g.retiring_principal ? html`<code>${g.retiring_principal}</code>` : ''}</td>
      <td>${formatTime(g.creation_date)}</td>
      <td class="actions">${actions(g)}</td>
    </tr>`)}</tbody>
  </table>`;
}

function CreateGrant({ keyId, onCreated }) {
  const [error, setError] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const body = {
      key_id: keyId,
      grantee_principal: form.get('grantee_principal'),
      grantee_principal_type: form.get('grantee_principal_type'),
      operations: form.getAll('operations'),
    };
    if (form.get('name')) body.name = form.get('name');
    if (form.get('retiring_principal')) body.retiring_principal = form.get('retiring_principal');
    try {
      await kms('create-grant', body);
      setError(null);
      formElement.reset();
      onCreated();
    } catch (e) {
      setError(e);
    }
  };
  return html`<form class="create-grant" onSubmit=${submit} aria-label="Create grant">
    <h2>Create a grant</h2>
    <div class="row">
      <label>Grantee principal <input name="grantee_principal" placeholder="user or account id" /></label>
      <label>Type <select name="grantee_principal_type"><option value="user">user</option><option value="domain">domain (account)</option></select></label>
      <label>Name <input name="name" placeholder="optional" /></label>
      <label>Retiring principal <input name="retiring_principal" placeholder="optional" /></label>
    </div>
    <fieldset><legend>Operations</legend>
      ${GRANT_OPERATIONS.map((op) => html`<label class="check"><input type="checkbox" name="operations" value=${op} /> ${op}</label>`)}
    </fieldset>
    <button type="submit">Create grant</button>
    <${RefusalNote} error=${error} />
  </form>`;
}

async function loadKey(keyId) {
  const [described, grants] = await Promise.all([
    kms('describe-key', { key_id: keyId }),
    kms('list-grants', { key_id: keyId, limit: '1000' }).catch((e) => ({ refused: e })),
  ]);
  const rotation = await kms('get-key-rotation-status', { key_id: keyId }).catch(() => null);
  return { key: described.key_info, grants, rotation };
}

function KeyPage({ keyId }) {
  const { data, error, reload } = useLoad(() => loadKey(keyId), [keyId]);
  const [actionError, setActionError] = useState(null);
  const act = (operation, grant) => async () => {
    try {
      await kms(operation, { key_id: keyId, grant_id: grant.grant_id });
      setActionError(null);
    } catch (e) {
      setActionError(e);
    }
    reload();
  };
  const key = data?.key;
  return html`<main>
    <p><a href="#/keys">← Keys</a></p>
    <h1>${key ? key.key_alias : keyId}</h1>
    <${RefusalNote} error=${error} />
    ${key && html`<dl class="details">
      <dt>Key ID</dt><dd><code>${key.key_id}</code></dd>
      <dt>State</dt><dd><span class=${`state state-${key.key_state}`}>${KEY_STATES[key.key_state] ?? key.key_state}</span></dd>
      <dt>Spec</dt><dd>${key.key_spec} · ${key.key_usage}</dd>
      <dt>Rotation</dt><dd>${data.rotation ? rotationText({ rotation: data.rotation }) : '—'}</dd>
      <dt>Description</dt><dd>${key.key_description || html`<span class="muted">none</span>`}</dd>
      <dt>Created</dt><dd>${formatTime(key.creation_date)}</dd>
      <dt>Account</dt><dd><code>${key.domain_id}</code></dd>
    </dl>
    <p><a href=${`#/trail?key=${key.key_id}`}>Audit trail of this key →</a></p>
    <h2>Grants</h2>
    <${RefusalNote} error=${actionError} />
    ${data.grants.refused
      ? html`<${RefusalNote} error=${data.grants.refused} />`
      : html`<${GrantTable} grants=${data.grants.grants} actions=${(g) => html`
          <button type="button" class="danger" onClick=${act('revoke-grant', g)}>Revoke</button>
          <button type="button" class="secondary" onClick=${act('retire-grant', g)}>Retire</button>`} />`}
    <${CreateGrant} keyId=${keyId} onCreated=${reload} />`}
  </main>`;
}

function Retirable() {
  const { data, error, reload } = useLoad(() => kms('list-retirable-grants', { limit: '1000' }), []);
  const [actionError, setActionError] = useState(null);
  const retire = (g) => async () => {
    try {
      await kms('retire-grant', { key_id: g.key_id, grant_id: g.grant_id });
      setActionError(null);
    } catch (e) {
      setActionError(e);
    }
    reload();
  };
  const retireById = async (event) => {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    await retire({ key_id: form.get('key_id').trim(), grant_id: form.get('grant_id').trim() })();
    formElement.reset();
  };
  return html`<main>
    <h1>Grants you may retire</h1>
    <p class="muted">Grants you issued, that name you as retiring principal, or that give you retire-grant
      (listing them takes the <code>kms:grant:list</code> action; retiring one does not).</p>
    <${RefusalNote} error=${error} />
    ${data && html`<${GrantTable} grants=${data.grants} actions=${(g) => html`
      <a href=${`#/keys/${g.key_id}`} class="muted">key</a>
      <button type="button" class="secondary" onClick=${retire(g)}>Retire</button>`} />`}
    <form class="filters retire-by-id" onSubmit=${retireById} aria-label="Retire a grant">
      <h2>Retire a grant by its ID</h2>
      <label>Key ID <input name="key_id" required size="38" /></label>
      <label>Grant ID <input name="grant_id" required size="66" /></label>
      <button type="submit" class="secondary">Retire</button>
    </form>
    <${RefusalNote} error=${actionError} />
  </main>`;
}

const toMs = (local) => (local ? String(Date.parse(local)) : '');
const errorCodeOf = (response) => {
  try {
    if (!response) return '';
    const body = JSON.parse(response);
    // KMS errors are nested, CSMS errors flat.
    return body.error?.error_code ?? body.error_code ?? '';
  } catch {
    return '';
  }
};

/** When the trail's hash chain was last verified intact (kmsd audit verify), and a failure since, if any. */
function Verification({ verification }) {
  if (!verification) return null;
  const { last_passed: passed, last_failed: failed, since_passed: since, unreadable = [] } = verification;
  const failedSince = failed && (!passed || failed.at > passed.at);
  // Read from the store's settings: anyone with write access to the database could have written them (docs/audit.md).
  const pass = passed
    ? html`Chain last verified intact <strong>${formatTime(Date.parse(passed.at))}</strong>: ${passed.records} records, up to record ${passed.head_seq} (${passed.head_hash.slice(0, 12)}…).`
    : html`The chain has never been verified: run <code>kmsd audit verify</code>.`;
  const now = !since
    ? ''
    : since.chains === true
      ? ` The head now, record ${since.head_seq}, still chains from it.`
      : since.chains === null
        ? ` The head now, record ${since.head_seq}, is too far past it to check here: run kmsd audit verify.`
        : ` The head now${since.head_seq === null ? '' : `, record ${since.head_seq},`} no longer chains from it: run kmsd audit verify.`;
  const broken = failedSince || (since && since.chains === false);
  const odd = unreadable.length > 0 ? ` The kept ${unreadable.join(' and ')} is not a verification kmsd wrote (ignored).` : '';
  return html`<p class=${broken ? 'verification broken' : 'verification'} role="status" aria-label="Verification">
    ${failedSince ? html`<strong>Chain broken</strong> (found ${formatTime(Date.parse(failed.at))}${failed.seq === null ? '' : `, at record ${failed.seq}`}): ${failed.reason}. ` : ''}${pass}${now}${odd}
  </p>`;
}

function Trail({ params }) {
  const [filter, setFilter] = useState({ key: params.get('key') ?? '', user: params.get('user') ?? '', from: '', to: '' });
  const [live, setLive] = useState(true);
  const [state, setState] = useState({ traces: null, error: null, at: null });
  const [verification, setVerification] = useState(null);
  const query = { resource_id: filter.key, user: filter.user, from: toMs(filter.from), to: toMs(filter.to) };
  useEffect(() => {
    let stopped = false;
    const poll = async () => {
      auditVerification().then((v) => !stopped && setVerification(v), () => !stopped && setVerification(null));
      try {
        const body = await listTraces(query);
        if (!stopped) setState({ traces: body.traces, error: null, at: new Date() });
      } catch (e) {
        if (!stopped) setState({ traces: null, error: e, at: new Date() });
      }
    };
    poll();
    const timer = live ? setInterval(poll, 2000) : null;
    return () => {
      stopped = true;
      if (timer) clearInterval(timer);
    };
  }, [filter.key, filter.user, filter.from, filter.to, live]);
  const submit = (event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setFilter({ key: form.get('key').trim(), user: form.get('user').trim(), from: form.get('from'), to: form.get('to') });
  };
  return html`<main>
    <h1>Audit trail</h1>
    <form class="filters" onSubmit=${submit} aria-label="Filter the trail">
      <label>Key or secret ID <input name="key" value=${filter.key} placeholder="any key or secret" size="38" /></label>
      <label>Principal <input name="user" value=${filter.user} placeholder="user or account id" /></label>
      <label>From <input name="from" type="datetime-local" step="1" value=${filter.from} /></label>
      <label>To <input name="to" type="datetime-local" step="1" value=${filter.to} /></label>
      <button type="submit">Filter</button>
      <label class="check"><input type="checkbox" checked=${live} onChange=${(e) => setLive(e.currentTarget.checked)} /> Live</label>
    </form>
    <p class="muted">Served by <code>GET /v3/{project_id}/traces</code> (CTS ListTraces), newest first${live ? ', refreshed every 2 seconds' : ''}.${state.at ? ` Updated ${state.at.toLocaleTimeString()}.` : ''}</p>
    <${Verification} verification=${verification} />
    <${RefusalNote} error=${state.error} />
    ${state.traces && (state.traces.length === 0 ? html`<p class="muted">No records.</p>` : html`<table class="trail">
      <thead><tr><th>Time</th><th>Operation</th><th>Outcome</th><th>Status</th><th>Error code</th><th>Principal</th><th>Key or secret</th><th>Request ID</th></tr></thead>
      <tbody>${state.traces.map((t) => html`<tr data-outcome=${t.message} class=${`outcome-${t.message}`}>
        <td>${formatTime(t.time)}</td>
        <td>${t.trace_name}</td>
        <td><span class=${`badge ${t.message}`}>${t.message}</span></td>
        <td class="num">${t.code}</td>
        <td><code>${errorCodeOf(t.response)}</code></td>
        <td title=${t.user.id}>${t.user.name || t.user.id || 'anonymous'}${t.user.domain.name ? html` <span class="muted">@ ${t.user.domain.name}</span>` : ''}</td>
        <td>${t.resource_type === 'secret'
          ? html`<a href=${`#/secrets/${encodeURIComponent(t.resource_name)}`}>${t.resource_name}</a>`
          : t.resource_id ? html`<a href=${`#/keys/${t.resource_id}`}><code>${t.resource_id.slice(0, 8)}…</code></a>` : ''}</td>
        <td><code class="muted">${t.request_id}</code></td>
      </tr>`)}</tbody>
    </table>`)}
  </main>`;
}

function App() {
  const [session, setSession] = useState(currentSession());
  const route = useHash();
  if (!session) return html`<${SignIn} onSignedIn=${setSession} />`;
  const out = () => {
    signOut();
    setSession(null);
  };
  let page;
  if (route.page === 'keys' && route.id) page = html`<${KeyPage} keyId=${route.id} />`;
  else if (route.page === 'secrets' && route.id) page = html`<${SecretPage} name=${route.id} useLoad=${useLoad} RefusalNote=${RefusalNote} />`;
  else if (route.page === 'secrets') page = html`<${Secrets} useLoad=${useLoad} RefusalNote=${RefusalNote} />`;
  else if (route.page === 'retirable') page = html`<${Retirable} />`;
  else if (route.page === 'trail') page = html`<${Trail} key=${route.params.toString()} params=${route.params} />`;
  else page = html`<${Keys} />`;
  return html`<${Nav} session=${session} page=${route.page} onSignOut=${out} />${page}`;
}

render(html`<${App} />`, document.getElementById('app'));
