// kmsd's web console: Preact components written with htm (tagged templates, no build-time JSX),
// over the public API only (see api.js). Pages are chosen by the location hash.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { auditVerification, currentSession, listTraces, signIn, signOut } from './api.js';
import { Retirable } from './grants.js';
import { KeyPage } from './key-page.js';
import { Keys } from './keys.js';
import { SecretPage, Secrets } from './secrets.js';
import { RefusalNote, formatTime, useLoad } from './ui.js';

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
    ${state.traces && (state.traces.length === 0 ? html`<p class="muted">No records.</p>` : html`<div class="table"><table class="trail">
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
    </table></div>`)}
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
