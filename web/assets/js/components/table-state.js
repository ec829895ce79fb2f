/**
 * table-state.js — a data table's view state and its place in the URL query.
 *
 * Owns: reading and writing `limit`, `offset`, `sort` (`key` ascending, `-key` descending) and
 * the filter values (each under its own name), all behind an optional prefix so two tables
 * can share a page. Defaults are left out of the URL so links stay short; keys that belong to
 * someone else are kept as they are.
 * Exposes: `readTableState(params, options)`, `writeTableState(params, state, options)`,
 * `hasActiveFilters(state)`.
 * Must not use: the DOM, the API.
 */

const MAX_LIMIT = 500; // the API's cap (api-foundation.md, Conventions)

function toInt(value, fallback) {
  const n = Number.parseInt(value ?? '', 10);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** `{limit, offset, sort: {key, dir} | null, filters}` from URL parameters. */
export function readTableState(params, { prefix = '', defaultLimit = 50, pageSizes = [], defaultSort = null, sortKeys = [], filters = [] }) {
  let limit = toInt(params.get(`${prefix}limit`), defaultLimit);
  if (limit < 1 || limit > MAX_LIMIT || (pageSizes.length && !pageSizes.includes(limit))) limit = defaultLimit;
  const offset = toInt(params.get(`${prefix}offset`), 0);

  let sort = defaultSort;
  const rawSort = params.get(`${prefix}sort`);
  if (rawSort) {
    const dir = rawSort.startsWith('-') ? 'desc' : 'asc';
    const key = rawSort.replace(/^-/, '');
    if (sortKeys.includes(key)) sort = { key, dir };
  }

  const values = {};
  for (const filter of filters) {
    const value = params.get(`${prefix}${filter.name}`) ?? '';
    const allowed = filter.options ? filter.options.some((o) => o.value === value) : true;
    values[filter.name] = allowed ? value : '';
  }
  // Offsets stay on page boundaries so "Page N of M" is always a whole number.
  return { limit, offset: offset - (offset % limit), sort, filters: values };
}

/** A copy of `params` with this table's state written in (defaults removed). */
export function writeTableState(params, state, { prefix = '', defaultLimit = 50, defaultSort = null }) {
  const out = new URLSearchParams(params);
  const put = (key, value, isDefault) => {
    if (isDefault || value === '' || value === null || value === undefined) out.delete(`${prefix}${key}`);
    else out.set(`${prefix}${key}`, String(value));
  };
  for (const [name, value] of Object.entries(state.filters)) put(name, value, value === '');
  const sortText = state.sort ? `${state.sort.dir === 'desc' ? '-' : ''}${state.sort.key}` : '';
  const defaultText = defaultSort ? `${defaultSort.dir === 'desc' ? '-' : ''}${defaultSort.key}` : '';
  put('sort', sortText, sortText === defaultText);
  put('limit', state.limit, state.limit === defaultLimit);
  put('offset', state.offset, state.offset === 0);
  return out;
}

export function hasActiveFilters(state) {
  return Object.values(state.filters).some((value) => value !== '');
}
