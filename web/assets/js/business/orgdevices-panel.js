/**
 * business/orgdevices-panel.js — every device the organisation owns, as Apple Business lists
 * it (synced into the appliance every 6 hours and on "Sync now"): the server each is assigned
 * to (ours by our token's name, another MDM server by Apple's name, or none), status, model,
 * purchase source and order, when it was added, migration status, AppleCare coverage;
 * filtered on the server and the coverage, with the filters in the URL and a CSV export of
 * what they match. Above the table, the sync's state, its budget and what it spent (pages,
 * 429 waits), its last error, and how far the AppleCare coverage is read (what "unknown"
 * means, the hourly budget, the time left).
 *
 * Owns: `GET /api/v1/business/devices`, `…/devices/export.csv`, `GET`/`POST
 * /api/v1/business/devices/sync`.
 * Exposes: `orgDevicesPanel(ctx)` → `{element, reload(), applyQuery(query)}`.
 * Element ids for tests: #business-devices (the panel), #business-devices-sync (the state;
 * data-state="<state>"), #business-devices-applecare (the coverage's reading;
 * data-unknown="<count>"), #business-devices-sync-now, #business-devices-export, the table
 * #business-devices-table-… (table.js ids with id `business-devices-list`); rows' serials
 * carry data-serial, server cells data-kind, AppleCare cells data-applecare.
 * Must not use: anything but the API, the components and the ctx it is given.
 */

import { h, replaceChildren } from '../dom.js';
import { apiGet, apiPost, apiUrl } from '../api.js';
import { can } from '../roles.js';
import { adminHref } from '../router.js';
import { badge } from '../components/badge.js';
import { panel } from '../components/panel.js';
import { dataTable } from '../components/table.js';
import { showError, toast } from '../components/toast.js';
import { formatDate, formatDuration, formatNumber, localTimeZone, timeElement, timeOr } from '../format.js';

const POLL_MS = 2000;
const APPLECARE_POLL_MS = 15000;

const STATES = {
  never: ['Not synced yet', 'neutral'],
  running: ['Syncing…', 'progress'],
  complete: ['Synced', 'success'],
  failed: ['Last sync failed', 'danger'],
  interrupted: ['Last sync interrupted', 'warning'],
};

function serverCell(d) {
  const s = d.server;
  const cell = h('span', { dataset: { kind: s.kind } });
  if (s.kind === 'ours') {
    cell.append(h('a', { href: adminHref(`tokens/${s.token}`) }, s.server_name ?? s.token), ' ', badge('This appliance', 'success'));
  } else if (s.kind === 'elsewhere') {
    cell.append(s.server_name ?? h('span', { class: 'mono', title: 'An MDM server the last sync did not list' }, s.mdm_server_id), ' ', badge('Another MDM', 'neutral'));
  } else {
    cell.append(badge('No server', 'warning'));
  }
  return cell;
}

function migrationCell(d) {
  if (d.migration_status) {
    return [badge(d.migration_status.toLowerCase(), d.migration_status === 'FAILED' ? 'danger' : 'info'),
      d.migration_deadline ? h('p', { class: 'muted small' }, 'deadline ', timeElement(d.migration_deadline)) : null];
  }
  if (d.migration_capable === true) return h('span', { class: 'muted' }, 'can migrate');
  if (d.migration_capable === false) return h('span', { class: 'muted' }, 'cannot migrate');
  return h('span', { class: 'muted' }, '—');
}

/** The device page's words for a coverage (devices/business-panel.js). */
const APPLECARE = {
  active: ['Covered', 'success'],
  inactive: ['Not active', 'neutral'],
  none: ['No coverage', 'neutral'],
  unknown: ['Unknown', 'warning'],
};

function applecareCell(d) {
  const c = d.applecare;
  const [text, variant] = APPLECARE[c.status] ?? [c.status, 'neutral'];
  const title = c.status === 'unknown' ? 'Not read from Apple yet: see above how it fills.' : undefined;
  return h('span', { dataset: { applecare: c.status } }, badge(text, variant, { title }),
    c.end_date ? h('p', { class: 'muted small' }, c.status === 'active' ? 'until ' : 'ended ', formatDate(c.end_date)) : null);
}

