/**
 * views/dashboard.js — the state of the appliance at a glance.
 *
 * Shows version, uptime and counts from the status poll (updated in place every 30 s), the
 * devices by lifecycle state and the enrollment funnel (empty until tokens and devices exist;
 * later issues feed them), and the expiry timeline (the appliance's certificates now, server
 * tokens later).
 * Element ids for tests: #dashboard-stats (each stat has data-stat), #chart-lifecycle,
 * #chart-funnel, #chart-expiry.
 * Must not use: anything but the API, status.js, the chart helpers and the ctx it is given.
 */

import { h, replaceChildren } from '../dom.js';
import { apiGet } from '../api.js';
import { formatAbsolute, formatDuration, formatNumber } from '../format.js';
import { adminHref } from '../router.js';
import { onStatus } from '../status.js';
import { badge, expiryBadge } from '../components/badge.js';
import { panel } from '../components/panel.js';
import { showError } from '../components/toast.js';
import { stackedBar } from '../charts/stacked-bar.js';
import { funnel } from '../charts/funnel.js';
import { timeline } from '../charts/timeline.js';

const LIFECYCLE = [
  ['in_apple', 'In Apple, no profile'], ['assigned', 'Profile assigned'], ['enrolling', 'Enrolling'],
  ['enrolled', 'Enrolled'], ['released', 'Released'], ['disowned', 'Removed from Apple'],
];
const FUNNEL = [
  ['in_apple', 'In Apple'], ['assigned', 'Profile assigned'], ['pushed', 'Pushed'],
  ['contacted', 'Contacted us'], ['attested', 'Attested'], ['enrolled', 'Enrolled'], ['released', 'Released'],
];
const EMPTY_NOTE = 'This fills in once a server token is added and its devices are synced.';
const DAY_MS = 86400 * 1000;

function stat(key, label, value, { detail, href } = {}) {
  const number = h('p', { class: 'stat-value' }, value);
  return h('div', { class: 'stat', dataset: { stat: key } },
    h('p', { class: 'stat-label' }, href ? h('a', { href }, label) : label),
    number,
    detail ? h('p', { class: 'stat-detail' }, detail) : null);
}

function statsFor(status) {
  const c = status.counts ?? {};
  const started = status.started_at ? `Since ${formatAbsolute(status.started_at)}` : null;
  return [
    stat('version', 'Version', status.version ?? '—'),
    stat('uptime', 'Uptime', formatDuration(status.uptime_s, { display: 'short' }), { detail: started }),
    stat('tokens', 'Server tokens', formatNumber(c.tokens), { href: adminHref('tokens') }),
    stat('devices', 'Devices', formatNumber(c.devices), { href: adminHref('devices') }),
    stat('admins', 'Administrators', formatNumber(c.admins), { href: `${adminHref('settings')}#admins` }),
    stat('api_tokens', 'API tokens', formatNumber(c.api_tokens), { href: `${adminHref('settings')}#api-tokens` }),
    stat('audit_entries', 'Audit entries', formatNumber(c.audit_entries), { href: adminHref('audit') }),
  ];
}

function tone(at, now, warnDays = 30) {
  const left = new Date(at).getTime() - now;
  return left <= 0 ? 'danger' : left < warnDays * DAY_MS ? 'warning' : 'success';
}

function expiryItems(tls, now) {
  const items = [];
  const server = tls?.server;
  if (server?.renews_at) {
    items.push({ key: 'server_renews', label: 'Server certificate renews', at: server.renews_at, tone: 'info', badge: badge('Automatic', 'info') });
  }
  if (server?.not_after) {
    items.push({ key: 'server_expires', label: 'Server certificate expires', at: server.not_after, tone: tone(server.not_after, now), badge: expiryBadge(server.not_after, { now }) });
  }
  if (tls?.ca?.not_after) {
    items.push({ key: 'ca_expires', label: 'Appliance CA expires', at: tls.ca.not_after, tone: tone(tls.ca.not_after, now, 180), badge: expiryBadge(tls.ca.not_after, { now, warnDays: 180 }) });
  }
  return items;
}

export default {
  name: 'dashboard',
  title: 'Dashboard',
  intro: 'The state of this appliance at a glance: what it runs, what it holds, and what expires next.',

  mount(container, ctx) {
    const stats = h('div', { class: 'stats', id: 'dashboard-stats', 'aria-busy': 'true' },
      h('p', { class: 'muted' }, 'Loading the status…'));
    const zero = (list) => list.map(([key, label]) => ({ key, label, value: 0 }));
    const expirySlot = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading certificate dates…'));

    container.append(
      panel({ id: 'dash-overview', title: 'Overview' }, stats),
      panel({ id: 'dash-lifecycle', title: 'Devices by lifecycle state' },
        stackedBar({ id: 'chart-lifecycle', title: 'Devices by lifecycle state', caption: false, segments: zero(LIFECYCLE), emptyText: `No devices yet. ${EMPTY_NOTE}` })),
      panel({ id: 'dash-funnel', title: 'Enrollment funnel', intro: 'How far the devices assigned to this appliance have come, from Apple’s list to released.' },
        funnel({ id: 'chart-funnel', title: 'Enrollment funnel', caption: false, steps: zero(FUNNEL), emptyText: `No enrollments yet. ${EMPTY_NOTE}` })),
      panel({ id: 'dash-expiry', title: 'What expires next', intro: 'The appliance’s certificates; server tokens join this timeline once you add them.' },
        expirySlot));

    const unsubscribe = onStatus((status) => {
      if (!status) return;
      stats.removeAttribute('aria-busy');
      replaceChildren(stats, statsFor(status));
    });
    ctx.signal.addEventListener('abort', unsubscribe);

    apiGet('/settings/tls', { signal: ctx.signal })
      .then((tls) => {
        const now = Date.now();
        replaceChildren(expirySlot, timeline({ id: 'chart-expiry', title: 'Expiry timeline', caption: false, items: expiryItems(tls, now), now }));
      })
      .catch((err) => {
        if (err.name === 'AbortError') return;
        replaceChildren(expirySlot, h('p', { class: 'error-text' }, `Could not load the certificate dates: ${err.message}`));
        showError(err);
      });
  },
};
