/**
 * views/devices.js — the device inventory: every device Apple assigned to this appliance's
 * MDM servers, paged, sorted and filtered on the server, with the filters in the URL and a
 * CSV export of everything the current filters match.
 *
 * Owns: the filters (serial — exact when it looks complete, else the first characters —,
 * model, family, OS, token and profile as choice lists of names, the user a device was
 * enrolled for, lifecycle, removed ones too), the mapping from the
 * table's state to `GET /api/v1/devices`, and the export link
 * (`GET /api/v1/devices/export.csv` with the same filters), kept current as filters change.
 * Also: choosing devices (devices/selection.js) to assign an enrollment profile or remove it
 * (devices/assign.js), and assigning by CSV file or pasted list (devices/bulk.js, opened by
 * `?bulk=1` or the link to #bulk-assign), and Apple Business actions for such a list
 * (devices/bulk-business.js, #bulk-business).
 * A whole serial the inventory does not have is asked of Apple Business
 * (business/where-box.js: "why isn't my device here?").
 * Element ids for tests: #devices (table root), #devices-table, #devices-filter-<name>,
 * #devices-export, #devices-summary; serial links carry data-serial, user cells data-user;
 * plus those of
 * devices/selection.js, devices/assign.js and devices/bulk.js.
 * Must not use: anything but the API, the table component and the ctx it is given.
 */

import { h } from '../dom.js';
import { apiGet, apiUrl } from '../api.js';
import { localTimeZone, timeElement, timeOr } from '../format.js';
import { adminHref } from '../router.js';
import { dataTable } from '../components/table.js';
import { showError } from '../components/toast.js';
import { selectionBar } from '../devices/assign.js';
import { whereBox } from '../business/where-box.js';
import { bulkAssign } from '../devices/bulk.js';
import { bulkBusiness } from '../devices/bulk-business.js';
import { deviceSelection } from '../devices/selection.js';
import { LIFECYCLES, lifecycleBadge, profileStatusWords } from '../devices/words.js';
import { loadAllProfiles } from '../profiles/data.js';

const LIST_PAGE = 500;

// Apple serial numbers are 10 (since 2021) or 11–12 characters; shorter input is a prefix.
const COMPLETE_SERIAL = /^[A-Z0-9]{10,12}$/;

function apiQuery({ sort, filters }, serialMode) {
  const q = { ...filters, serial: undefined };
  const serial = (filters.serial ?? '').trim().toUpperCase();
  if (serial) {
    if (serialMode === 'exact') q.serial = serial;
    else q.serial_prefix = serial;
  }
  if (sort) {
    q.sort = sort.key;
    q.order = sort.dir;
  }
  return q;
}

function serialModeFor(filters) {
  return COMPLETE_SERIAL.test((filters.serial ?? '').trim().toUpperCase()) ? 'exact' : 'prefix';
}

/** The profile by its name (its Apple uuid on hover); a profile not made here says so. */
function profileCell(d) {
  const status = h('span', { class: 'nowrap' }, profileStatusWords(d.profile_status));
  if (d.profile_name) {
    return [h('a', { href: adminHref(`profiles/${d.profile_id}`), title: `Apple profile UUID ${d.profile_uuid}`, dataset: { profileId: d.profile_id } }, d.profile_name), h('p', { class: 'muted small' }, status)];
  }
  if (d.profile_uuid) return [status, h('p', { class: 'muted small', title: `Apple profile UUID ${d.profile_uuid}` }, 'a profile not made by this appliance')];
  return status;
}

/** The person the device was enrolled for (user affinity): name, then username. */
function userCell(d) {
  if (!d.user) return h('span', { class: 'muted' }, '—');
  return [h('span', { dataset: { user: d.user.username } }, d.user.display_name),
    h('p', { class: 'muted small' }, d.user.username)];
}

