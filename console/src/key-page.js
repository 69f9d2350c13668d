// One key's page: its details and every change Huawei's console offers on it, each through the
// operation the SDKs call (enable/disable, schedule and cancel deletion, rotation, description,
// tags, aliases, grants). Each form shows its own notice or refusal; deleting asks first.
// (The key's record is passed as `info`: `key` is Preact's own prop.)
import { useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { Refusal, kms, kmsAt } from './api.js';
import { CreateGrant, GrantTable, askGrant } from './grants.js';
import { rotationText } from './keys.js';
import { Confirm, CopyButton, KEY_STATES, Outcome, RefusalNote, formatTime, useAction, useLoad, usePeople } from './ui.js';

const refused = (error) => ({ refused: error });

/** Key ids are UUIDs; anything else in the page's address (#/keys/%2E%2E) is never put in a request path. */
const KEY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Only symmetric keys of kmsd's own keystore, with material it made, rotate (others get KMS.0324, 0341, 0312 or 0338). */
const ROTATING_SPECS = ['AES_256', 'SM4'];
export const canRotate = (key) => ROTATING_SPECS.includes(key.key_spec) && key.origin !== 'external' && (key.keystore_id ?? '0') === '0';

/** The interval update-key-rotation-interval accepts, in days. */
const ROTATION_DAYS = { min: 30, max: 365 };

async function loadKey(keyId) {
  if (!KEY_ID.test(keyId)) throw new Error(`"${keyId}" is not a key ID (a UUID): nothing was asked for.`);
  const [described, grants, rotation, tags, aliases] = await Promise.all([
    kms('describe-key', { key_id: keyId }),
    kms('list-grants', { key_id: keyId, limit: '1000' }).catch(refused),
    kms('get-key-rotation-status', { key_id: keyId }).catch(() => null),
    kmsAt('GET', `${encodeURIComponent(keyId)}/tags`).catch(refused),
    kmsAt('GET', `aliases?key_id=${encodeURIComponent(keyId)}`).catch(refused),
  ]);
  return { key: described.key_info, grants, rotation, tags, aliases };
}

/** Enable/disable, and deletion: scheduled (7 to 1096 days pending) or cancelled. */
function Lifecycle({ info: key, done, setAsk }) {
  const [outcome, run, busy] = useAction();
  const act = (operation, body, notice) => run(() => kms(operation, { key_id: key.key_id, ...body }), notice).then(done);
  const schedule = (event) => {
    event.preventDefault();
    const days = String(new FormData(event.currentTarget).get('pending_days')).trim();
    setAsk({
      title: 'Schedule deletion?',
      text: `Key ${key.key_alias} (${key.key_id}) will be deleted after ${days} days. Until then it cannot be used, and its deletion can be cancelled; once deleted, whatever it encrypted can never be decrypted again.`,
      confirm: 'Schedule deletion',
      action: () => act('schedule-key-deletion', { pending_days: days }, `Key ${key.key_alias} will be deleted after ${days} days.`),
    });
  };
  const state = key.key_state;
  return html`<section class="card" aria-label="State">
    <h2>State</h2>
    ${state === '2' ? html`<button type="button" class="secondary" disabled=${busy} onClick=${() => act('disable-key', {}, `Key ${key.key_alias} disabled.`)}>Disable key</button>` : null}
    ${state === '3' ? html`<button type="button" disabled=${busy} onClick=${() => act('enable-key', {}, `Key ${key.key_alias} enabled.`)}>Enable key</button>` : null}
    ${state === '4'
      ? html`<p>Deletion scheduled for <strong>${formatTime(key.scheduled_deletion_date)}</strong>.</p>
        <button type="button" disabled=${busy} onClick=${() => act('cancel-key-deletion', {}, `Deletion of key ${key.key_alias} cancelled; the key is disabled.`)}>Cancel deletion</button>`
      : html`<form class="row inline" onSubmit=${schedule} aria-label="Schedule deletion">
        <label>Pending days (7–1096) <input name="pending_days" type="number" min="7" max="1096" defaultValue="7" required /></label>
        <button type="submit" class="danger" disabled=${busy}>Schedule deletion</button>
      </form>`}
    <${Outcome} outcome=${outcome} />
  </section>`;
}

/**
 * Rotation on (with its interval, 30 to 365 days) or off; not offered for keys that cannot rotate.
 * Turning it on takes two calls (enable-key-rotation, then update-key-rotation-interval): the
 * interval is checked first, and if the second call is refused after the first succeeded, the
 * page says that rotation is on at its previous interval and why the new one was refused.
 */
function Rotation({ info: key, rotation, done }) {
  const [outcome, run, busy] = useAction();
  const on = rotation?.key_rotation_enabled === true;
  const id = key.key_id;
  const submit = (event) => {
    event.preventDefault();
    const interval = Number(String(new FormData(event.currentTarget).get('rotation_interval')).trim());
    if (!Number.isInteger(interval) || interval < ROTATION_DAYS.min || interval > ROTATION_DAYS.max) {
      run(() => Promise.reject(new Error(`The interval must be a whole number of days from ${ROTATION_DAYS.min} to ${ROTATION_DAYS.max}; nothing was changed.`)));
      return;
    }
    const work = async () => {
      if (!on) await kms('enable-key-rotation', { key_id: id });
      if (!on || interval !== rotation.rotation_interval) {
        try {
          await kms('update-key-rotation-interval', { key_id: id, rotation_interval: interval });
        } catch (error) {
          if (on || !(error instanceof Refusal)) throw error;
          // While off, the status says 0 days: the interval kept for enabling is asked now.
          const status = await kms('get-key-rotation-status', { key_id: id }).catch(() => null);
          const previous = status?.key_rotation_enabled ? `every ${status.rotation_interval} days (its previous interval)` : 'at its previous interval';
          throw new Error(`Rotation was turned on, ${previous}, but the interval of ${interval} days was refused: ${error.code} ${error.detail} (HTTP ${error.status}).`);
        }
      }
    };
    run(work, on ? `Rotation interval set to ${interval} days.` : `Rotation on, every ${interval} days.`).then(done);
  };
  const off = () => run(() => kms('disable-key-rotation', { key_id: id }), 'Rotation off.').then(done);
  if (!canRotate(key)) {
    return html`<section class="card" aria-label="Rotation">
      <h2>Rotation</h2>
      <p class="muted">Only symmetric keys (AES_256, SM4) whose material kmsd made rotate; this key does not.</p>
    </section>`;
  }
  return html`<section class="card" aria-label="Rotation">
    <h2>Rotation</h2>
    <p>${rotation ? (on ? `On: every ${rotation.rotation_interval} days` : 'Off') : 'Not available for this key'}${rotation?.last_rotation_time ? ` · last rotated ${formatTime(rotation.last_rotation_time)}` : ''}</p>
    <form class="row inline" onSubmit=${submit} aria-label="Rotation interval">
      <label>Interval in days (30–365) <input name="rotation_interval" type="number" min=${ROTATION_DAYS.min} max=${ROTATION_DAYS.max} step="1" defaultValue=${on ? rotation.rotation_interval : ROTATION_DAYS.max} required /></label>
      <button type="submit" disabled=${busy}>${on ? 'Change interval' : 'Turn rotation on'}</button>
      ${on ? html`<button type="button" class="secondary" disabled=${busy} onClick=${off}>Turn rotation off</button>` : null}
    </form>
    <${Outcome} outcome=${outcome} />
  </section>`;
}

function Description({ info: key, done }) {
  const [outcome, run, busy] = useAction();
  const submit = (event) => {
    event.preventDefault();
    const text = String(new FormData(event.currentTarget).get('key_description'));
    run(() => kms('update-key-description', { key_id: key.key_id, key_description: text }), 'Description saved.').then(done);
  };
  return html`<form class="row inline" onSubmit=${submit} aria-label="Description">
    <label class="wide">Description <input name="key_description" defaultValue=${key.key_description} maxlength="255" /></label>
    <button type="submit" class="secondary" disabled=${busy}>Save description</button>
    <${Outcome} outcome=${outcome} />
  </form>`;
}

function Tags({ keyId, tags, done, setAsk }) {
  const [outcome, run, busy] = useAction();
  const add = async (event) => {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const tag = { key: form.get('key'), value: form.get('value') };
    if (await run(() => kmsAt('POST', `${encodeURIComponent(keyId)}/tags`, { tag, action: 'create' }), `Tag ${tag.key} added.`)) formElement.reset();
    done();
  };
  const remove = (tag) => setAsk({
    title: 'Delete tag?',
    text: `The tag ${tag.key}=${tag.value} will be removed from this key (identity policies that match on it stop matching).`,
    confirm: 'Delete tag',
    action: () => run(() => kmsAt('DELETE', `${encodeURIComponent(keyId)}/tags/${encodeURIComponent(tag.key)}`), `Tag ${tag.key} deleted.`).then(done),
  });
  return html`<section class="card" aria-label="Tags">
    <h2>Tags</h2>
    ${tags.refused ? html`<${RefusalNote} error=${tags.refused} />` : tags.tags.length === 0 ? html`<p class="muted">No tags.</p>` : html`<ul class="chips">
      ${tags.tags.map((t) => html`<li data-tag=${t.key}><code>${t.key}</code>=<code>${t.value}</code>
        <button type="button" class="danger small" aria-label=${`Delete tag ${t.key}`} onClick=${() => remove(t)}>×</button></li>`)}
    </ul>`}
    <form class="row inline" onSubmit=${add} aria-label="Add tag">
      <label>Tag key <input name="key" required maxlength="128" /></label>
      <label>Tag value <input name="value" maxlength="255" /></label>
      <button type="submit" class="secondary" disabled=${busy}>Add tag</button>
    </form>
    <${Outcome} outcome=${outcome} />
  </section>`;
}

function Aliases({ keyId, aliases, done, setAsk }) {
  const [outcome, run, busy] = useAction();
  const submit = (operation) => async (event) => {
    event.preventDefault();
    const formElement = event.currentTarget;
    const alias = String(new FormData(formElement).get('alias')).trim();
    const ok = operation === 'create'
      ? await run(() => kmsAt('POST', 'aliases', { key_id: keyId, alias }), `Alias ${alias} created.`)
      : await run(() => kmsAt('POST', 'alias/associate', { alias, target_key_id: keyId }), `Alias ${alias} now names this key.`);
    if (ok) formElement.reset();
    done();
  };
  const remove = (alias) => setAsk({
    title: 'Delete alias?',
    text: `The alias ${alias} will be deleted: callers naming the key by it will fail. The key itself stays.`,
    confirm: 'Delete alias',
    action: () => run(() => kmsAt('DELETE', 'aliases', { key_id: keyId, aliases: [alias] }), `Alias ${alias} deleted.`).then(done),
  });
  return html`<section class="card" aria-label="Aliases">
    <h2>Aliases</h2>
    ${aliases.refused ? html`<${RefusalNote} error=${aliases.refused} />` : aliases.aliases.length === 0 ? html`<p class="muted">No aliases.</p>` : html`<ul class="chips">
      ${aliases.aliases.map((a) => html`<li data-alias=${a.alias}><code>${a.alias}</code>
        <button type="button" class="danger small" aria-label=${`Delete alias ${a.alias}`} onClick=${() => remove(a.alias)}>×</button></li>`)}
    </ul>`}
    <form class="row inline" onSubmit=${submit('create')} aria-label="Create alias">
      <label>New alias <input name="alias" required placeholder="alias/..." /></label>
      <button type="submit" class="secondary" disabled=${busy}>Create alias</button>
    </form>
    <form class="row inline" onSubmit=${submit('associate')} aria-label="Associate alias">
      <label>Existing alias <input name="alias" required placeholder="alias of another key" /></label>
      <button type="submit" class="secondary" disabled=${busy}>Move it to this key</button>
    </form>
    <${Outcome} outcome=${outcome} />
  </section>`;
}

function Grants({ keyId, grants, people, done, setAsk }) {
  const [outcome, run, busy] = useAction();
  const act = (verb, operation, g) => setAsk(askGrant(verb, g, people, () =>
    run(() => kms(operation, { key_id: keyId, grant_id: g.grant_id }), `Grant ${g.grant_id} ${verb === 'Revoke' ? 'revoked' : 'retired'}.`).then(done)));
  return html`<section aria-label="Grants">
    <h2>Grants</h2>
    <${Outcome} outcome=${outcome} />
    ${grants.refused
      ? html`<${RefusalNote} error=${grants.refused} />`
      : html`<${GrantTable} grants=${grants.grants} people=${people} actions=${(g) => html`
          <button type="button" class="danger" disabled=${busy} onClick=${() => act('Revoke', 'revoke-grant', g)}>Revoke</button>
          <button type="button" class="secondary" disabled=${busy} onClick=${() => act('Retire', 'retire-grant', g)}>Retire</button>`} />`}
    <${CreateGrant} keyId=${keyId} people=${people} onCreated=${done} />
  </section>`;
}

export function KeyPage({ keyId }) {
  const { data, error, reload } = useLoad(() => loadKey(keyId), [keyId]);
  const people = usePeople();
  const [ask, setAsk] = useState(null);
  const key = data?.key;
  return html`<main>
    <p><a href="#/keys">← Keys</a></p>
    <h1>${key ? key.key_alias : keyId}</h1>
    <${RefusalNote} error=${error} />
    ${key && html`<dl class="details">
      <dt>Key ID</dt><dd><code class="id">${key.key_id}</code> <${CopyButton} text=${key.key_id} label="key ID" /></dd>
      <dt>State</dt><dd><span class=${`state state-${key.key_state}`} data-state=${key.key_state}>${KEY_STATES[key.key_state] ?? key.key_state}</span></dd>
      <dt>Spec</dt><dd>${key.key_spec} · ${key.key_usage}</dd>
      <dt>Rotation</dt><dd>${data.rotation ? rotationText({ rotation: data.rotation }) : '—'}</dd>
      <dt>Created</dt><dd>${formatTime(key.creation_date)}</dd>
      <dt>Account</dt><dd>${people.nameOf(key.domain_id, 'domain') ?? html`<code class="id">${key.domain_id}</code>`}</dd>
    </dl>
    <${Description} info=${key} done=${reload} />
    <p><a href=${`#/trail?key=${key.key_id}`}>Audit trail of this key →</a></p>
    <div class="cards">
      <${Lifecycle} info=${key} done=${reload} setAsk=${setAsk} />
      <${Rotation} info=${key} rotation=${data.rotation} done=${reload} />
      <${Tags} keyId=${keyId} tags=${data.tags} done=${reload} setAsk=${setAsk} />
      <${Aliases} keyId=${keyId} aliases=${data.aliases} done=${reload} setAsk=${setAsk} />
    </div>
    <${Grants} keyId=${keyId} grants=${data.grants} people=${people} done=${reload} setAsk=${setAsk} />`}
    <${Confirm} ask=${ask} onClose=${() => setAsk(null)} />
  </main>`;
}
