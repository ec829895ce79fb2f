/**
 * business/servers-panel.js — which of our server tokens is which Apple Business MDM
 * server: each server of the organisation with our token's name when it is ours (matched by
 * the server uuid, or mapped here by the admin), and a choice list to map a token whose
 * uuid matched none. Never matched by name.
 *
 * Owns: `GET /api/v1/business/servers`, `PUT /api/v1/business/servers/{token_id}`.
 * Exposes: `serversPanel(ctx)` → `{element, reload()}`.
 * Element ids for tests: #business-servers, #business-servers-list (rows carry
 * data-server="<mdm server id>"), #business-unmatched (rows data-token="<id>"),
 * #business-map-<token id> (the choice list), #business-map-save-<token id>.
 * Must not use: anything but the API, the components and the ctx it is given.
 */

import { h, replaceChildren } from '../dom.js';
import { apiGet, apiPut } from '../api.js';
import { can } from '../roles.js';
import { adminHref } from '../router.js';
import { badge } from '../components/badge.js';
import { panel } from '../components/panel.js';
import { showError, toast } from '../components/toast.js';
import { formatNumber } from '../format.js';

function ownerCell(s) {
  if (!s.token) return badge('Another MDM server', 'neutral');
  return [h('a', { href: adminHref(`tokens/${s.token}`) }, s.token_name ?? s.token), ' ',
    badge(s.matched_by === 'admin' ? 'Mapped here' : 'Same server uuid', 'success')];
}

function serverTable(servers) {
  return h('div', { class: 'table-scroll' }, h('table', { class: 'table', id: 'business-servers-list' },
    h('caption', { class: 'sr-only' }, 'The organisation’s MDM servers'),
    h('thead', {}, h('tr', {}, ['MDM server in Apple Business', 'Type', 'Devices', 'This appliance’s token'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, servers.map((s) => h('tr', { dataset: { server: s.mdm_server_id } },
      h('td', {}, s.server_name ?? '—', h('p', { class: 'muted small mono' }, s.mdm_server_id)),
      h('td', {}, s.server_type ?? '—'),
      h('td', { class: 'num' }, s.device_count == null ? '—' : formatNumber(s.device_count)),
      h('td', {}, ownerCell(s)))))));
}

function mapRow(token, servers, reload) {
  const select = h('select', { id: `business-map-${token.id}` },
    h('option', { value: '' }, 'Choose its server in Apple Business…'),
    servers.filter((s) => !s.token).map((s) => h('option', { value: s.mdm_server_id }, `${s.server_name ?? s.mdm_server_id}`)));
  const save = h('button', { type: 'button', class: 'button button-small', id: `business-map-save-${token.id}` }, 'Map');
  save.addEventListener('click', async () => {
    if (!select.value) {
      toast('Choose the MDM server first.', { variant: 'warning' });
      return;
    }
    try {
      await apiPut(`/business/servers/${encodeURIComponent(token.id)}`, { mdm_server_id: select.value });
      toast(`“${token.server_name}” mapped.`);
      reload();
    } catch (err) {
      showError(err);
    }
  });
  return h('li', { dataset: { token: token.id } },
    h('label', { for: select.id }, h('strong', {}, token.server_name), ' (server uuid ', h('span', { class: 'mono' }, token.server_uuid), ') is'),
    ' ', select, ' ', can('server_tokens') ? save : null);
}

export function serversPanel(ctx) {
  const body = h('div', { class: 'panel-body' });
  const element = panel({ id: 'business-servers', title: 'MDM servers', intro: 'Which of this appliance’s server tokens is which MDM server in Apple Business: by the server uuid both APIs report, or mapped here once where they differ. Never by name.' }, body);
  async function reload() {
    replaceChildren(body, h('p', { class: 'muted' }, 'Asking Apple Business for its MDM servers…'));
    try {
      const account = await apiGet('/business/account', { signal: ctx.signal });
      if (!account.configured) {
        replaceChildren(body, h('p', { class: 'muted' }, 'Set up the API account above to see the organisation’s MDM servers.'));
        return;
      }
      const r = await apiGet('/business/servers', { signal: ctx.signal });
      replaceChildren(body, serverTable(r.servers),
        r.unmatched_tokens.length
          ? [h('p', {}, badge('Not matched', 'warning'), ' These tokens’ server uuid matched no MDM server in Apple Business; tell adebox which server each is:'),
            h('ul', { id: 'business-unmatched', class: 'stack' }, r.unmatched_tokens.map((t) => mapRow(t, r.servers, reload)))]
          : h('p', { class: 'muted', id: 'business-unmatched' }, 'Every server token of this appliance is matched.'));
    } catch (err) {
      if (err.name === 'AbortError') return;
      replaceChildren(body, h('p', { class: 'error-text', id: 'business-servers-error' }, `Could not ask Apple Business: ${err.message}`));
    }
  }
  reload();
  return { element, reload };
}