function columns(tokenName) {
  return [
    { key: 'serial', label: 'Serial number', sortable: true, className: 'col-nowrap', render: (d) => h('a', { href: adminHref(`devices/${d.serial}`), class: 'mono strong-link', dataset: { serial: d.serial } }, d.serial) },
    {
      key: 'model', label: 'Model', sortable: true, className: 'col-model',
      render: (d) => [d.model ?? '—', h('p', { class: 'muted small' }, [d.family, d.os].filter(Boolean).join(' · ')), d.description ? h('p', { class: 'muted small' }, d.description) : null],
      csv: (d) => d.model,
    },
    { key: 'token', label: 'Token', sortable: true, className: 'col-token', render: (d) => h('a', { href: adminHref(`tokens/${d.token}`) }, tokenName(d.token)) },
    { key: 'profile', label: 'Profile', sortable: true, className: 'col-profile', render: profileCell, csv: (d) => d.profile_name ?? d.profile_uuid ?? '' },
    { key: 'user', label: 'User', className: 'col-user', render: userCell, csv: (d) => d.user?.username ?? '' },
    { key: 'lifecycle', label: 'Lifecycle', sortable: true, className: 'col-nowrap', render: (d) => [lifecycleBadge(d), d.removed ? h('p', { class: 'muted small' }, 'removed ', timeElement(d.removed.at)) : null,
      d.mdm_migration_deadline ? h('p', { class: 'small cell-note' }, 'Apple Business set a migration deadline: ', timeElement(d.mdm_migration_deadline), d.removed ? ' (no effect here: not assigned to this server)' : '') : null] },
    { key: 'assigned_at', label: `Assigned (${localTimeZone()})`, sortable: true, firstDir: 'desc', className: 'col-date', render: (d) => timeOr(d.assigned_at, 'unknown') },
    { key: 'updated_at', label: 'Last change', sortable: true, firstDir: 'desc', className: 'col-date', render: (d) => timeElement(d.updated_at) },
  ];
}

function filtersFor(tokens, profiles, users) {
  return [
    { name: 'serial', label: 'Serial number', placeholder: 'all of it, or the first characters' },
    { name: 'model', label: 'Model', placeholder: 'e.g. iPad Air' },
    { name: 'family', label: 'Family', placeholder: 'e.g. iPad', suggestions: ['iPhone', 'iPad', 'Mac', 'AppleTV', 'Watch', 'Vision'] },
    { name: 'os', label: 'OS', placeholder: 'e.g. iOS', suggestions: ['iOS', 'OSX', 'tvOS', 'watchOS', 'visionOS'] },
    { name: 'token', label: 'Token', options: [{ value: '', label: 'Any token' }, ...tokens.map((t) => ({ value: t.id, label: t.server_name }))] },
    { name: 'profile_id', label: 'Profile', options: [{ value: '', label: 'Any profile' }, ...profiles.map((p) => ({ value: p.id, label: p.name }))] },
    { name: 'user', label: 'User', placeholder: 'name, username or e-mail', suggestions: users.map((u) => u.username) },
    { name: 'lifecycle', label: 'Lifecycle', options: [{ value: '', label: 'Any state' }, ...LIFECYCLES.map(([value, label]) => ({ value, label }))] },
    { name: 'include_removed', label: 'Removed devices', options: [{ value: '', label: 'Leave out' }, { value: 'true', label: 'Include' }] },
  ];
}

