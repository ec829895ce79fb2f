/**
 * views/audit.js — the audit log: who did what, when, from where, and whether it worked.
 *
 * Owns: the audit table (`GET /api/v1/audit`, newest first, paged on the server) with the
 * actor / action / outcome filters kept in the URL, and the CSV export of everything the
 * current filters match.
 * Element ids for tests: #audit (the table root, data-table="audit"), #audit-table,
 * #audit-filter-actor, #audit-filter-action, #audit-filter-outcome, #audit-export,
 * #audit-summary.
 * Must not use: anything but the API, the table component and the ctx it is given.
 */

import { h } from '../dom.js';
import { apiGet } from '../api.js';
import { localTimeZone, timeElement } from '../format.js';
import { badge } from '../components/badge.js';
import { dataTable } from '../components/table.js';

// The actions the foundation writes (api-foundation.md); later issues add more, and any
// action can still be typed into the filter.
const KNOWN_ACTIONS = [
  'admin.login', 'admin.logout', 'admin.setup', 'admin.password_change', 'admin.user_create',
  'admin.user_delete', 'admin.api_token_create', 'admin.api_token_revoke', 'tls.custom_install',
  'tls.custom_remove', 'tls.renew',
];

function outcomeBadge(outcome) {
  if (outcome === 'success') return badge('Success', 'success');
  if (outcome === 'failure') return badge('Failure', 'danger');
  return badge(outcome ?? 'Unknown', 'neutral');
}

function actorCell(actor) {
  if (typeof actor !== 'string') return null;
  if (actor.startsWith('api-token:')) return [h('span', { class: 'muted small' }, 'API token '), actor.slice('api-token:'.length)];
  return actor;
}

/** Text that may wrap only after `separator` (dots of an action, colons of an IPv6 address). */
function breakable(text, separator) {
  if (typeof text !== 'string') return null;
  const parts = text.split(separator);
  return parts.flatMap((part, i) => (i < parts.length - 1 ? [`${part}${separator}`, h('wbr')] : [part]));
}

function actionCode(action) {
  return typeof action === 'string' ? h('code', {}, breakable(action, '.')) : null;
}

function fetchAudit({ limit, offset, filters, signal }) {
  return apiGet('/audit', { query: { limit, offset, ...filters }, signal });
}

export default {
  name: 'audit',
  title: 'Audit log',
  intro: 'Every administrator action, newest first: who did it, when, from where, and whether it worked. Nothing secret is ever written here.',

  mount(container, ctx) {
    const table = dataTable({
      id: 'audit',
      caption: 'Audit log entries',
      noun: { one: 'entry', many: 'entries' },
      defaultLimit: 50,
      pageSizes: [25, 50, 100, 200],
      // The API lists newest first and offers no other order; the header says so.
      defaultSort: { key: 'at', dir: 'desc' },
      filters: [
        { name: 'actor', label: 'Actor', placeholder: 'e.g. alice', suggestions: ['system', 'cli', ctx.session?.user].filter(Boolean) },
        { name: 'action', label: 'Action', placeholder: 'e.g. admin.login', suggestions: KNOWN_ACTIONS },
        { name: 'outcome', label: 'Outcome', options: [{ value: '', label: 'Any' }, { value: 'success', label: 'Success' }, { value: 'failure', label: 'Failure' }] },
      ],
      columns: [
        { key: 'at', label: `Time (${localTimeZone()})`, csvLabel: 'at (UTC)', className: 'col-time', render: (row) => timeElement(row.at) },
        { key: 'actor', label: 'Actor', render: (row) => actorCell(row.actor) },
        { key: 'action', label: 'Action', className: 'col-code', render: (row) => actionCode(row.action) },
        { key: 'target', label: 'Target', className: 'col-wrap' },
        { key: 'outcome', label: 'Outcome', render: (row) => outcomeBadge(row.outcome) },
        { key: 'remote_addr', label: 'From', className: 'col-addr', render: (row) => breakable(row.remote_addr, ':') },
        { key: 'detail', label: 'Detail', className: 'col-wrap col-detail' },
      ],
      fetchPage: fetchAudit,
      exportCsv: { fileBase: 'adebox-audit-log' },
      empty: { title: 'No audit entries yet', text: 'Administrator actions appear here as they happen.' },
    });
    ctx.signal.addEventListener('abort', () => table.destroy());
    container.append(table.element);
    return { onQuery: (query) => table.applyQuery(query) };
  },
};
