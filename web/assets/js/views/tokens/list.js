/**
 * views/tokens/list.js — the table of server tokens on the Tokens page: server and
 * organisation, the expiry badge with days left, active devices, and each token's live sync
 * (sync/widget.js) with "Sync now" and "Full resync". Soonest expiry first.
 *
 * Exposes: `tokenTable({onRequested})` → `{element, show(tokens), updateSync(statuses)}`.
 * `show` redraws rows only when the set of tokens changed and otherwise updates cells in
 * place, so a poll never moves the keyboard focus.
 * Element ids for tests: #token-list-table; rows carry data-token="<id>"; the server link
 * data-token-link="<id>"; the devices cell data-devices.
 * Must not use: the API (the view loads the tokens and feeds this).
 */

import { h, replaceChildren } from '../../dom.js';
import { formatNumber } from '../../format.js';
import { adminHref } from '../../router.js';
import { syncWidget } from '../../sync/widget.js';
import { daysLeftText, tokenStateBadge } from '../../tokens/badge.js';

function expiryCell(token) {
  return [
    tokenStateBadge(token),
    h('p', { class: 'muted small' }, daysLeftText(token)),
    token.problem ? h('p', { class: 'error-text small' }, token.problem.message) : null,
  ];
}

function devicesCell(token) {
  return h('a', { href: adminHref('devices', { token: token.id }), dataset: { devices: token.id } },
    formatNumber(token.devices ?? 0), h('span', { class: 'sr-only' }, ` devices of ${token.server_name}`));
}

export function tokenTable({ onRequested }) {
  const tbody = h('tbody');
  const table = h('table', { class: 'data token-table', id: 'token-list-table' },
    h('caption', { class: 'sr-only' }, 'Server tokens, soonest expiry first'),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Server'),
      h('th', { scope: 'col' }, 'Expiry'),
      h('th', { scope: 'col', class: 'col-num' }, 'Devices'),
      h('th', { scope: 'col', class: 'col-sync' }, 'Sync'))),
    tbody);
  const element = h('div', { class: 'table-wrap' }, table);
  let rows = new Map(); // id → {expiry, devices, server, widget}
  let lastStatuses = new Map();

  function serverCell(token) {
    return [
      h('a', { href: adminHref(`tokens/${token.id}`), class: 'strong-link', dataset: { tokenLink: token.id } }, token.server_name),
      token.org_name ? h('p', { class: 'muted small' }, token.org_name) : null,
    ];
  }

  function show(tokens) {
    const sorted = [...tokens].sort((a, b) => new Date(a.expires_at) - new Date(b.expires_at));
    const ids = sorted.map((t) => t.id).join(',');
    if (ids !== [...rows.keys()].join(',')) {
      rows = new Map();
      replaceChildren(tbody, sorted.map((token) => {
        const cells = {
          server: h('td', {}), expiry: h('td', {}), devices: h('td', { class: 'col-num' }),
          widget: syncWidget({ tokenId: token.id, serverName: token.server_name, compact: true, onRequested }),
        };
        rows.set(token.id, cells);
        return h('tr', { dataset: { token: token.id } }, cells.server, cells.expiry, cells.devices,
          h('td', { class: 'col-sync' }, cells.widget.element));
      }));
    }
    for (const token of sorted) {
      const cells = rows.get(token.id);
      replaceChildren(cells.server, serverCell(token));
      replaceChildren(cells.expiry, expiryCell(token));
      replaceChildren(cells.devices, devicesCell(token));
      cells.widget.update(lastStatuses.get(token.id) ?? token.sync);
    }
  }

  function updateSync(statuses) {
    lastStatuses = statuses;
    for (const [id, cells] of rows) {
      if (statuses.has(id)) cells.widget.update(statuses.get(id));
    }
  }

  return { element, show, updateSync };
}
