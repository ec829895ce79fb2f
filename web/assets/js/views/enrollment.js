/**
 * views/enrollment.js — the Enrollment page: how devices enroll with this appliance after
 * Setup Assistant, and why some did not.
 *
 * Owns: the notice that devices cannot enroll while no valid push (APNs) certificate exists,
 * the push certificate section (enrollment/push-panel.js),
 * the enrollment URL devices use (`enrollment_url` of `GET /api/v1/enrollment/settings`,
 * the same URL every profile sends to Apple), the device funnel (`GET /api/v1/devices/counts`,
 * the Dashboard's numbers, #enroll-device-funnel), the requests for the last 24 hours and all time (`GET /api/v1/enrollment/funnel`,
 * refreshed every 30 s and after a change), the audit-only switch
 * (`GET/PUT /api/v1/enrollment/settings`), and the recent refusals, paged on the server
 * (`GET /api/v1/enrollment/refusals`), each linked to its device when the serial is known.
 * Element ids for tests: #enroll-apns, #enroll-url (data-url when known), #enroll-funnel,
 * #enroll-funnel-24h, #enroll-funnel-all ([data-step]), #enroll-audit (see
 * enrollment/audit-switch.js), #enroll-audit-banner, #enroll-refusals (the table root;
 * rows' serial links carry data-serial), #enroll-refusals-summary.
 * Must not use: anything but the API, the components and the ctx it is given.
 */

import { h, replaceChildren } from '../dom.js';
import { apiGet } from '../api.js';
import { localTimeZone, timeElement } from '../format.js';
import { adminHref } from '../router.js';
import { badge } from '../components/badge.js';
import { banner } from '../components/banner.js';
import { copyButton } from '../components/copy.js';
import { panel } from '../components/panel.js';
import { dataTable } from '../components/table.js';
import { auditSwitch } from '../enrollment/audit-switch.js';
import { pushPanel } from '../enrollment/push-panel.js';
import { funnelFigures } from '../enrollment/funnel-panel.js';
import { deviceFunnel } from '../enrollment/device-funnel.js';
import { reasonLabel, stepLabel, stepTone } from '../enrollment/words.js';

const REFRESH_MS = 30_000;

/** The notice at the top while devices cannot enroll for want of a valid push certificate. */
function showApnsNotice(slot, status) {
  const blocked = status && (status.state === 'missing' || status.state === 'expired');
  slot.hidden = !blocked;
  replaceChildren(slot, blocked ? banner({
    level: 'error', code: 'enroll_no_push_certificate', link: '#push-certificate', linkText: 'Set up the push certificate',
    message: status.state === 'expired'
      ? 'Enrollment is stopped: the Apple push (APNs) certificate has expired. Devices are asked to try again later until it is renewed.'
      : 'Enrollment cannot start yet: this appliance has no Apple push (APNs) certificate. Devices are asked to try again later until one is uploaded below.',
  }) : null);
}

function urlBody(url) {
  if (!url) {
    return h('p', { class: 'muted', id: 'enroll-url' }, 'The appliance did not report its enrollment URL.');
  }
  const input = h('input', { id: 'enroll-url-value', type: 'text', readonly: true, class: 'enroll-url-text', spellcheck: 'false' });
  input.value = url;
  return h('div', { id: 'enroll-url', class: 'field', dataset: { url } },
    h('label', { for: input.id }, 'Enrollment URL'),
    h('div', { class: 'actions' }, input, copyButton({ getText: () => url, label: 'Copy URL', target: input })));
}

function serialCell(row) {
  if (!row.serial) return h('span', { class: 'muted' }, 'Unknown (request not readable)');
  return h('a', { href: adminHref(`devices/${row.serial}`), dataset: { serial: row.serial } }, row.serial);
}

function outcomeCell(row) {
  return badge(row.step === 'audited' ? 'Let through' : stepLabel(row.step), stepTone(row.step));
}

function reasonCell(row) {
  return [h('strong', { class: 'refusal-reason', dataset: { reason: row.reason ?? '' } }, reasonLabel(row.reason)),
    h('span', { class: 'refusal-words' }, ` — ${row.message}`)];
}

