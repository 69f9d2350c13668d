// The console's secrets pages (CSMS): the list, and one secret with its versions and stages.
// A value is fetched only when its "Show value" button is pressed, and shown until the page
// is left; nothing caches it.
import { useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { csms } from './api.js';

const formatTime = (ms) => (ms ? new Date(Number(ms)).toLocaleString() : '');
const path = (name) => `secrets/${encodeURIComponent(name)}`;

async function loadSecrets() {
  const all = [];
  let marker = null;
  do {
    const page = await csms('GET', `secrets?limit=1000${marker ? `&marker=${encodeURIComponent(marker)}` : ''}`);
    all.push(...page.secrets);
    marker = page.page_info.next_marker;
  } while (marker);
  return all;
}

export function Secrets({ useLoad, RefusalNote }) {
  const { data, error, loading } = useLoad(loadSecrets, []);
  return html`<main>
    <h1>Secrets</h1>
    <${RefusalNote} error=${error} />
    ${loading && !data ? html`<p class="muted">Loading…</p>` : null}
    ${data && html`<div class="table"><table class="secrets">
      <thead><tr><th>Name</th><th>State</th><th>KMS key</th><th>Description</th><th>Created</th></tr></thead>
      <tbody>${data.map((s) => html`<tr data-secret=${s.name}>
        <td><a href=${`#/secrets/${encodeURIComponent(s.name)}`}>${s.name}</a></td>
        <td><span class=${`state secret-${s.state}`}>${s.state}</span></td>
        <td><a href=${`#/keys/${s.kms_key_id}`}><code>${s.kms_key_id.slice(0, 8)}…</code></a></td>
        <td>${s.description}</td>
        <td>${formatTime(s.create_time)}</td>
      </tr>`)}</tbody>
    </table></div>`}
    ${data && data.length === 0 ? html`<p class="muted">No secrets.</p>` : null}
  </main>`;
}

async function loadSecret(name) {
  const [shown, versions] = await Promise.all([csms('GET', path(name)), csms('GET', `${path(name)}/versions?limit=1000`)]);
  return { secret: shown.secret, versions: versions.version_metadatas };
}

/** One version's value, fetched on request only. */
function Value({ name, versionId, RefusalNote }) {
  const [state, setState] = useState({ value: null, error: null });
  const show = async () => {
    try {
      const { version } = await csms('GET', `${path(name)}/versions/${versionId}`);
      setState({ value: version.secret_string ?? `base64: ${version.secret_binary}`, error: null });
    } catch (e) {
      setState({ value: null, error: e });
    }
  };
  if (state.value !== null) {
    return html`<span><code class="value" data-value=${versionId}>${state.value}</code>
      <button type="button" class="secondary" onClick=${() => setState({ value: null, error: null })}>Hide</button></span>`;
  }
  return html`<span><button type="button" class="secondary" onClick=${show}>Show value</button><${RefusalNote} error=${state.error} /></span>`;
}

function MoveStage({ name, onMoved, RefusalNote }) {
  const [error, setError] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    try {
      await csms('PUT', `${path(name)}/stages/${encodeURIComponent(form.get('stage').trim())}`, { version_id: form.get('version').trim() });
      setError(null);
      formElement.reset();
      onMoved();
    } catch (e) {
      setError(e);
    }
  };
  return html`<form class="filters" onSubmit=${submit} aria-label="Put a stage on a version">
    <h2>Put a stage on a version</h2>
    <label>Stage <input name="stage" required placeholder="e.g. canary" /></label>
    <label>Version <input name="version" required placeholder="v1" size="6" /></label>
    <button type="submit">Put</button>
    <${RefusalNote} error=${error} />
  </form>`;
}

export function SecretPage({ name, useLoad, RefusalNote }) {
  const { data, error, reload } = useLoad(() => loadSecret(name), [name]);
  const [actionError, setActionError] = useState(null);
  const deleteStage = (stage) => async () => {
    try {
      await csms('DELETE', `${path(name)}/stages/${encodeURIComponent(stage)}`);
      setActionError(null);
    } catch (e) {
      setActionError(e);
    }
    reload();
  };
  const secret = data?.secret;
  return html`<main>
    <p><a href="#/secrets">← Secrets</a></p>
    <h1>${name}</h1>
    <${RefusalNote} error=${error} />
    ${secret && html`<dl class="details">
      <dt>Secret ID</dt><dd><code>${secret.id}</code></dd>
      <dt>State</dt><dd>${secret.state}${secret.scheduled_delete_time ? ` (deleted on ${formatTime(secret.scheduled_delete_time)})` : ''}</dd>
      <dt>KMS key</dt><dd><a href=${`#/keys/${secret.kms_key_id}`}><code>${secret.kms_key_id}</code></a></dd>
      <dt>Description</dt><dd>${secret.description || html`<span class="muted">none</span>`}</dd>
      <dt>Created</dt><dd>${formatTime(secret.create_time)}</dd>
    </dl>
    <p><a href=${`#/trail?key=${secret.id}`}>Audit trail of this secret →</a></p>
    <h2>Versions</h2>
    <${RefusalNote} error=${actionError} />
    <div class="table"><table class="versions">
      <thead><tr><th>Version</th><th>Stages</th><th>Created</th><th>Expires</th><th>Value</th></tr></thead>
      <tbody>${data.versions.map((v) => html`<tr data-version=${v.id}>
        <td>${v.id}</td>
        <td>${v.version_stages.map((s) => html`<span class="badge">${s}</span>${s === 'SYSCURRENT' || s === 'SYSPREVIOUS' ? '' : html`<button type="button" class="danger" title=${`Delete the stage ${s}`} onClick=${deleteStage(s)}>×</button>`} `)}</td>
        <td>${formatTime(v.create_time)}</td>
        <td>${formatTime(v.expire_time)}</td>
        <td><${Value} name=${name} versionId=${v.id} RefusalNote=${RefusalNote} /></td>
      </tr>`)}</tbody>
    </table></div>
    <${MoveStage} name=${name} onMoved=${reload} RefusalNote=${RefusalNote} />`}
  </main>`;
}
