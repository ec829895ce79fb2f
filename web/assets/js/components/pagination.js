/**
 * pagination.js — the pager under a data table: First / Previous / "Page 3 of 25" / Next /
 * Last, and rows per page.
 *
 * Exposes: `pagination({id, label, pageSizes, onPage, onLimit})` → `{element, update(state,
 * total)}`. Buttons that cannot be used are disabled; the page count is text.
 * Must not use: the API or the URL.
 */

import { h } from '../dom.js';
import { formatNumber } from '../format.js';

export function pagination({ id, label, pageSizes, onPage, onLimit }) {
  const button = (key, text, aria) => h('button', {
    type: 'button', class: 'button button-small', id: `${id}-page-${key}`, 'aria-label': aria, dataset: { page: key },
  }, text);
  const first = button('first', '« First', 'First page');
  const prev = button('prev', '‹ Previous', 'Previous page');
  const next = button('next', 'Next ›', 'Next page');
  const last = button('last', 'Last »', 'Last page');
  const where = h('span', { class: 'page-where' });
  const sizeId = `${id}-page-size`;
  const size = h('select', { id: sizeId }, pageSizes.map((n) => h('option', { value: String(n) }, formatNumber(n))));

  let state = { limit: pageSizes[0], offset: 0 };
  let total = 0;
  const lastOffset = () => Math.max(0, Math.floor((Math.max(total, 1) - 1) / state.limit) * state.limit);

  let lastUsed = null;
  const go = (btn, offset) => btn.addEventListener('click', () => {
    lastUsed = btn;
    onPage(offset());
  });
  go(first, () => 0);
  go(prev, () => Math.max(0, state.offset - state.limit));
  go(next, () => Math.min(lastOffset(), state.offset + state.limit));
  go(last, lastOffset);
  size.addEventListener('change', () => onLimit(Number(size.value)));

  // Hidden until the first page has loaded: there is nothing to page through before that.
  const element = h('nav', { class: 'pagination', 'aria-label': label, hidden: true },
    h('div', { class: 'pager' }, first, prev, where, next, last),
    h('div', { class: 'page-size' }, h('label', { for: sizeId }, 'Rows per page'), size));

  function update(nextState, nextTotal) {
    state = nextState;
    total = nextTotal;
    const pages = Math.max(1, Math.ceil(total / state.limit));
    const page = Math.floor(state.offset / state.limit) + 1;
    where.textContent = `Page ${formatNumber(page)} of ${formatNumber(pages)}`;
    first.disabled = prev.disabled = state.offset === 0;
    next.disabled = last.disabled = state.offset + state.limit >= total;
    size.value = String(state.limit);
    element.hidden = state.offset === 0 && total <= Math.min(...pageSizes);
    // A button that was just used may have become disabled (the last page was reached);
    // keep the keyboard on the pager instead of dropping focus to the page.
    const focused = document.activeElement;
    if (lastUsed?.disabled && (focused === lastUsed || focused === document.body || !focused)) {
      [prev, next, first, last].find((b) => !b.disabled)?.focus();
    }
    lastUsed = null;
  }

  return { element, update, lastOffset };
}
