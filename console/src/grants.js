// Grants: the table (full ids, copyable; principals by name), the create form (grantee and
// retiring principal chosen by name from the account's users, or given by id), and the page of
// grants the caller may retire. Revoking and retiring ask first.
import { useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { kms } from './api.js';
import { Confirm, CopyButton, Outcome, Principal, RefusalNote, formatTime, useAction, useLoad, usePeople } from './ui.js';

const GRANT_OPERATIONS = [
  'create-datakey', 'create-datakey-without-plaintext', 'encrypt-datakey', 'decrypt-datakey', 'describe-key',
  'create-grant', 'retire-grant', 'encrypt-data', 'decrypt-data',
];

export function GrantTable({ grants, people, actions }) {
  if (grants.length === 0) return html`<p class="muted">No grants.</p>`;
  return html`<div class="table"><table class="grants">
    <thead><tr><th>Grant ID</th><th>Name</th><th>Grantee</th><th>Operations</th><th>Retiring principal</th><th>Created</th><th></th></tr></thead>
    <tbody>${grants.map((g) => html`<tr data-grant=${g.grant_id}>
      <td data-label="Grant ID"><code class="id grant-id">${g.grant_id}</code> <${CopyButton} text=${g.grant_id} label="grant ID" /></td>
      <td data-label="Name">${g.name ?? ''}</td>
      <td data-label="Grantee"><${Principal} people=${people} id=${g.grantee_principal} type=${g.grantee_principal_type} /></td>
      <td data-label="Operations">${g.operations.join(', ')}</td>
      <td data-label="Retiring principal">${g.retiring_principal ? html`<${Principal} people=${people} id=${g.retiring_principal} />` : ''}</td>
      <td data-label="Created">${formatTime(g.creation_date)}</td>
      <td class="actions">${actions(g)}</td>
    </tr>`)}</tbody>
  </table></div>`;
}

const OTHER = 'other';

/**
 * A principal chosen by name from the account's users, or given by id ("Another principal").
 * A required one starts at "choose…" when the users are listed (never at the first of them,
 * often the signed-in administrator): nothing is granted to someone nobody picked.
 */
function PrincipalChooser({ people, label, name, optional, withAccount }) {
  const users = people.users ?? [];
  const first = optional || users.length > 0 ? '' : OTHER;
  const [choice, setChoice] = useState(first);
  return html`<span class="chooser">
    <label>${label}
      <select name=${`${name}_choice`} aria-label=${label} value=${choice} required=${!optional} onChange=${(e) => setChoice(e.currentTarget.value)}>
        ${optional ? html`<option value="">none</option>` : users.length > 0 ? html`<option value="">choose…</option>` : null}
        ${users.map((u) => html`<option value=${`user:${u.id}`}>${u.name}@${people.account.name}</option>`)}
        ${withAccount ? html`<option value=${`domain:${people.account.id}`}>${people.account.name} (the whole account)</option>` : null}
        <option value=${OTHER}>Another principal (by ID)…</option>
      </select>
    </label>
    ${choice === OTHER ? html`<label>${label} ID <input name=${`${name}_id`} placeholder="user or account id" size="34" /></label>` : null}
    ${choice === OTHER && withAccount
      ? html`<label>Type <select name=${`${name}_type`} aria-label="Type"><option value="user">user</option><option value="domain">domain (account)</option></select></label>`
      : null}
  </span>`;
}

/** The principal and its type a chooser's fields name. */
function chosen(form, name) {
  const choice = form.get(`${name}_choice`);
  if (choice === OTHER) return { id: String(form.get(`${name}_id`) ?? '').trim(), type: form.get(`${name}_type`) ?? 'user' };
  if (!choice) return null;
  const [type, id] = String(choice).split(':');
  return { id, type };
}

export function CreateGrant({ keyId, people, onCreated }) {
  const [outcome, run, busy] = useAction();
  // Bumped after a success: the choosers start again (form.reset() clears the rest).
  const [generation, setGeneration] = useState(0);
  const submit = async (event) => {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const grantee = chosen(form, 'grantee');
    if (!grantee) {
      run(() => Promise.reject(new Error('Choose a grantee: nothing was sent.')));
      return;
    }
    const body = { key_id: keyId, grantee_principal: grantee.id, grantee_principal_type: grantee.type, operations: form.getAll('operations') };
    if (form.get('name')) body.name = form.get('name');
    const retiring = chosen(form, 'retiring');
    if (retiring?.id) body.retiring_principal = retiring.id;
    let created = null;
    const ok = await run(async () => {
      created = await kms('create-grant', body);
    }, 'Grant created.');
    if (ok) {
      formElement.reset();
      setGeneration((g) => g + 1);
      onCreated(created.grant_id);
    }
  };
  // Keyed by whether the users are known, so that the choosers start from the list once it arrives.
  return html`<form class="card create-grant" onSubmit=${submit} aria-label="Create grant">
    <h2>Create a grant</h2>
    <div class="row" key=${`${people.users ? 'named' : 'ids'}-${generation}`}>
      <${PrincipalChooser} people=${people} label="Grantee" name="grantee" withAccount=${true} />
      <label>Name <input name="name" placeholder="optional" /></label>
      <${PrincipalChooser} people=${people} label="Retiring principal" name="retiring" optional=${true} />
    </div>
    <fieldset><legend>Operations</legend>
      ${GRANT_OPERATIONS.map((op) => html`<label class="check"><input type="checkbox" name="operations" value=${op} /> ${op}</label>`)}
    </fieldset>
    <button type="submit" disabled=${busy}>Create grant</button>
    <${Outcome} outcome=${outcome} />
  </form>`;
}

/** The question before revoking or retiring a grant: what the grantee loses. */
export function askGrant(verb, grant, people, action) {
  const who = people.nameOf(grant.grantee_principal, grant.grantee_principal_type) ?? grant.grantee_principal;
  const label = grant.name ? `"${grant.name}" (${grant.grant_id})` : grant.grant_id;
  return {
    title: `${verb} grant?`,
    text: `${verb === 'Revoke' ? 'Revoking' : 'Retiring'} grant ${label} ends it now: ${who} can no longer ${grant.operations.join(', ')} with key ${grant.key_id}. This cannot be undone.`,
    confirm: `${verb} grant`,
    action,
  };
}

export function Retirable() {
  const people = usePeople();
  const { data, error, reload } = useLoad(() => kms('list-retirable-grants', { limit: '1000' }), []);
  const [outcome, run, busy] = useAction();
  const [byId, runById, busyById] = useAction();
  const [ask, setAsk] = useState(null);
  const retire = (g, using = run) => using(() => kms('retire-grant', { key_id: g.key_id, grant_id: g.grant_id }), `Grant ${g.grant_id} retired.`)
    .then((ok) => {
      reload();
      return ok;
    });
  const retireById = (event) => {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const grant = { key_id: form.get('key_id').trim(), grant_id: form.get('grant_id').trim(), grantee_principal: 'its grantee', operations: ['use it'] };
    setAsk({
      title: 'Retire grant?',
      text: `Retiring grant ${grant.grant_id} of key ${grant.key_id} ends it now: its grantee can no longer use it. This cannot be undone.`,
      confirm: 'Retire grant',
      action: async () => {
        if (await retire(grant, runById)) formElement.reset();
      },
    });
  };
  return html`<main>
    <h1>Grants you may retire</h1>
    <p class="muted">Grants you issued, that name you as retiring principal, or that give you retire-grant
      (listing them takes the <code>kms:grant:list</code> action; retiring one does not).</p>
    <${RefusalNote} error=${error} />
    <${Outcome} outcome=${outcome} />
    ${data && html`<${GrantTable} grants=${data.grants} people=${people} actions=${(g) => html`
      <a href=${`#/keys/${g.key_id}`} class="muted">key</a>
      <button type="button" class="secondary" disabled=${busy} onClick=${() => setAsk(askGrant('Retire', g, people, () => retire(g)))}>Retire</button>`} />`}
    <form class="card filters retire-by-id" onSubmit=${retireById} aria-label="Retire a grant">
      <h2>Retire a grant by its ID</h2>
      <label>Key ID <input name="key_id" required size="38" /></label>
      <label>Grant ID <input name="grant_id" required size="66" /></label>
      <button type="submit" class="secondary" disabled=${busyById}>Retire</button>
      <${Outcome} outcome=${byId} />
    </form>
    <${Confirm} ask=${ask} onClose=${() => setAsk(null)} />
  </main>`;
}
