/**
 * local-source.js — a data-table source for short lists the API returns whole (administrators,
 * API tokens): one request for all rows (up to the API's 500), then sorted and cut into pages
 * here. Sorting in the page is only correct because every row is loaded; long lists (audit,
 * devices) page on the server instead.
 * Exposes: `localSource(loadAll, {compare})` → a `fetchPage` for `dataTable`;
 * `shortListTable(path, signal, options)` → a `dataTable` over `GET /api/v1<path>` that is not
 * bound to the URL and stops when `signal` aborts.
 * Must not use: the DOM directly.
 */

import { apiGet } from '../api.js';
import { dataTable } from './table.js';

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function defaultCompare(key) {
  return (a, b) => {
    const x = a[key];
    const y = b[key];
    if (x === y) return 0;
    if (x === null || x === undefined) return 1; // empty values last either way
    if (y === null || y === undefined) return -1;
    return typeof x === 'number' && typeof y === 'number' ? x - y : collator.compare(String(x), String(y));
  };
}

export function localSource(loadAll, { compare = {} } = {}) {
  return async ({ limit, offset, sort, signal }) => {
    const items = [...await loadAll(signal)];
    if (sort) {
      const cmp = compare[sort.key] ?? defaultCompare(sort.key);
      const sign = sort.dir === 'desc' ? -1 : 1;
      items.sort((a, b) => sign * cmp(a, b));
    }
    return { items: items.slice(offset, offset + limit), total: items.length };
  };
}

export function shortListTable(path, signal, options) {
  const table = dataTable({
    bindUrl: false,
    defaultLimit: 25,
    pageSizes: [25, 50, 100],
    fetchPage: localSource((abort) => apiGet(path, { query: { limit: 500 }, signal: abort }).then((r) => r.items ?? [])),
    ...options,
  });
  signal.addEventListener('abort', () => table.destroy());
  return table;
}