const COLUMNS = [
  { key: 'serial', label: 'Serial number', className: 'col-nowrap', render: (d) => h('span', { class: 'mono', dataset: { serial: d.serial } }, d.serial) },
  { key: 'server', label: 'Assigned server', render: serverCell, csv: (d) => d.server.server_name ?? d.server.kind },
  { key: 'status', label: 'Status', className: 'col-nowrap', render: (d) => (d.status === 'ASSIGNED' ? 'Assigned' : d.status === 'UNASSIGNED' ? 'Unassigned' : d.status ?? '—') },
  { key: 'model', label: 'Model', render: (d) => [d.model ?? '—', h('p', { class: 'muted small' }, [d.product_family, d.product_type].filter(Boolean).join(' · '))], csv: (d) => d.model },
  { key: 'purchase', label: 'Purchase', render: (d) => [d.purchase_source_type ? d.purchase_source_type.toLowerCase().replace('_', ' ') : '—',
    d.order_number ? h('p', { class: 'muted small' }, 'order ', d.order_number) : null], csv: (d) => `${d.purchase_source_type ?? ''} ${d.order_number ?? ''}`.trim() },
  { key: 'added_at', label: `Added (${localTimeZone()})`, className: 'col-date', render: (d) => timeOr(d.added_at, 'unknown') },
  { key: 'migration', label: 'Migration', render: migrationCell, csv: (d) => d.migration_status ?? '' },
  { key: 'applecare', label: 'AppleCare', render: applecareCell, csv: (d) => d.applecare.status },
];

const FILTERS = [
  { name: 'serial', label: 'Serial number', placeholder: 'all of it, or part of it' },
  { name: 'server', label: 'Assigned server', options: [{ value: '', label: 'Any' }, { value: 'ours', label: 'This appliance’s servers' }, { value: 'elsewhere', label: 'Another MDM server' }, { value: 'none', label: 'No server' }] },
  { name: 'status', label: 'Status', options: [{ value: '', label: 'Any status' }, { value: 'ASSIGNED', label: 'Assigned' }, { value: 'UNASSIGNED', label: 'Unassigned' }] },
  { name: 'family', label: 'Family', placeholder: 'e.g. iPad', suggestions: ['iPhone', 'iPad', 'Mac', 'AppleTV', 'Watch', 'Vision'] },
  { name: 'model', label: 'Model', placeholder: 'e.g. iPad Air' },
  { name: 'applecare', label: 'AppleCare', options: [{ value: '', label: 'Any coverage' }, { value: 'active', label: 'Covered' }, { value: 'inactive', label: 'Not active' }, { value: 'none', label: 'No coverage' }, { value: 'unknown', label: 'Unknown (not read yet)' }] },
];

/** How far the AppleCare coverage is read, and what "unknown" means. */
function applecareLine(v) {
  const a = v.applecare;
  const box = h('p', { id: 'business-devices-applecare', class: 'muted small', dataset: { unknown: String(a.unknown) } });
  const how = `Apple has no list of coverage: adebox asks one device at a time, at most ${formatNumber(a.per_hour)} an hour, and asks again after ${a.refresh_days} days; a device’s own page asks at once.`;
  if (!v.total) return null;
  if (a.unknown) {
    const left = Math.ceil(a.unknown / Math.max(a.per_hour, 1) * 3600);
    box.append(`AppleCare: ${formatNumber(a.unknown)} of ${formatNumber(v.total)} devices are “Unknown”: Apple was not asked yet. ${how} About ${formatDuration(left)} left.`);
  } else {
    box.append(`AppleCare: read for every device. ${how}`);
  }
  if (a.last_error) box.append(h('span', { class: 'field-error', role: 'alert' }, ` Apple refused the last reading: ${a.last_error} adebox tries again later.`));
  return box;
}

