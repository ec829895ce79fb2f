/**
 * table.js — the data table every list page uses.
 *
 * Owns: server-side pagination (limit/offset), sortable headers with `aria-sort`, the filter
 * bar, the view state kept in the URL query (bookmarkable, Back/Forward work), the loading,
 * empty and error states, a summary line announced to screen readers, and the CSV export hook.
 * Exposes: `dataTable(options)` → `{element, reload(), applyQuery(params), destroy()}`.
 *   options.id            the root's id and `data-table`, and the prefix of inner ids
 *   options.caption       what the table lists (read by screen readers)
 *   options.columns       [{key, label, sortable, firstDir, render(row) → node|text,
 *                          csv(row) | false, csvLabel, className}]
 *   options.fetchPage     async ({limit, offset, sort, filters, signal}) → {items, total}
 *   options.filters       [{name, label, options?: [{value, label}], placeholder, suggestions}]
 *   options.bindUrl       keep the state in the URL query (default true); `prefix` namespaces it
 *   options.defaultLimit, pageSizes, defaultSort {key, dir}, rowKey(row), noun {one, many}
 *   options.empty         {title, text} when there is nothing at all
 *   options.exportCsv     {fileBase, maxRows} to offer "Export CSV"
 *   options.onRender      (items, total, state) after each page is shown (a selection's header box)
 * Must not use: the API directly (the page passes `fetchPage`).
 */

import { h, replaceChildren } from '../dom.js';
import { formatNumber } from '../format.js';
import { setQuery } from '../router.js';
import { exportButton } from './table-export.js';
import { filterBar } from './filterbar.js';
import { pagination } from './pagination.js';
import { hasActiveFilters, readTableState, writeTableState } from './table-state.js';

const LOADING_DIM_DELAY_MS = 200;

