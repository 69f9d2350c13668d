// Pieces every page uses: loading, the outcome of an action (a notice, or the refusal next to
// the form that caused it), the confirmation asked before destructive actions, a copy button,
// and principals shown by name.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { html } from 'htm/preact';
import { Refusal, accountUsers, currentSession } from './api.js';

export const formatTime = (ms) => (ms ? new Date(Number(ms)).toLocaleString() : '');

export const KEY_STATES = { 1: 'Pending creation', 2: 'Enabled', 3: 'Disabled', 4: 'Pending deletion', 5: 'Pending import' };

/** Loads with `load`, again whenever `deps` change or reload() is called; the last data stays shown while reloading. */
export function useLoad(load, deps) {
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

export function RefusalNote({ error }) {
  if (!error) return null;
  if (error instanceof Refusal) {
    return html`<p class="refusal" role="alert"><strong class="code">${error.code}</strong> ${error.detail} <span class="status">(HTTP ${error.status})</span></p>`;
  }
  return html`<p class="refusal" role="alert">${String(error.message ?? error)}</p>`;
}

/**
 * One form's (or button's) outcome. run(work, notice) calls the API; on success the notice (or
 * what notice() returns, once the work is done) is
 * shown (and the caller may reset its form), on a refusal the refusal is shown here and the
 * form keeps what was typed. Returns whether it succeeded.
 *
 * While a request runs, `busy` is true (its buttons are disabled) and another run() is ignored
 * (it returns false at once): a double click sends one request, not two.
 */
export function useAction() {
  const [outcome, setOutcome] = useState({ notice: null, error: null });
  const [busy, setBusy] = useState(false);
  // The guard itself: a second click arrives before the disabled button is rendered.
  const running = useRef(false);
  const run = useCallback(async (work, notice) => {
    if (running.current) return false;
    running.current = true;
    setBusy(true);
    try {
      await work();
      setOutcome({ notice: typeof notice === 'function' ? notice() : notice, error: null });
      return true;
    } catch (error) {
      setOutcome({ notice: null, error });
      return false;
    } finally {
      running.current = false;
      setBusy(false);
    }
  }, []);
  return [outcome, run, busy];
}

export function Outcome({ outcome }) {
  if (outcome.error) return html`<${RefusalNote} error=${outcome.error} />`;
  if (outcome.notice) return html`<p class="notice" role="status">${outcome.notice}</p>`;
  return null;
}

/**
 * The question asked before revoking, retiring or deleting: a modal dialog that names what will
 * happen. `ask` is { title, text, confirm (the button's label), action }; null closes it.
 */
export function Confirm({ ask, onClose }) {
  const dialog = useRef(null);
  useEffect(() => {
    const d = dialog.current;
    if (ask && d && !d.open) d.showModal();
    if (!ask && d?.open) d.close();
  }, [ask]);
  const confirm = async () => {
    const action = ask.action;
    onClose();
    await action();
  };
  return html`<dialog ref=${dialog} class="confirm" aria-label=${ask?.title ?? 'Confirm'} onClose=${() => ask && onClose()}>
    ${ask && html`<h2>${ask.title}</h2>
      <p>${ask.text}</p>
      <div class="buttons">
        <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
        <button type="button" class="danger" onClick=${confirm}>${ask.confirm}</button>
      </div>`}
  </dialog>`;
}

/** Pages served over plain HTTP to another host have no navigator.clipboard: the older way. */
function copyBySelection(text) {
  const area = document.createElement('textarea');
  area.value = text;
  area.className = 'offscreen';
  area.setAttribute('readonly', '');
  document.body.append(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  if (!ok) throw new Error('copy refused');
}

/** A button that copies `text` (a whole id) to the clipboard, and says so. */
export function CopyButton({ text, label }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      if (navigator.clipboard) await navigator.clipboard.writeText(text);
      else copyBySelection(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false);
    }
  };
  return html`<button type="button" class="copy secondary" title=${`Copy ${label}`} aria-label=${`Copy ${label}`} onClick=${copy}>${copied ? 'Copied' : 'Copy'}</button>`;
}

/**
 * The account's users, by id (null when the caller may not list them). The signed-in user is
 * always known by name.
 */
export function usePeople() {
  const session = currentSession();
  const [users, setUsers] = useState(null);
  useEffect(() => {
    let live = true;
    accountUsers().then((u) => live && setUsers(u));
    return () => {
      live = false;
    };
  }, [session?.token]);
  const byId = new Map((users ?? [{ id: session.user.id, name: session.user.name }]).map((u) => [u.id, u.name]));
  return {
    /** The account's users, or null if they cannot be listed. */
    users,
    account: session.account,
    /** user@account for a user of this account, "account (account)" for it, else the id itself. */
    nameOf(id, type = 'user') {
      if (type === 'domain') return id === session.account.id ? `${session.account.name} (account)` : null;
      const name = byId.get(id);
      return name ? `${name}@${session.account.name}` : null;
    },
  };
}

/** A principal by name when known (its id in the title), else its full id. */
export function Principal({ people, id, type }) {
  const name = people.nameOf(id, type);
  return name ? html`<span class="principal" title=${id}>${name}</span>` : html`<code class="id">${id}</code>`;
}
