/**
 * form.js — the helpers every form uses so forms behave alike.
 *
 * Owns: labelled fields (label, hint and error wired through `aria-describedby`), field and
 * form-level errors, validation as you type for local rules, busy buttons that say what they
 * wait for, disabled buttons that say why, and one submit routine that puts the API's field
 * errors next to the field and keeps what was typed when saving fails.
 * Exposes: `textField`, `fileToField`, `setFieldError`, `clearFieldError`, `showFormError`,
 * `clearFormErrors`, `liveValidate`, `setBusy`, `setDisabledReason`, `disableUntil`,
 * `applyApiError`, `runSubmit`, `actionsRow`.
 * Must not use: the API directly (callers pass the request as `submit`).
 */

import { h, uniqueId } from '../dom.js';
import { formatCountdown } from '../format.js';

/**
 * A labelled input (or textarea with `multiline`). Every input gets a `<label>`; the hint and
 * the error are read with it. Returns `{field, input}`.
 */
export function textField({
  id = uniqueId('field'), name, label, type = 'text', hint, autocomplete, required = true,
  value, multiline = false, rows = 6, attrs = {},
}) {
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const common = {
    id, name, required, autocomplete,
    'aria-describedby': [hint ? hintId : null, errorId].filter(Boolean).join(' '),
    ...attrs,
  };
  const input = multiline
    ? h('textarea', { ...common, rows, spellcheck: 'false' })
    : h('input', { ...common, type });
  if (value !== undefined && value !== null) input.value = value;
  const field = h('div', { class: 'field', dataset: { field: name } },
    h('label', { for: id }, label, required ? null : h('span', { class: 'optional' }, ' (optional)')),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    input,
    h('p', { class: 'field-error', id: errorId, hidden: true }));
  return { field, input };
}

function errorElement(input) {
  return document.getElementById(`${input.id}-error`);
}

/** Shows `message` under the input and marks it invalid. */
export function setFieldError(input, message) {
  const el = errorElement(input);
  input.setAttribute('aria-invalid', 'true');
  input.closest('.field')?.classList.add('has-error');
  if (el) {
    el.textContent = message;
    el.hidden = false;
  }
}

export function clearFieldError(input) {
  const el = errorElement(input);
  input.removeAttribute('aria-invalid');
  input.closest('.field')?.classList.remove('has-error');
  if (el) {
    el.textContent = '';
    el.hidden = true;
  }
}

function formErrorBox(form) {
  let box = form.querySelector(':scope > .form-error');
  if (!box) {
    box = h('div', { class: 'form-error', id: form.id ? `${form.id}-error` : null, role: 'alert', tabindex: '-1', hidden: true });
    form.prepend(box);
  }
  return box;
}

/** An error that belongs to the whole form (bad credentials, network), at its top. */
export function showFormError(form, message) {
  const box = formErrorBox(form);
  box.textContent = message;
  box.hidden = false;
  return box;
}

export function clearFormErrors(form) {
  const box = form.querySelector(':scope > .form-error');
  if (box) {
    box.textContent = '';
    box.hidden = true;
  }
  for (const input of form.querySelectorAll('[aria-invalid="true"]')) clearFieldError(input);
}

// A field left by pressing a button would show its error at once and push the button down
// before the mouse is released, so the click would miss it. While a pointer is down, the
// check waits until it is released (and the click has landed).
let pointerDown = false;
document.addEventListener('pointerdown', () => { pointerDown = true; }, true);
document.addEventListener('pointerup', () => { pointerDown = false; }, true);
document.addEventListener('pointercancel', () => { pointerDown = false; }, true);

function afterPointer(fn) {
  if (!pointerDown) {
    fn();
    return;
  }
  const later = () => setTimeout(fn, 0);
  document.addEventListener('pointerup', later, { once: true, capture: true });
}

/**
 * Validates a field as the admin types: once the field has been left (or shows an error), every
 * keystroke re-checks it, so an error disappears the moment it is fixed. `validate(value)`
 * returns a message or null. Returns a function that checks now and returns the message; its
 * `reset()` makes the field fresh again (a form emptied after a successful save).
 */
export function liveValidate(input, validate) {
  let touched = false;
  const check = () => {
    const message = validate(input.value);
    if (message) setFieldError(input, message);
    else clearFieldError(input);
    return message;
  };
  input.addEventListener('input', () => {
    if (touched || input.getAttribute('aria-invalid') === 'true') check();
  });
  input.addEventListener('blur', () => {
    if (input.value !== '') touched = true;
    if (touched) afterPointer(check);
  });
  const checkNow = () => {
    touched = true;
    return check();
  };
  checkNow.reset = () => {
    touched = false;
    clearFieldError(input);
  };
  return checkNow;
}

/** A row for a form's buttons with a place for the reason a button is disabled. */
export function actionsRow(...buttons) {
  return h('div', { class: 'actions' }, buttons);
}

const reasons = new WeakMap();

/** The text beside a button that says why it is disabled (made on first use). */
function reasonElement(button, create) {
  let el = reasons.get(button) ?? null;
  if (!el && create) {
    el = h('span', { class: 'button-reason', id: uniqueId('reason'), 'aria-live': 'polite' });
    reasons.set(button, el);
    button.after(el); // no-op while the button is not on the page yet; the text is still kept
    const described = button.getAttribute('aria-describedby');
    button.setAttribute('aria-describedby', described ? `${described} ${el.id}` : el.id);
  }
  return el;
}