export function dataTable(options) {
  const o = {
    bindUrl: true, prefix: '', defaultLimit: 50, pageSizes: [25, 50, 100, 200], defaultSort: null,
    filters: [], rowKey: (row) => row.id, noun: { one: 'row', many: 'rows' },
    empty: { title: 'Nothing here yet', text: '' }, exportCsv: null,
    ...options,
  };
  const stateOptions = {
    prefix: o.prefix, defaultLimit: o.defaultLimit, pageSizes: o.pageSizes, defaultSort: o.defaultSort,
    sortKeys: o.columns.filter((c) => c.sortable).map((c) => c.key), filters: o.filters,
  };
  let state = readTableState(o.bindUrl ? new URLSearchParams(window.location.search) : new URLSearchParams(), stateOptions);
  let controller = null;
  let loadedOnce = false;
  let destroyed = false;

  const summary = h('p', { class: 'table-summary', id: `${o.id}-summary`, 'aria-live': 'polite' });
  const tbody = h('tbody');
  const headRow = h('tr');
  const table = h('table', { class: 'data', id: `${o.id}-table`, 'aria-describedby': summary.id },
    h('caption', { class: 'sr-only' }, o.caption), h('thead', {}, headRow), tbody);

  const filters = o.filters.length ? filterBar({
    id: o.id, label: `Filter ${o.caption}`, filters: o.filters, values: state.filters,
    onChange: (values, { push }) => update({ filters: values, offset: 0 }, { push }),
  }) : null;
  const pager = pagination({
    id: o.id, label: `Pages of ${o.caption}`, pageSizes: o.pageSizes,
    onPage: (offset) => update({ offset }, { push: true }),
    onLimit: (limit) => update({ limit, offset: Math.floor(state.offset / limit) * limit }, { push: true }),
  });
  const exporter = o.exportCsv ? exportButton({
    id: o.id, columns: o.columns, fetchPage: o.fetchPage, getState: () => state, rowKey: o.rowKey,
    fileBase: o.exportCsv.fileBase, maxRows: o.exportCsv.maxRows,
  }) : null;

  const element = h('section', { class: 'data-table', id: o.id, dataset: { table: o.id }, 'aria-label': o.caption },
    filters?.element,
    h('div', { class: 'table-toolbar' }, summary, exporter?.button),
    exporter?.slot,
    h('div', { class: 'table-wrap' }, table),
    pager.element);

  function renderHead() {
    replaceChildren(headRow, o.columns.map((column) => {
      const active = state.sort?.key === column.key;
      const ariaSort = active ? (state.sort.dir === 'desc' ? 'descending' : 'ascending') : (column.sortable ? 'none' : null);
      const th = h('th', { scope: 'col', class: column.className, 'aria-sort': ariaSort, dataset: { column: column.key } });
      if (!column.sortable) {
        // A fixed order (the API's) is still shown, so the admin knows how the rows run.
        th.append(column.label, active ? h('span', { class: 'sort-arrow', 'aria-hidden': 'true' }, state.sort.dir === 'desc' ? ' ▼' : ' ▲') : '');
        return th;
      }
      const arrow = active ? (state.sort.dir === 'desc' ? '▼' : '▲') : '↕';
      const button = h('button', { type: 'button', class: 'sort-button' },
        column.label, h('span', { class: 'sort-arrow', 'aria-hidden': 'true' }, arrow));
      button.addEventListener('click', () => {
        const dir = active && state.sort.dir === 'asc' ? 'desc' : (active ? 'asc' : (column.firstDir ?? 'asc'));
        update({ sort: { key: column.key, dir }, offset: 0 }, { push: true });
        headRow.querySelector(`[data-column="${CSS.escape(column.key)}"] button`)?.focus();
      });
      th.append(button);
      return th;
    }));
  }

  function stateRow(className, ...content) {
    return h('tr', { class: ['state-row', className] }, h('td', { colspan: String(o.columns.length) }, content));
  }

  function renderRows(items) {
    replaceChildren(tbody, items.map((row) => h('tr', { dataset: { key: o.rowKey(row) } },
      o.columns.map((column) => {
        const content = column.render ? column.render(row) : row[column.key];
        return h('td', { class: column.className }, content ?? h('span', { class: 'muted' }, '—'));
      }))));
  }

  function renderEmpty() {
    if (hasActiveFilters(state)) {
      const clearButton = h('button', { type: 'button', class: 'button button-small' }, 'Clear filters');
      clearButton.addEventListener('click', () => {
        const cleared = Object.fromEntries(Object.keys(state.filters).map((k) => [k, '']));
        filters?.sync(cleared);
        update({ filters: cleared, offset: 0 }, { push: true });
      });
      replaceChildren(tbody, stateRow('is-empty', h('p', { class: 'empty-title' }, `No ${o.noun.many} match these filters.`), clearButton));
    } else {
      replaceChildren(tbody, stateRow('is-empty', h('p', { class: 'empty-title' }, o.empty.title), o.empty.text ? h('p', { class: 'muted' }, o.empty.text) : null));
    }
  }

  function renderError(err) {
    const retry = h('button', { type: 'button', class: 'button button-small' }, 'Try again');
    retry.addEventListener('click', () => load());
    replaceChildren(tbody, stateRow('is-error', h('p', { class: 'error-text' }, `Could not load the ${o.noun.many}: ${err.message || err}`), retry));
    summary.textContent = `Could not load the ${o.noun.many}.`;
  }

  function renderSummary(total, count) {
    if (total === 0) {
      summary.textContent = `No ${o.noun.many}`;
      return;
    }
    const from = state.offset + 1;
    const to = state.offset + count;
    const noun = total === 1 ? o.noun.one : o.noun.many;
    summary.textContent = `Showing ${formatNumber(from)}–${formatNumber(to)} of ${formatNumber(total)} ${noun}`;
  }

  async function load() {
    controller?.abort();
    controller = new AbortController();
    const { signal } = controller;
    renderHead();
    table.setAttribute('aria-busy', 'true');
    summary.textContent = 'Loading…';
    if (!loadedOnce) {
      replaceChildren(tbody, stateRow('is-loading', h('span', { class: 'spinner', 'aria-hidden': 'true' }), ` Loading ${o.noun.many}…`));
    }
    const dim = setTimeout(() => element.classList.add('is-loading'), LOADING_DIM_DELAY_MS);
    try {
      const page = await o.fetchPage({ ...state, signal });
      if (destroyed || signal.aborted) return;
      const items = Array.isArray(page?.items) ? page.items : [];
      const total = Number.isFinite(page?.total) ? page.total : items.length;
      if (items.length === 0 && total > 0 && state.offset > 0) {
        // A bookmarked page beyond the end (the list shrank): show the last page instead.
        update({ offset: Math.floor((total - 1) / state.limit) * state.limit }, { push: false });
        return;
      }
      loadedOnce = true;
      if (items.length === 0) renderEmpty();
      else renderRows(items);
      renderSummary(total, items.length);
      pager.update(state, total);
      o.onRender?.(items, total, state);
    } catch (err) {
      if (err?.name === 'AbortError' || destroyed) return;
      renderError(err);
    } finally {
      clearTimeout(dim);
      if (!signal.aborted) {
        element.classList.remove('is-loading');
        table.removeAttribute('aria-busy');
      }
    }
  }

  function update(patch, { push }) {
    state = { ...state, ...patch };
    if (o.bindUrl) setQuery(writeTableState(new URLSearchParams(window.location.search), state, stateOptions), { push });
    load();
  }

  /** The URL changed under the table (Back/Forward): show what it says. */
  function applyQuery(params) {
    state = readTableState(params, stateOptions);
    filters?.sync(state.filters);
    load();
  }

  function destroy() {
    destroyed = true;
    controller?.abort();
  }

  load();
  return { element, reload: load, applyQuery, destroy, getState: () => state };
}
