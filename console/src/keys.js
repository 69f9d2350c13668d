// The keys list and the form that creates a key (alias, spec and usage, description), through
// create-key as the SDKs call it.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { kms } from './api.js';
import { KEY_STATES, Outcome, RefusalNote, formatTime, useAction, useLoad } from './ui.js';

/** The specs create-key takes, with the usages each allows (the first is the default). */
export const KEY_SPECS = {
  AES_256: ['ENCRYPT_DECRYPT'], SM4: ['ENCRYPT_DECRYPT'],
  RSA_2048: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'], RSA_3072: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'], RSA_4096: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'],
  EC_P256: ['SIGN_VERIFY'], EC_P384: ['SIGN_VERIFY'], SECP256K1: ['SIGN_VERIFY'], ED25519: ['SIGN_VERIFY'],
  SM2: ['SIGN_VERIFY', 'ENCRYPT_DECRYPT'],
  HMAC_256: ['GENERATE_VERIFY_MAC'], HMAC_384: ['GENERATE_VERIFY_MAC'], HMAC_512: ['GENERATE_VERIFY_MAC'], HMAC_SM3: ['GENERATE_VERIFY_MAC'],
};

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

export function rotationText(key) {
  if (!key.rotation) return key.key_rotation_enabled === 'true' ? 'on' : 'off';
  return key.rotation.key_rotation_enabled ? `every ${key.rotation.rotation_interval} days` : 'off';
}

function CreateKey({ onCreated }) {
  const [outcome, run, busy] = useAction();
  const [spec, setSpec] = useState('AES_256');
  const submit = async (event) => {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const body = { key_alias: form.get('key_alias'), key_spec: form.get('key_spec'), key_usage: form.get('key_usage') };
    if (form.get('key_description')) body.key_description = form.get('key_description');
    let created = null;
    const ok = await run(async () => {
      created = await kms('create-key', body);
    }, () => html`Key <a href=${`#/keys/${created.key_info.key_id}`}>${body.key_alias}</a> created: <code class="id">${created.key_info.key_id}</code>.`);
    if (ok) {
      formElement.reset();
      setSpec('AES_256');
      onCreated(created.key_info.key_id);
    }
  };
  return html`<form class="card create-key" onSubmit=${submit} aria-label="Create key">
    <h2>Create a key</h2>
    <div class="row">
      <label>Alias <input name="key_alias" required placeholder="e.g. payments" /></label>
      <label>Key spec <select name="key_spec" aria-label="Key spec" value=${spec} onChange=${(e) => setSpec(e.currentTarget.value)}>
        ${Object.keys(KEY_SPECS).map((s) => html`<option value=${s}>${s}</option>`)}
      </select></label>
      <label>Usage <select name="key_usage" aria-label="Usage" key=${spec}>
        ${KEY_SPECS[spec].map((u) => html`<option value=${u}>${u}</option>`)}
      </select></label>
      <label class="wide">Description <input name="key_description" placeholder="optional" maxlength="255" /></label>
    </div>
    <button type="submit" disabled=${busy}>Create key</button>
    <${Outcome} outcome=${outcome} />
  </form>`;
}

export function Keys() {
  const { data, error, loading, reload } = useLoad(loadKeys, []);
  return html`<main>
    <h1>Keys</h1>
    <${RefusalNote} error=${error} />
    ${loading && !data ? html`<p class="muted">Loading…</p>` : null}
    ${data && html`<div class="table"><table class="keys">
      <thead><tr><th>Alias</th><th>Key ID</th><th>State</th><th>Spec</th><th>Rotation</th><th>Grants</th><th>Created</th></tr></thead>
      <tbody>${data.map((key) => html`<tr data-key=${key.key_id}>
        <td data-label="Alias"><a href=${`#/keys/${key.key_id}`}>${key.key_alias}</a></td>
        <td data-label="Key ID"><code class="id">${key.key_id}</code></td>
        <td data-label="State"><span class=${`state state-${key.key_state}`}>${KEY_STATES[key.key_state] ?? key.key_state}</span></td>
        <td data-label="Spec">${key.key_spec}</td>
        <td data-label="Rotation">${rotationText(key)}</td>
        <td data-label="Grants" class="num">${key.grants ?? '—'}</td>
        <td data-label="Created">${formatTime(key.creation_date)}</td>
      </tr>`)}</tbody>
    </table></div>`}
    ${data && data.length === 0 ? html`<p class="muted">No keys.</p>` : null}
    <${CreateKey} onCreated=${reload} />
  </main>`;
}