export default {
  name: 'enrollment',
  title: 'Enrollment',
  intro: 'How devices enroll with this appliance after Setup Assistant: how many got how far, and why any were refused.',

  mount(container, ctx) {
    const { signal } = ctx;
    const urlSlot = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading the enrollment URL…'));
    const funnelSlot = h('div', { class: 'panel-body', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading the requests…'));
    const deviceSlot = h('div', { class: 'panel-body', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading the funnel…'));
    const auditSlot = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading the settings…'));
    const auditBanner = h('div', { id: 'enroll-audit-banner', hidden: true });

    const table = dataTable({
      id: 'enroll-refusals',
      caption: 'Recent refusals',
      noun: { one: 'refusal', many: 'refusals' },
      defaultLimit: 25,
      pageSizes: [25, 50, 100],
      rowKey: (row) => `${row.at}-${row.serial ?? ''}-${row.step}`,
      columns: [
        { key: 'at', label: `Time (${localTimeZone()})`, csvLabel: 'at (UTC)', className: 'col-time', render: (row) => timeElement(row.at) },
        { key: 'serial', label: 'Serial number', render: serialCell },
        { key: 'product', label: 'Product', render: (row) => row.product ?? h('span', { class: 'muted' }, '—') },
        { key: 'step', label: 'Outcome', render: outcomeCell },
        { key: 'reason', label: 'Reason', className: 'col-wrap', render: reasonCell, csv: (row) => `${row.reason ?? ''}: ${row.message}` },
      ],
      fetchPage: ({ limit, offset, signal: s }) => apiGet('/enrollment/refusals', { query: { limit, offset }, signal: s }),
      exportCsv: { fileBase: 'adebox-enrollment-refusals' },
      empty: { title: 'No refusals', text: 'Every device that reached the enrollment URL was allowed to continue.' },
    });
    signal.addEventListener('abort', () => table.destroy());

    const apnsNotice = h('div', { id: 'enroll-apns', hidden: true });
    container.append(
      apnsNotice,
      auditBanner,
      pushPanel(ctx, (status) => showApnsNotice(apnsNotice, status)),
      panel({ id: 'enroll-devices-funnel', title: 'Enrollment funnel', intro: 'How far the devices have come, from Apple’s list to released: each step counts the devices that got at least that far (the Dashboard shows the same numbers).' }, deviceSlot),
      panel({ id: 'enroll-funnel', title: 'Requests at the enrollment URL', intro: 'What the requests of devices that reached the enrollment URL ended in.' }, funnelSlot),
      panel({ id: 'enroll-refusals-panel', title: 'Recent refusals', intro: 'Devices turned away (or let through by audit-only mode), newest first, with the reason in plain words. A device’s serial links to its page when the request could be read.' }, table.element),
      h('div', { class: 'grid-2' },
        panel({ id: 'enroll-audit', title: 'Audit-only mode', intro: 'For a first rollout: see which devices would be refused without turning them away.' }, auditSlot),
        panel({ id: 'enroll-url-panel', title: 'Enrollment URL', intro: 'Where devices post their signed request during Setup Assistant. Every profile this appliance sends to Apple carries it; it follows from the public host name and port in the configuration.' }, urlSlot)));

    function showAuditBanner(settings) {
      const on = Boolean(settings?.audit_only);
      auditBanner.hidden = !on;
      replaceChildren(auditBanner, on ? banner({
        level: 'warning', code: 'enroll_audit_only', link: `${adminHref('enrollment')}#enroll-audit`, linkText: 'Turn it off',
        message: 'Audit-only mode is on: devices the gate would refuse are enrolled anyway and only logged.',
      }) : null);
    }

    async function loadFunnel() {
      try {
        const counts = await apiGet('/devices/counts', { signal });
        deviceSlot.removeAttribute('aria-busy');
        replaceChildren(deviceSlot, deviceFunnel(counts, { id: 'enroll-device-funnel', emptyText: 'No devices yet: add a server token and sync.' }));
      } catch (err) {
        if (err.name === 'AbortError') return;
        replaceChildren(deviceSlot, h('p', { class: 'error-text' }, `Could not load the funnel: ${err.message}`));
      }
      try {
        const funnel = await apiGet('/enrollment/funnel', { signal });
        funnelSlot.removeAttribute('aria-busy');
        replaceChildren(funnelSlot, funnelFigures(funnel));
      } catch (err) {
        if (err.name === 'AbortError') return;
        replaceChildren(funnelSlot, h('p', { class: 'error-text' }, `Could not load the funnel: ${err.message}`));
      }
    }

    apiGet('/enrollment/settings', { signal }).then((settings) => {
      replaceChildren(urlSlot, urlBody(settings?.enrollment_url));
      const control = auditSwitch({ settings, onChange: (next) => { showAuditBanner(next); table.reload(); } });
      replaceChildren(auditSlot, control.element);
      showAuditBanner(settings);
    }).catch((err) => {
      if (err.name === 'AbortError') return;
      const words = `Could not load the enrollment settings: ${err.message}`;
      replaceChildren(auditSlot, h('p', { class: 'error-text' }, words));
      replaceChildren(urlSlot, h('p', { class: 'error-text' }, words));
    });

    loadFunnel();
    const timer = setInterval(() => { loadFunnel(); }, REFRESH_MS);
    signal.addEventListener('abort', () => clearInterval(timer));
    return { onQuery: (query) => table.applyQuery(query) };
  },
};
