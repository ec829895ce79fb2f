/**
 * views/audit.js — the audit log: who did what, when, from where, and whether it worked.
 *
 * Owns: the audit table (`GET /api/v1/audit`, newest first, paged on the server) with the
 * actor / action / outcome filters kept in the URL, the CSV export of everything the current
 * filters match, whether the tamper-evident chain verifies (`GET /api/v1/audit/verify`) or
 * where it breaks, and the JSON-lines export for a SIEM (`GET /api/v1/audit/export`).
 * Element ids for tests: #audit (the table root, data-table="audit"), #audit-table,
 * #audit-filter-actor, #audit-filter-action, #audit-filter-outcome, #audit-export,
 * #audit-summary, #audit-chain (data-status="verifies|broken|not_started|key_not_loaded|
 * error"), #audit-chain-message, #audit-chain-verify, #audit-export-jsonl.
 * Must not use: anything but the API, the table component and the ctx it is given.
 */

import { h } from '../dom.js';
import { apiGet, apiUrl } from '../api.js';
import { formatNumber, localTimeZone, timeElement } from '../format.js';
import { badge } from '../components/badge.js';
import { dataTable } from '../components/table.js';

// The actions the foundation writes (api-foundation.md); later issues add more, and any
// action can still be typed into the filter.
const KNOWN_ACTIONS = [
  'admin.login', 'admin.logout', 'admin.setup', 'admin.password_change', 'admin.user_create',
  'admin.user_delete', 'admin.role_change', 'admin.scope_change', 'admin.unlock', 'admin.api_token_create', 'admin.api_token_revoke', 'tls.custom_install',
  'tls.custom_remove', 'tls.renew', 'tls.anchors_switch', 'tls.switch_confirm', 'audit.chain_start', 'audit.prune',
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

/** The action in words, its code as secondary text (what the filter and the export use). */
function actionCell(row) {
  if (typeof row.action !== 'string') return null;
  return [h('span', { class: 'audit-action' }, row.action_words ?? row.action),
    h('p', { class: 'muted small' }, h('code', {}, breakable(row.action, '.')))];
}

/** A token or profile by its name (its id on hover); other targets as written. */
function targetCell(row) {
  if (row.target_name) return h('span', { title: `id ${row.target}`, dataset: { targetId: row.target } }, row.target_name);
  return row.target ?? '';
}

/** The headline of a verification: text plus colour, never colour alone. */
function chainBadge(v) {
  if (v.status === 'verifies') return badge('Chain verifies', 'success');
  if (v.status === 'broken') return badge(`Chain broken at #${formatNumber(v.broken?.seq)}`, 'danger');
  if (v.status === 'not_started') return badge('Chain not started', 'warning');
  return badge('Cannot verify', 'warning');
}

/** One line saying what verified, or what is wrong where. */
function chainSummary(v) {
  if (v.status === 'verifies') {
    if (v.last_seq == null) return 'No entries since the chain started; it verifies.';
    return `${formatNumber(v.entries)} entries from #${formatNumber(v.first_seq)} to #${formatNumber(v.last_seq)} are unchanged since they were written.`;
  }
  // The badge already names the place: the rest of the first line says what is wrong.
  const first = (v.message || '').split('\n')[0].replace(/^chain broken at #\d+: /, '');
  return first.charAt(0).toUpperCase() + first.slice(1);
}

/**
 * Whether the tamper-evident chain verifies: a badge, the summary, the head to compare with
 * the journal's "audit chain head" line, how the chain started, and the JSON-lines export.
 */
function chainPanel(signal) {
  const status = h('div', { class: 'callout', id: 'audit-chain', role: 'status', 'aria-live': 'polite', dataset: { status: 'checking' } },
    badge('Verifying the chain…', 'progress'));
  const verifyButton = h('button', { type: 'button', class: 'button button-small', id: 'audit-chain-verify' }, 'Verify again');
  const jsonl = h('a', { class: 'button button-small', id: 'audit-export-jsonl', href: apiUrl('/audit/export'), download: 'adebox-audit-log.jsonl' },
    'Export JSON lines (SIEM)');
  const show = (v) => {
    const ok = v.status === 'verifies';
    status.className = ok ? 'callout' : 'callout callout-warning';
    status.dataset.status = v.status;
    const lines = (v.message || '').split('\n').slice(1).filter((l) => !l.startsWith('head:'));
    const parts = [
      h('div', { class: 'actions' }, chainBadge(v), h('span', { id: 'audit-chain-message' }, chainSummary(v))),
      ok && v.head_mac ? h('p', { class: 'muted small' }, 'Head ', h('code', { title: 'Compare with the last "audit chain head" line in the journal' }, `#${v.last_seq ?? v.start?.seq ?? 0} ${v.head_mac}`)) : null,
      v.status === 'broken' ? h('p', { class: 'small' }, 'The store file was changed outside adebox, or its audit key was replaced. Entries from this one on are not vouched for; keep the store file and the journal as evidence.') : null,
      ...lines.map((l) => h('p', { class: 'muted small' }, l)),
      h('div', { class: 'actions' }, verifyButton, jsonl),
    ];
    status.replaceChildren(...parts.filter(Boolean));
  };
  const run = async () => {
    verifyButton.disabled = true;
    try {
      show(await apiGet('/audit/verify', { signal }));
    } catch (e) {
      if (signal.aborted) return;
      status.className = 'callout callout-warning';
      status.dataset.status = 'error';
      status.replaceChildren(
        h('div', { class: 'actions' }, badge('Cannot verify', 'warning'), h('span', { id: 'audit-chain-message' }, e.message)),
        h('div', { class: 'actions' }, verifyButton, jsonl),
      );
    } finally {
      verifyButton.disabled = false;
    }
  };
  verifyButton.addEventListener('click', run);
  run();
  return status;
}

function fetchAudit({ limit, offset, filters, signal }) {
  return apiGet('/audit', { query: { limit, offset, ...filters }, signal });
}

export default {
  name: 'audit',
  title: 'Audit log',
  intro: 'Every administrator action, newest first: who did it, when, from where, and whether it worked. Nothing secret is ever written here, and each entry is chained to the one before so a changed, deleted or reordered entry is detected.',

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
        { key: 'action', label: 'Action', className: 'col-code', render: actionCell, csv: (row) => row.action },
        { key: 'target', label: 'Target', className: 'col-wrap', render: targetCell, csv: (row) => row.target ?? '' },
        { key: 'outcome', label: 'Outcome', render: (row) => outcomeBadge(row.outcome) },
        { key: 'remote_addr', label: 'From', className: 'col-addr', render: (row) => breakable(row.remote_addr, ':') },
        { key: 'detail', label: 'Detail', className: 'col-wrap col-detail', render: (row) => row.detail_words ?? row.detail ?? '', csv: (row) => row.detail ?? '' },
      ],
      fetchPage: fetchAudit,
      exportCsv: { fileBase: 'adebox-audit-log' },
      empty: { title: 'No audit entries yet', text: 'Administrator actions appear here as they happen.' },
    });
    ctx.signal.addEventListener('abort', () => table.destroy());
    container.append(chainPanel(ctx.signal), table.element);
    return { onQuery: (query) => table.applyQuery(query) };
  },
};
