/**
 * filterbar.js — the filter bar above a data table.
 *
 * Owns: one labelled control per filter (text with optional suggestions, or a select), apply
 * as you type (after a short pause), at once for selects and on Enter, and a "Clear filters"
 * button shown only while a filter is set.
 * Exposes: `filterBar({id, label, filters, values, onChange})` → `{element, sync(values)}`.
 * Must not use: the API or the URL (the table owns both).
 */

import { h } from '../dom.js';

const TYPING_PAUSE_MS = 400;

export function filterBar({ id, label, filters, values, onChange }) {
  const inputs = new Map();
  let timer = null;

  const current = () => Object.fromEntries([...inputs].map(([name, input]) => [name, input.value.trim()]));
  const emit = (push) => {
    clearTimeout(timer);
    onChange(current(), { push });
    refreshClear();
  };

  const controls = filters.map((filter) => {
    const inputId = `${id}-filter-${filter.name}`;
    let input;
    if (filter.options) {
      input = h('select', { id: inputId, name: filter.name },
        filter.options.map((o) => h('option', { value: o.value }, o.label)));
      input.addEventListener('change', () => emit(true));
    } else {
      const listId = filter.suggestions ? `${inputId}-list` : null;
      input = h('input', {
        id: inputId, name: filter.name, type: 'search', placeholder: filter.placeholder,
        list: listId, autocomplete: 'off', spellcheck: 'false',
      });
      input.addEventListener('input', () => {
        clearTimeout(timer);
        timer = setTimeout(() => emit(false), TYPING_PAUSE_MS);
      });
    }
    input.value = values[filter.name] ?? '';
    inputs.set(filter.name, input);
    const datalist = filter.suggestions ? h('datalist', { id: `${inputId}-list` }, filter.suggestions.map((s) => h('option', { value: s }))) : null;
    return h('div', { class: 'filter', dataset: { filter: filter.name } },
      h('label', { for: inputId }, filter.label), input, datalist);
  });

  const clearButton = h('button', { type: 'button', class: 'button button-small', id: `${id}-clear-filters` }, 'Clear filters');
  clearButton.addEventListener('click', () => {
    for (const input of inputs.values()) input.value = '';
    emit(true);
    inputs.values().next().value?.focus();
  });

  const element = h('form', { class: 'filter-bar', role: 'search', 'aria-label': label, id: `${id}-filters` },
    controls,
    h('div', { class: 'filter-actions' },
      h('button', { type: 'submit', class: 'button button-small' }, 'Apply'),
      clearButton));
  element.addEventListener('submit', (event) => {
    event.preventDefault();
    emit(true);
  });

  function refreshClear() {
    clearButton.hidden = Object.values(current()).every((v) => v === '');
  }

  /** Shows `values` (after Back/Forward) without applying anything. */
  function sync(next) {
    for (const [name, input] of inputs) input.value = next[name] ?? '';
    refreshClear();
  }

  refreshClear();
  return { element, sync };
}
