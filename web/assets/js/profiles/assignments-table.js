/**
 * profiles/assignments-table.js — where assignments stand across all devices (the retry
 * queue): each serial's state, profile, Apple's last answer, attempts and next retry, filtered
 * by state and token, paged on the server (`GET /assignments`), with the view in the URL
 * (prefixed `a_` so it does not mix with the profile list's).
 *
 * Exposes: `assignmentsTable({profiles, tokens})` → a data table (see components/table.js).
 * Element ids for tests: #assignments (table root; rows data-key="<serial>"),
 * #assignments-filter-state, #assignments-filter-token.
 * Must not use: the DOM outside the table it builds.
 */

import { h } from '../dom.js';
import { apiGet } from '../api.js';
import { formatNumber, localTimeZone, timeElement, timeOr } from '../format.js';
import { adminHref } from '../router.js';
import { dataTable } from '../components/table.js';
import { ASSIGNMENT_STATES, assignmentBadge } from './words.js';

export function assignmentsTable({ profiles, tokens }) {
  const names = new Map(profiles.map((p) => [p.id, p.name]));
  return dataTable({
    id: 'assignments',
    prefix: 'a_',
    caption: 'Profile assignments per device',
    noun: { one: 'device', many: 'devices' },
    rowKey: (a) => a.serial,
    defaultLimit: 25,
    pageSizes: [25, 50, 100],
    filters: [
      { name: 'state', label: 'State', options: [{ value: '', label: 'Any state' }, ...ASSIGNMENT_STATES.map(([value, label]) => ({ value, label }))] },
      { name: 'token', label: 'Token', options: [{ value: '', label: 'Any token' }, ...tokens.map((t) => ({ value: t.id, label: t.server_name }))] },
    ],
    columns: [
      { key: 'serial', label: 'Serial number', className: 'col-nowrap', render: (a) => h('a', { href: adminHref(`devices/${a.serial}`), class: 'mono' }, a.serial) },
      { key: 'state', label: 'State', className: 'col-state', render: (a) => [assignmentBadge(a.state), a.message ? h('p', { class: 'muted small' }, a.message) : null], csv: (a) => a.state },
      { key: 'profile_id', label: 'Profile', render: (a) => (a.profile_id ? h('a', { href: adminHref(`profiles/${a.profile_id}`) }, names.get(a.profile_id) ?? a.profile_id) : h('span', { class: 'muted' }, 'None')), csv: (a) => names.get(a.profile_id) ?? a.profile_id ?? '' },
      { key: 'last_result', label: 'Apple’s last answer', render: (a) => a.last_result ?? h('span', { class: 'muted' }, 'none yet') },
      { key: 'attempts', label: 'Attempts', className: 'col-num', render: (a) => formatNumber(a.attempts ?? 0) },
      { key: 'next_retry_at', label: `Next retry (${localTimeZone()})`, className: 'col-date', render: (a) => (a.next_retry_at ? timeElement(a.next_retry_at, { deadline: true }) : h('span', { class: 'muted' }, '—')) },
      { key: 'assigned_at', label: 'Assigned', className: 'col-date', render: (a) => timeOr(a.assigned_at, 'not yet') },
    ],
    fetchPage: ({ limit, offset, filters, signal }) => apiGet('/assignments', { query: { ...filters, limit, offset }, signal }),
    exportCsv: { fileBase: 'adebox-assignments' },
    empty: { title: 'No assignment yet', text: 'Assign a profile on the Devices page, or make one a token’s default.' },
  });
}
