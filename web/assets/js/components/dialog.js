/**
 * dialog.js — modal dialogs: plain confirmation, typed confirmation, and a general dialog.
 *
 * Owns: the native `<dialog>` shown modally (the rest of the page is inert), a Tab/Shift+Tab
 * trap inside it, Escape to cancel (not while its action runs), focus returned to where it was,
 * and running the confirmed action inside the dialog so a failure is shown there and the admin
 * can retry or cancel.
 * Exposes: `openDialog`, `confirmDialog`, `confirmButton` (a row action such as Delete or
 * Revoke that asks first and then reports what happened).
 * Must not use: the API directly (callers pass the request as `action`).
 */

import { h, uniqueId } from '../dom.js';
import { setBusy, setDisabledReason, textField } from './form.js';
import { toast } from './toast.js';

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * Opens a modal dialog. `body`: nodes; `buttons`: nodes placed in the footer.
 * `onCancel()` returns false to keep it open. Returns `{dialog, close(value), result}` where
 * `result` resolves with the value given to `close` (null when cancelled).
 */
export function openDialog({ title, body, buttons = [], id = uniqueId('dialog'), onCancel, className }) {
  const titleId = `${id}-title`;
  const returnTo = document.activeElement;
  let resolve;
  const result = new Promise((r) => { resolve = r; });
  const dialog = h('dialog', { id, class: ['dialog', className], 'aria-labelledby': titleId },
    h('h2', { id: titleId, class: 'dialog-title' }, title),
    h('div', { class: 'dialog-body' }, body),
    h('div', { class: 'dialog-actions' }, buttons));

  let closed = false;
  const close = (value = null) => {
    if (closed) return;
    closed = true;
    dialog.close();
    dialog.remove();
    if (returnTo instanceof HTMLElement && returnTo.isConnected) returnTo.focus();
    resolve(value);
  };

  dialog.addEventListener('cancel', (event) => {
    // Escape: the browser would close the dialog on its own; decide here instead.
    event.preventDefault();
    if (onCancel?.() === false) return;
    close(null);
  });
  dialog.addEventListener('keydown', (event) => {
    if (event.key !== 'Tab') return;
    const items = [...dialog.querySelectorAll(FOCUSABLE)].filter((el) => el.offsetParent !== null);
    if (items.length === 0) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });

  document.body.append(dialog);
  dialog.showModal();
  const autofocus = dialog.querySelector('[autofocus]') || dialog.querySelector(FOCUSABLE);
  autofocus?.focus();
  return { dialog, close, result };
}

/**
 * Asks before acting, saying what will happen. With `typed: 'alice'` the confirm button stays
 * disabled (and says why) until the admin types that name exactly. `action()` runs inside the
 * dialog: its result closes the dialog and resolves the promise; a thrown error is shown in the
 * dialog. Resolves null when cancelled.
 */
export function confirmDialog({
  title, message, confirmLabel = 'Confirm', busyLabel = 'Working…', danger = false,
  typed = null, action = async () => true, id = uniqueId('confirm'),
}) {
  let busy = false;
  const errorBox = h('p', { class: 'dialog-error', role: 'alert', hidden: true });
  const confirm = h('button', {
    type: 'submit', id: `${id}-confirm`, class: ['button', danger ? 'button-danger' : 'button-primary'],
  }, confirmLabel);
  const cancel = h('button', { type: 'button', id: `${id}-cancel`, class: 'button' }, 'Cancel');

  let typedInput = null;
  let typedField = null;
  if (typed !== null) {
    const built = textField({
      id: `${id}-typed`, name: 'typed', label: h('span', {}, 'To confirm, type ', h('strong', { class: 'typed-name' }, typed)),
      autocomplete: 'off', attrs: { spellcheck: 'false', autocapitalize: 'off', autofocus: true },
    });
    typedInput = built.input;
    typedField = built.field;
  }

  const form = h('form', { class: 'dialog-form', method: 'dialog', novalidate: true },
    [message].flat().map((m) => (typeof m === 'string' ? h('p', {}, m) : m)), typedField, errorBox);

  const { dialog, close, result } = openDialog({
    title, id, body: form, buttons: [cancel, confirm],
    onCancel: () => !busy,
  });
  // The buttons sit in the footer; tie them to the form so Enter in the typed field submits.
  form.id = `${id}-form`;
  confirm.setAttribute('form', form.id);

  const refresh = () => {
    if (typedInput && typedInput.value !== typed) setDisabledReason(confirm, `Type ${typed} to enable this button.`);
    else setDisabledReason(confirm, null);
  };
  typedInput?.addEventListener('input', refresh);
  refresh();
  // Without a typed name, start on the safe choice when the action destroys something.
  if (!typedInput) (danger ? cancel : confirm).focus();

  cancel.addEventListener('click', () => { if (!busy) close(null); });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy || confirm.disabled) return;
    busy = true;
    errorBox.hidden = true;
    cancel.disabled = true;
    const restore = setBusy(confirm, busyLabel);
    try {
      const value = await action();
      close(value ?? true);
    } catch (err) {
      restore();
      cancel.disabled = false;
      busy = false;
      refresh();
      if (err?.code === 'unauthenticated') {
        close(null);
        return;
      }
      errorBox.textContent = err?.message || String(err);
      errorBox.hidden = false;
    }
  });
  dialog.dataset.confirm = typed === null ? 'plain' : 'typed';
  return result;
}

/**
 * A small danger button for one row: `label` is visible, `name` completes it for screen
 * readers ("Delete bob"); a click opens `confirmDialog(dialog)`, and once the action is done
 * says `doneMessage` and calls `onDone`.
 */
export function confirmButton({ label, name, dataset, dialog, doneMessage, onDone }) {
  const button = h('button', { type: 'button', class: 'button button-small button-danger-quiet', dataset },
    label, h('span', { class: 'sr-only' }, ` ${name}`));
  button.addEventListener('click', async () => {
    const done = await confirmDialog({ danger: true, ...dialog });
    if (done) {
      // The row (and this button) is about to be redrawn: keep the reader in the same panel.
      const heading = button.closest('.panel')?.querySelector('.panel-title');
      toast(doneMessage);
      onDone?.(done);
      heading?.focus();
    }
  });
  return button;
}