/** Disables a button and says why next to it; `reason: null` enables it again. */
export function setDisabledReason(button, reason) {
  button.disabled = Boolean(reason);
  const el = reasonElement(button, Boolean(reason));
  if (el) el.textContent = reason || '';
}

/**
 * Disables a button until a moment (epoch ms) and counts down next to it ("You can try again
 * in 4:32."), e.g. a login lockout or the next allowed sync. The sentence is announced once;
 * the ticking number is not. Calls `onEnd` when the time has come; `signal` stops it early.
 * Returns a function that enables the button at once.
 */
export function disableUntil(button, until, { text = 'Available again in', countdownId, signal, onEnd } = {}) {
  const countdown = h('span', { id: countdownId, class: 'countdown', 'aria-live': 'off' },
    formatCountdown((until - Date.now()) / 1000));
  setDisabledReason(button, text);
  reasonElement(button, true).replaceChildren(`${text} `, countdown, '.');
  let timer = null;
  const stop = () => {
    clearInterval(timer);
    setDisabledReason(button, null);
  };
  timer = setInterval(() => {
    const left = (until - Date.now()) / 1000;
    countdown.textContent = formatCountdown(left);
    if (left <= 0) {
      stop();
      onEnd?.();
    }
  }, 1000);
  signal?.addEventListener('abort', () => clearInterval(timer));
  return stop;
}

/**
 * Marks a button busy while its work runs: disabled, a spinner, and a label that says what it
 * waits for ("Saving…"). Returns the function that restores it.
 */
export function setBusy(button, busyLabel = 'Working…') {
  const original = [...button.childNodes];
  const hadFocus = document.activeElement === button;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.replaceChildren(h('span', { class: 'spinner', 'aria-hidden': 'true' }), busyLabel);
  return () => {
    button.replaceChildren(...original);
    button.removeAttribute('aria-busy');
    button.disabled = false;
    // Disabling moved focus to the page; give it back so the keyboard stays where it was.
    if (hadFocus && button.isConnected && (document.activeElement === document.body || !document.activeElement)) button.focus();
  };
}

/**
 * Puts an API error where it belongs: next to the named field when the form has it, else at
 * the top of the form. Moves focus there so keyboard and screen-reader users land on it.
 * Returns true when it was shown (a 401 or an aborted request is not).
 */
export function applyApiError(form, err) {
  if (!err || err.name === 'AbortError' || err.code === 'unauthenticated') return false;
  const input = err.field ? form.querySelector(`[name="${CSS.escape(err.field)}"]`) : null;
  if (input) {
    setFieldError(input, err.message);
    input.focus();
  } else {
    showFormError(form, err.message || String(err)).focus();
  }
  return true;
}

/**
 * The one submit routine. `validate()` returns `[{input, message}]` for local rules (the first
 * bad field gets focus); `submit()` does the request; `onSuccess(result)` runs after it. On
 * failure nothing typed is cleared. A second submit while one runs is ignored.
 */
export async function runSubmit(form, { button, busyLabel, validate, submit, onSuccess, onError }) {
  if (form.dataset.busy === 'true') return;
  clearFormErrors(form);
  const problems = (validate?.() ?? []).filter((p) => p && p.message);
  if (problems.length > 0) {
    for (const { input, message } of problems) setFieldError(input, message);
    problems[0].input.focus();
    return;
  }
  form.dataset.busy = 'true';
  const restore = button ? setBusy(button, busyLabel) : () => {};
  let result;
  let failed = null;
  try {
    result = await submit();
  } catch (err) {
    failed = err;
  } finally {
    form.dataset.busy = 'false';
    restore();
  }
  if (failed) {
    if (!onError?.(failed)) applyApiError(form, failed);
    return;
  }
  await onSuccess?.(result);
}

/** The text of `bytes` when they are text (UTF-8 without control characters), else null. */
export function textOf(bytes) {
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  // Tabs and line ends are text; other control characters (NUL above all) mean a binary file.
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? null : text;
}

/**
 * Lets the admin choose a file instead of pasting: reads it as text into `target` (a
 * textarea). Files over `maxBytes` and binary files are refused with a message on the target
 * field; the target keeps what it held and the chooser keeps showing the chosen file.
 */
export function fileToField(target, { label, accept, maxBytes = 256 * 1024, id = uniqueId('file') }) {
  const input = h('input', { type: 'file', id, accept, class: 'file-input' });
  input.addEventListener('change', async () => {
    const file = input.files?.[0];
    if (!file) return;
    if (file.size > maxBytes) {
      setFieldError(target, `“${file.name}” is ${Math.ceil(file.size / 1024)} KiB; the file expected here is at most ${Math.round(maxBytes / 1024)} KiB. Choose the right file.`);
      return;
    }
    let text;
    try {
      text = textOf(new Uint8Array(await file.arrayBuffer()));
    } catch {
      setFieldError(target, `Could not read “${file.name}”. Choose the file again or paste its contents.`);
      return;
    }
    if (text === null) {
      setFieldError(target, `“${file.name}” is a binary file, not the text file expected here. Choose the file as it was downloaded (it opens as text in an editor).`);
      return;
    }
    target.value = text;
    clearFieldError(target);
    target.dispatchEvent(new Event('input', { bubbles: true }));
  });
  return h('div', { class: 'file-choice' }, h('label', { for: id }, label), input);
}
