/**
 * views/sandbox.js — the Sandbox page (sandbox mode only): the simulated Apple side's MDM
 * servers and device counts, controls to add, move and release devices there, and the ways
 * to rehearse adding and renewing a token against the simulated Apple Business Manager.
 *
 * Owns: `GET /api/v1/sandbox` (reloaded after every change), matching each simulated server
 * to the token of this appliance that talks to it.
 * Element ids for tests: #sandbox-servers, #sandbox-servers-table (rows data-server="<uuid>",
 * devices cell data-devices), #sandbox-unassigned, #sandbox-refresh, #sandbox-devices,
 * #sandbox-rehearse, #sandbox-rehearse-add, #sandbox-enroll, plus those of sandbox/device-forms.js
 * and sandbox/enroll-sim.js.
 * Must not use: anything but the API, its parts and the ctx it is given.
 */

import { h, replaceChildren } from '../dom.js';
import { apiGet } from '../api.js';
import { formatNumber } from '../format.js';
import { adminHref } from '../router.js';
import { badge } from '../components/badge.js';
import { setBusy } from '../components/form.js';
import { panel } from '../components/panel.js';
import { showError, toast } from '../components/toast.js';
import { deviceForms } from './sandbox/device-forms.js';
import { enrollSimulation } from './sandbox/enroll-sim.js';

function serversTable(truth, tokens) {
  const servers = truth.servers ?? [];
  if (servers.length === 0) return h('p', { class: 'muted' }, 'The simulated Apple Business Manager has no MDM server yet. Rehearse adding a token to make one.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'sandbox-servers-table' },
    h('caption', { class: 'sr-only' }, 'MDM servers at the simulated Apple'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'MDM server'),
      h('th', { scope: 'col', class: 'col-num' }, 'Devices at Apple'), h('th', { scope: 'col' }, 'Token on this appliance'))),
    h('tbody', {}, servers.map((s) => {
      const token = tokens.find((t) => t.server_uuid === s.server_uuid);
      return h('tr', { dataset: { server: s.server_uuid } },
        // The server's UUID is secondary: on hover, and in the row's data-server.
        h('td', {}, h('strong', { title: `Server UUID ${s.server_uuid}` }, s.server_name)),
        h('td', { class: 'col-num', dataset: { devices: String(s.devices) } }, formatNumber(s.devices)),
        h('td', {}, token
          ? [h('a', { href: adminHref(`tokens/${token.id}`) }, token.server_name), h('p', { class: 'muted small' }, `${formatNumber(token.devices)} devices here as of its last sync`)]
          : badge('No token here', 'neutral')));
    }))));
}

export default {
  name: 'sandbox',
  title: 'Sandbox',
  intro: 'This appliance runs in sandbox mode: Apple’s device enrollment service and Apple Business Manager are simulated on this machine. Change things on the simulated Apple side here, then watch a sync bring them in.',

  mount(container, ctx) {
    const { signal } = ctx;
    const overviewBody = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading the simulated Apple side…'));
    const formsBody = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading…'));
    const refresh = h('button', { type: 'button', class: 'button button-small', id: 'sandbox-refresh' }, 'Refresh');
    const unassigned = h('p', { class: 'muted', id: 'sandbox-unassigned' });

    container.append(
      panel({ id: 'sandbox-servers', title: 'The simulated Apple side', intro: 'What the simulated Apple Business Manager holds right now. This appliance sees it only through its tokens’ syncs.' },
        overviewBody, unassigned, h('div', { class: 'actions' }, refresh)),
      panel({ id: 'sandbox-devices', title: 'Change devices at Apple', intro: 'Each change happens at the simulated Apple only; press Sync now on the token afterwards to bring it in.' }, formsBody),
      panel({ id: 'sandbox-enroll', title: 'Simulate devices enrolling', intro: 'Simulated iPhones and iPads with synced serials contact this appliance as in Setup Assistant: they get the enrollment profile and their identity certificate over ACME.' },
        h('div', { class: 'panel-body' }, enrollSimulation({ signal }))),
      panel({ id: 'sandbox-rehearse', title: 'Rehearse the token routines', intro: 'Practise what you will do with the real Apple Business Manager, with the same pages.' },
        h('ul', { class: 'instructions' },
          h('li', {}, h('a', { href: adminHref('tokens', { add: 'new' }), id: 'sandbox-rehearse-add' }, 'Rehearse adding a token'),
            ': make a key on the Tokens page, let the simulated ABM create a server and hand back its .p7m as a download, then upload it through the normal form.'),
          h('li', {}, 'Rehearse renewing: open a token, and in its Renew panel let the simulated ABM issue a renewed token, then upload it.'))));

    async function load() {
      try {
        const [truth, tokenList] = await Promise.all([
          apiGet('/sandbox', { signal }),
          apiGet('/tokens', { signal }).then((r) => r?.items ?? []),
        ]);
        replaceChildren(overviewBody, serversTable(truth, tokenList));
        unassigned.textContent = `${formatNumber(truth.unassigned ?? 0)} devices are in the organisation but assigned to no server.`;
        if (!formsBody.dataset.ready) {
          formsBody.dataset.ready = 'true';
          replaceChildren(formsBody, (truth.servers ?? []).length
            ? deviceForms({ servers: truth.servers, tokens: tokenList, onChanged: () => load() })
            : h('p', { class: 'muted' }, 'Rehearse adding a token first: devices are added to an MDM server.'));
        }
      } catch (err) {
        if (err.name === 'AbortError') return;
        replaceChildren(overviewBody, h('p', { class: 'error-text' }, `Could not read the simulated Apple side: ${err.message}`));
        showError(err);
      }
    }

    refresh.addEventListener('click', async () => {
      const restore = setBusy(refresh, 'Refreshing…');
      await load();
      restore();
      toast('Refreshed.', { variant: 'info' });
    });
    load();
  },
};
