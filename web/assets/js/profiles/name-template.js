/**
 * profiles/name-template.js — the device name template field: placeholder buttons that insert
 * at the cursor, and a live preview of an example name and of the longest name the template
 * can make, with its length against the 63-character limit.
 *
 * Exposes: `nameTemplateSlot()` → a field slot (field-kit.js) named `device_name_template`.
 * Element ids for tests: #name-template-preview, #name-template-longest, #name-template-length,
 * insert buttons data-placeholder="<KEY>".
 * Must not use: the API.
 */

import { h } from '../dom.js';
import { textSlot } from './field-kit.js';
import { MAX_DEVICE_NAME, TEMPLATE_PLACEHOLDERS, expandTemplate } from './rules.js';

export function nameTemplateSlot() {
  const field = textSlot({
    name: 'device_name_template',
    label: 'Device name template',
    hint: 'Names each device when it enrolls: the appliance sends the name right after the device checks in. Leave empty to keep the names devices give themselves.',
    attrs: { spellcheck: 'false', placeholder: 'e.g. SCHOOL-{{SERIAL}}' },
  });
  const input = field.anchor;

  const buttons = TEMPLATE_PLACEHOLDERS.map((p) => {
    const button = h('button', { type: 'button', class: 'button button-small', dataset: { placeholder: p.key } },
      `{{${p.key}}}`, h('span', { class: 'sr-only' }, ` (insert the ${p.words.toLowerCase()})`));
    button.addEventListener('click', () => {
      const start = input.selectionStart ?? input.value.length;
      const end = input.selectionEnd ?? start;
      const text = `{{${p.key}}}`;
      input.value = input.value.slice(0, start) + text + input.value.slice(end);
      input.focus();
      input.setSelectionRange(start + text.length, start + text.length);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    return button;
  });

  const example = h('span', { class: 'mono', id: 'name-template-preview' });
  const longest = h('span', { class: 'mono', id: 'name-template-longest' });
  const length = h('span', { id: 'name-template-length', class: 'template-length' });
  const preview = h('div', { class: 'template-preview', 'aria-live': 'polite' },
    h('p', {}, h('span', { class: 'muted' }, 'Example: '), example),
    h('p', {}, h('span', { class: 'muted' }, 'Longest possible: '), longest),
    h('p', {}, length));

  function refresh() {
    const value = input.value;
    preview.hidden = value.trim() === '';
    if (preview.hidden) return;
    example.textContent = expandTemplate(value, { use: 'example' }).text;
    const worst = expandTemplate(value);
    longest.textContent = worst.text;
    const over = worst.length > MAX_DEVICE_NAME;
    length.textContent = `${worst.length} of ${MAX_DEVICE_NAME} characters at most${over ? ' — too long' : ''}`;
    length.classList.toggle('is-over', over);
  }
  input.addEventListener('input', refresh);

  input.closest('.field').querySelector('.field-error').before(
    h('div', { class: 'placeholder-row' }, h('span', { class: 'muted small' }, 'Insert:'), buttons), preview);
  refresh();
  return { ...field, write: (value) => { field.write(value); refresh(); } };
}
