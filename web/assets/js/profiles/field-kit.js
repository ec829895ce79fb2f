/**
 * profiles/field-kit.js — the fields of the profile form, each as a small object the form can
 * read, fill, point errors and warnings at, and focus.
 *
 * Owns: labelled text, number, select, checkbox and radio-group fields whose hint, error and
 * warning are read with them (`aria-describedby`), plus `slot()` for custom parts (the screen
 * table, the certificate list) that follow the same shape.
 * Exposes: `textSlot`, `numberSlot`, `selectSlot`, `checkSlot`, `radioSlot`, `slot`.
 * A slot is `{name, element, anchor, read(), write(value), setError(msg|null),
 * setWarning(msg|null), focus()}`; `name` is the contract's dotted path, so the server's
 * `field` lands on it.
 * Must not use: the API.
 */

import { h, uniqueId } from '../dom.js';
import { textField } from '../components/form.js';

function warningElement(id) {
  return h('p', { class: 'field-warning', id: `${id}-warning`, hidden: true });
}

function describe(el, ...ids) {
  const list = (el.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean);
  for (const id of ids) if (!list.includes(id)) list.push(id);
  el.setAttribute('aria-describedby', list.join(' '));
}

/** The common part: error and warning under `anchor` (whose id names them). */
export function slot({ name, element, anchor, read, write, focus }) {
  const find = (suffix) => element.querySelector(`[id="${CSS.escape(anchor.id)}-${suffix}"]`);
  const error = find('error');
  const warning = find('warning');
  const controls = () => (anchor.matches('input, select, textarea') ? [anchor] : [...anchor.querySelectorAll('input, select, textarea')]);
  return {
    name,
    element,
    anchor,
    read,
    write,
    focus: focus ?? (() => anchor.focus()),
    setError(message) {
      for (const control of controls()) {
        if (message) control.setAttribute('aria-invalid', 'true');
        else control.removeAttribute('aria-invalid');
      }
      element.classList.toggle('has-error', Boolean(message));
      if (error) {
        error.textContent = message ?? '';
        error.hidden = !message;
      }
    },
    setWarning(message) {
      if (!warning) return;
      warning.textContent = message ?? '';
      warning.hidden = !message;
    },
  };
}

/** A text input (or textarea). `empty: null` reads a blank field as null. */
export function textSlot({ name, label, hint, required = false, multiline = false, rows = 3, attrs = {}, type = 'text', transform = (v) => v }) {
  const id = uniqueId(`profile-${name.replaceAll('.', '-')}`);
  const { field, input } = textField({ id, name, label, hint, required, multiline, rows, type, attrs: { autocomplete: 'off', ...attrs } });
  field.append(warningElement(id));
  describe(input, `${id}-warning`);
  return slot({
    name, element: field, anchor: input,
    read: () => {
      const value = input.value.trim();
      return value === '' ? (required ? '' : null) : transform(value);
    },
    write: (value) => { input.value = value ?? ''; },
  });
}

/** A whole-number input; reads null when empty and NaN-free numbers otherwise. */
export function numberSlot({ name, label, hint, min, max, unit }) {
  const id = uniqueId(`profile-${name.replaceAll('.', '-')}`);
  const { field, input } = textField({
    id, name, label, hint, required: false, type: 'number',
    attrs: { min, max, step: '1', inputmode: 'numeric', class: 'input-number', autocomplete: 'off' },
  });
  if (unit) input.after(h('span', { class: 'unit muted' }, unit));
  field.append(warningElement(id));
  describe(input, `${id}-warning`);
  return slot({
    name, element: field, anchor: input,
    read: () => {
      const text = input.value.trim();
      if (text === '') return null;
      const n = Number(text);
      return Number.isFinite(n) ? n : text;
    },
    write: (value) => { input.value = value ?? ''; },
  });
}

/** A select; options are [value, words]; `null` values are written as ''. */
export function selectSlot({ name, label, hint, options, attrs = {} }) {
  const id = uniqueId(`profile-${name.replaceAll('.', '-')}`);
  const hintId = `${id}-hint`;
  const select = h('select', { id, name, 'aria-describedby': [hint ? hintId : null, `${id}-error`, `${id}-warning`].filter(Boolean).join(' '), ...attrs },
    options.map(([value, words]) => h('option', { value: value ?? '' }, words)));
  const element = h('div', { class: 'field', dataset: { field: name } },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    select,
    h('p', { class: 'field-error', id: `${id}-error`, hidden: true }),
    warningElement(id));
  return slot({
    name, element, anchor: select,
    read: () => {
      const found = options.find(([value]) => String(value ?? '') === select.value);
      return found ? found[0] : null;
    },
    write: (value) => { select.value = value === null || value === undefined ? '' : String(value); },
  });
}

/** A checkbox with its label beside it and an optional hint below. */
export function checkSlot({ name, label, hint }) {
  const id = uniqueId(`profile-${name.replaceAll('.', '-')}`);
  const hintId = `${id}-hint`;
  const input = h('input', { type: 'checkbox', id, name, 'aria-describedby': [hint ? hintId : null, `${id}-error`, `${id}-warning`].filter(Boolean).join(' ') });
  const element = h('div', { class: ['field', 'field-check'], dataset: { field: name } },
    h('div', { class: 'check-row' }, input, h('label', { for: id }, label)),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'field-error', id: `${id}-error`, hidden: true }),
    warningElement(id));
  return slot({
    name, element, anchor: input,
    read: () => input.checked,
    write: (value) => { input.checked = Boolean(value); },
  });
}

/**
 * Radio buttons in a fieldset; options are [value, words, hint]. Several values may be
 * chosen with `multiple: true` (checkboxes then), read as an array in the options' order.
 */
export function radioSlot({ name, legend, hint, options, multiple = false, inline = false }) {
  const id = uniqueId(`profile-${name.replaceAll('.', '-')}`);
  const group = h('fieldset', {
    class: ['field', 'field-group', inline ? 'is-inline' : null], id, dataset: { field: name }, tabindex: '-1',
    'aria-describedby': [hint ? `${id}-hint` : null, `${id}-error`, `${id}-warning`].filter(Boolean).join(' '),
  }, h('legend', {}, legend), hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null);
  const inputs = options.map(([value, words, optionHint], i) => {
    const inputId = `${id}-${i}`;
    const input = h('input', {
      type: multiple ? 'checkbox' : 'radio', id: inputId, name: multiple ? `${name}[]` : name, value,
      'aria-describedby': optionHint ? `${inputId}-hint` : null,
    });
    group.append(h('div', { class: 'choice' },
      h('div', { class: 'check-row' }, input, h('label', { for: inputId }, words)),
      optionHint ? h('p', { class: 'hint', id: `${inputId}-hint` }, optionHint) : null));
    return input;
  });
  group.append(h('p', { class: 'field-error', id: `${id}-error`, hidden: true }), warningElement(id));
  return {
    ...slot({
      name, element: group, anchor: group,
      read: () => (multiple ? inputs.filter((i) => i.checked).map((i) => i.value) : (inputs.find((i) => i.checked)?.value ?? null)),
      write: (value) => {
        const wanted = new Set(multiple ? (value ?? []) : [value]);
        for (const input of inputs) input.checked = wanted.has(input.value);
      },
      focus: () => (inputs.find((i) => i.checked) ?? inputs[0]).focus(),
    }),
    inputs,
  };
}