function syncLine(v) {
  const [text, variant] = STATES[v.state] ?? [v.state, 'neutral'];
  const facts = [`${formatNumber(v.total)} devices`];
  if (v.state === 'running') facts.push(`${formatNumber(v.devices)} read so far`);
  if (v.pages) facts.push(`${formatNumber(v.pages)} pages from Apple`);
  if (v.rate_limited) facts.push(`${formatNumber(v.rate_limited)} waits on “too many requests”`);
  return [
    h('p', {}, badge(text, variant), ' ', facts.join(' · '),
      v.last_complete_at ? [' · last complete ', timeElement(v.last_complete_at)] : null),
    h('p', { class: 'muted small' }, `Synced every ${v.every_hours} hours`,
      v.next_run_at && v.state !== 'running' ? [', next ', timeElement(v.next_run_at, { deadline: true })] : null,
      '. Apple publishes no request budget; adebox asks for 1,000 devices a page, one request at a time, and waits when Apple says “too many requests”.'),
    v.last_error && v.state !== 'running' ? h('p', { class: 'field-error', role: 'alert' }, v.last_error, ' The list below is the one from the last complete sync.') : null,
    applecareLine(v),
  ];
}

export function orgDevicesPanel(ctx) {
  const state = h('div', { id: 'business-devices-sync', 'aria-live': 'polite' });
  const syncNow = h('button', { type: 'button', class: 'button button-small', id: 'business-devices-sync-now' }, 'Sync now');
  const exportLink = h('a', { class: 'button button-small', id: 'business-devices-export', href: apiUrl('/business/devices/export.csv'), download: 'adebox-organisation-devices.csv' }, 'Export CSV of these filters');
  const body = h('div', { class: 'panel-body' });
  const element = panel({ id: 'business-devices', title: 'Organisation devices', intro: 'Every device your organisation owns in Apple Business, whichever MDM server it is assigned to, as of the last sync.' },
    h('div', { class: 'actions' }, state, can('sync') ? syncNow : null), body);
  let timer = null;
  let table = null;
  let lastUnknown = 0;

  async function showState() {
    clearTimeout(timer);
    let v;
    try {
      v = await apiGet('/business/devices/sync', { signal: ctx.signal });
    } catch (err) {
      if (err.name !== 'AbortError') showError(err, 'Could not load the sync state');
      return null;
    }
    state.dataset.state = v.state;
    const wasRunning = syncNow.disabled;
    syncNow.disabled = v.state === 'running' || !v.configured;
    syncNow.title = v.state === 'running' ? 'A sync is running; it ends by itself.' : (v.configured ? '' : 'Set up the API account first.');
    replaceChildren(state, v.configured ? syncLine(v) : h('p', { class: 'muted' }, 'Set up the API account above to list the organisation’s devices.'));
    // The coverage fills between syncs: its line is followed slowly, the table reloaded once
    // every device's coverage is read.
    const unknown = v.applecare?.unknown ?? 0;
    if (v.state === 'running') timer = setTimeout(showState, POLL_MS);
    else if (unknown && v.configured) timer = setTimeout(showState, APPLECARE_POLL_MS);
    if ((wasRunning && v.state !== 'running') || (lastUnknown > 0 && unknown === 0)) table?.reload();
    lastUnknown = unknown;
    return v;
  }

  syncNow.addEventListener('click', async () => {
    syncNow.disabled = true;
    try {
      await apiPost('/business/devices/sync');
      toast('Syncing the organisation’s devices from Apple Business.');
    } catch (err) {
      showError(err);
    }
    showState();
  });

  table = dataTable({
    id: 'business-devices-list',
    caption: 'Organisation devices',
    noun: { one: 'device', many: 'devices' },
    rowKey: (d) => d.serial,
    defaultLimit: 50,
    pageSizes: [25, 50, 100, 200, 500],
    filters: FILTERS,
    columns: COLUMNS,
    fetchPage: async (s) => {
      const q = { ...s.filters };
      exportLink.href = apiUrl('/business/devices/export.csv', q);
      return apiGet('/business/devices', { query: { ...q, limit: s.limit, offset: s.offset }, signal: s.signal });
    },
    empty: { title: 'No organisation devices yet', text: 'They appear after the first sync with the API account.' },
  });
  table.element.querySelector('.table-toolbar')?.append(exportLink);
  body.append(table.element);
  ctx.signal.addEventListener('abort', () => {
    clearTimeout(timer);
    table.destroy();
  });
  showState();

  return {
    element,
    reload: () => {
      showState();
      table.reload();
    },
    applyQuery: (query) => table.applyQuery(query),
  };
}