export default {
  name: 'devices',
  title: 'Devices',
  intro: 'Every device Apple assigned to this appliance’s MDM servers, as of the last sync. Filters stay in the address, so a view can be bookmarked or shared.',

  mount(container, ctx) {
    const exportLink = h('a', { class: 'button button-small', id: 'devices-export', href: apiUrl('/devices/export.csv'), download: 'adebox-devices.csv' }, 'Export CSV of these filters');
    let table = null;
    const loading = h('p', { class: 'muted', id: 'devices-loading' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), ' Loading the devices…');
    container.append(loading);

    const where = whereBox();

    async function fetchPage(state) {
      const mode = serialModeFor(state.filters);
      const q = apiQuery(state, mode);
      exportLink.href = apiUrl('/devices/export.csv', q);
      const page = await apiGet('/devices', { query: { ...q, limit: state.limit, offset: state.offset }, signal: state.signal });
      if (mode === 'exact' && page.total === 0) {
        // Not a whole serial after all: look for serials that start with it.
        const prefix = apiQuery(state, 'prefix');
        exportLink.href = apiUrl('/devices/export.csv', prefix);
        const byPrefix = await apiGet('/devices', { query: { ...prefix, limit: state.limit, offset: state.offset }, signal: state.signal });
        // A whole serial we do not have: ask Apple Business where it is.
        const onlySerial = Object.entries(state.filters).every(([k, v]) => k === 'serial' || !v);
        if (byPrefix.total === 0 && onlySerial) where.ask(q.serial, ctx.signal);
        else where.clear();
        return byPrefix;
      }
      where.clear();
      return page;
    }

    /** Every serial the filters of `state` match ("all matching" in the selection). */
    async function fetchAll(state) {
      const q = apiQuery(state, serialModeFor(state.filters));
      const serials = [];
      for (let offset = 0; ; offset += LIST_PAGE) {
        const page = await apiGet('/devices', { query: { ...q, limit: LIST_PAGE, offset }, signal: ctx.signal });
        const items = page?.items ?? [];
        serials.push(...items.map((d) => d.serial));
        if (items.length < LIST_PAGE || serials.length >= (page?.total ?? 0)) return serials;
      }
    }

    Promise.all([
      apiGet('/tokens', { signal: ctx.signal }).catch((err) => {
        if (err.name !== 'AbortError') showError(err, 'Could not load the token names');
        return { items: [] };
      }),
      // Without the profiles the list still works; only assigning waits for them.
      loadAllProfiles(ctx.signal).catch(() => []),
      // The local accounts, as suggestions for the user filter (directory users are typed).
      apiGet('/signin/users', { signal: ctx.signal }).then((r) => r?.items ?? []).catch(() => []),
    ])
      .then(([answer, profiles, users]) => {
        if (ctx.signal.aborted) return;
        const tokens = answer?.items ?? [];
        let bar = null;
        const selection = deviceSelection({ onChange: () => bar?.refresh() });
        const names = new Map(tokens.map((t) => [t.id, t.server_name]));
        table = dataTable({
          id: 'devices',
          caption: 'Devices',
          noun: { one: 'device', many: 'devices' },
          rowKey: (d) => d.serial,
          defaultLimit: 50,
          pageSizes: [25, 50, 100, 200, 500],
          defaultSort: { key: 'serial', dir: 'asc' },
          filters: filtersFor(tokens, profiles, users),
          columns: [selection.column, ...columns((id) => names.get(id) ?? id)],
          fetchPage,
          onRender: selection.onRender,
          empty: tokens.length
            ? { title: 'No devices yet', text: 'Devices appear after Apple assigns them to one of this appliance’s MDM servers and a sync runs.' }
            : { title: 'No devices yet', text: 'Add a server token on the Tokens page; its devices appear here after the first sync.' },
        });
        table.element.querySelector('.table-toolbar')?.append(exportLink);
        ctx.signal.addEventListener('abort', () => table.destroy());
        bar = selectionBar({ selection, profiles, fetchAll, onDone: () => table.reload() });
        table.element.querySelector('.table-wrap')?.before(where.element, bar.element);
        const bulk = bulkAssign({ profiles, onApplied: () => table.reload() });
        if (ctx.query.get('bulk') === '1' || window.location.hash === '#bulk-assign') bulk.open = true;
        const business = bulkBusiness({ tokens, onChanged: () => table.reload() });
        if (business && window.location.hash === '#bulk-business') business.open = true;
        loading.replaceWith(...[bulk, business, table.element].filter(Boolean));
      });
    return { onQuery: (query) => table?.applyQuery(query) };
  },
};
