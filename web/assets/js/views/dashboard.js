/**
 * views/dashboard.js — the state of the appliance at a glance.
 *
 * Shows version, uptime and counts from the status poll (updated in place every 30 s), the
 * devices by lifecycle state (`GET /api/v1/devices/counts`) and the enrollment funnel the
 * server computes there (the Enrollment page draws the same one), what expires next on a timeline (the appliance's certificates and every server
 * token), and each token's sync, live (phase, pages, devices, elapsed, time left, last result,
 * next automatic run) with its Sync now button.
 * Until the appliance is set up, a first-steps checklist heads the page (dashboard-setup.js).
 * Element ids for tests: #dashboard-stats (each stat has data-stat), #chart-lifecycle,
 * #chart-funnel (rows data-key, data-value), #chart-expiry, #dash-sync (one .sync-state per
 * token), #dash-setup (see dashboard-setup.js), #dash-migrations (data-count; #next-deadline
 * links the device with the soonest migration deadline).
 * Must not use: anything but the API, status.js, the chart helpers, the sync widget and the
 * ctx it is given.
 */

import { h, replaceChildren } from '../dom.js';
import { apiGet } from '../api.js';
import { formatAbsolute, formatDuration, formatNumber, formatRelative } from '../format.js';
import { adminHref } from '../router.js';
import { scoped } from '../roles.js';
import { onStatus } from '../status.js';
import { badge, expiryBadge } from '../components/badge.js';
import { panel } from '../components/panel.js';
import { showError } from '../components/toast.js';
import { stackedBar } from '../charts/stacked-bar.js';
import { deviceFunnel } from '../enrollment/device-funnel.js';
import { loadAllProfiles, loadDefaults } from '../profiles/data.js';
import { setupChecklist, setupSteps } from './dashboard-setup.js';
import { timeline } from '../charts/timeline.js';
import { LIFECYCLES } from '../devices/words.js';
import { liveSync } from '../sync/live.js';
import { syncWidget } from '../sync/widget.js';
import { tokenStateBadge, tokenTone } from '../tokens/badge.js';

const EMPTY_NOTE = 'This fills in once a server token is added and its devices are synced.';
const DAY_MS = 86400 * 1000;

function stat(key, label, value, { detail, href } = {}) {
  const number = h('p', { class: 'stat-value' }, value);
  return h('div', { class: 'stat', dataset: { stat: key } },
    h('p', { class: 'stat-label' }, href ? h('a', { href }, label) : label),
    number,
    detail ? h('p', { class: 'stat-detail' }, detail) : null);
}

// Apple Business's migration deadlines (apple-2026.md §1.3): how many devices carry one and the
// soonest. A deadline is not proof of a migration, so the words never say "migrating".
function migrationsBody(counts) {
  const n = counts?.migration_deadlines ?? 0;
  const next = counts?.next_deadline;
  if (!n || !next) return h('p', { class: 'muted', dataset: { count: '0' } }, 'No device carries a migration deadline from Apple Business.');
  const past = Date.parse(next.at) < Date.now();
  return h('div', { dataset: { count: String(n) } },
    h('p', null, `${formatNumber(n)} ${n === 1 ? 'device carries' : 'devices carry'} a migration deadline set in Apple Business. Each goes through the full onboarding when it enrolls.`),
    h('p', null, past ? 'Passed deadline: ' : 'Next deadline: ',
      h('a', { id: 'next-deadline', href: adminHref(`devices/${next.serial}`), class: 'mono' }, next.serial),
      ` on ${formatAbsolute(next.at)}`,
      past ? ' (the device migrates as soon as it checks with Apple)' : ''));
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
    status.backup ? backupStat(status.backup) : null,
  ].filter(Boolean);
}

/** The daily backup (configured in the configuration file): when the last ran and how it went. */
function backupStat(backup) {
  const last = backup.last;
  const value = !last ? 'None yet' : last.ok ? formatRelative(last.at) : 'Failed';
  const detail = !last
    ? `First one ${formatAbsolute(backup.next_at)}`
    : last.ok ? `${formatNumber(last.bytes)} bytes, ${formatAbsolute(last.at)}` : last.message;
  return stat('backup', 'Last backup', value, { detail, href: `${adminHref('settings')}#backups` });
}

function tone(at, now, warnDays = 30) {
  const left = new Date(at).getTime() - now;
  return left <= 0 ? 'danger' : left < warnDays * DAY_MS ? 'warning' : 'success';
}

function expiryItems(tls, tokens, push, now) {
  const items = tokens.map((t) => ({
    key: `token-${t.id}`, label: `Token “${t.server_name}” expires`, at: t.expires_at, tone: tokenTone(t), badge: tokenStateBadge(t),
  }));
  if (push?.expires_at) {
    items.push({ key: 'push_expires', label: 'Push certificate expires', at: push.expires_at, tone: tone(push.expires_at, now), badge: expiryBadge(push.expires_at, { now }) });
  }
  const server = tls?.server;
  // renews_at is the certificate in use's, beside `server` in GET /settings/tls.
  if (tls?.renews_at) {
    items.push({ key: 'server_renews', label: 'Server certificate renews', at: tls.renews_at, tone: 'info', badge: badge('Automatic', 'info') });
  }
  if (server?.not_after) {
    items.push({ key: 'server_expires', label: 'Server certificate expires', at: server.not_after, tone: tone(server.not_after, now), badge: expiryBadge(server.not_after, { now }) });
  }
  if (tls?.ca?.not_after) {
    items.push({ key: 'ca_expires', label: 'Appliance CA expires', at: tls.ca.not_after, tone: tone(tls.ca.not_after, now, 180), badge: expiryBadge(tls.ca.not_after, { now, warnDays: 180 }) });
  }
  return items;
}

function syncPanelBody(tokens, widgets, onRequested) {
  if (tokens.length === 0) {
    return h('p', { class: 'muted' }, 'No server token yet. ', h('a', { href: adminHref('tokens') }, 'Add one on the Tokens page'), '.');
  }
  return h('div', { class: 'sync-list' }, tokens.map((t) => {
    const widget = syncWidget({ tokenId: t.id, serverName: t.server_name, onRequested });
    widget.update(t.sync);
    widgets.set(t.id, widget);
    return h('section', { class: 'sync-item', 'aria-label': `Sync of ${t.server_name}` },
      h('h3', { class: 'subtitle' }, h('a', { href: adminHref(`tokens/${t.id}`) }, t.server_name), ' ',
        h('span', { class: 'muted small' }, `${formatNumber(t.devices ?? 0)} devices`)),
      widget.element);
  }));
}

export default {
  name: 'dashboard',
  title: 'Dashboard',
  intro: 'The state of this appliance at a glance: what it runs, what it holds, and what expires next.',

  mount(container, ctx) {
    const { signal } = ctx;
    const stats = h('div', { class: 'stats', id: 'dashboard-stats', 'aria-busy': 'true' },
      h('p', { class: 'muted' }, 'Loading the status…'));
    const lifecycleSlot = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading the device counts…'));
    const funnelSlot = h('div', { class: 'panel-body' });
    const migrationsSlot = h('div', { class: 'panel-body' });
    const expirySlot = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading dates…'));
    const syncSlot = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading the tokens…'));
    const setupSlot = h('div', { id: 'dash-setup-slot' });
    const widgets = new Map();
    let live = null;
    // What the first-steps checklist reads; it is drawn again whenever a part arrives.
    const setup = { push: null, tokens: null, profiles: null, defaults: null, counts: null };
    const drawSetup = () => {
      // The checklist is about the whole appliance: an admin limited to some tokens does not see it.
      if (scoped() || Object.values(setup).some((v) => v === null)) return;
      replaceChildren(setupSlot, setupChecklist(setupSteps(setup)));
    };

    container.append(
      panel({ id: 'dash-overview', title: 'Overview' }, stats),
      panel({ id: 'dash-sync', title: 'Sync with Apple', intro: 'Each server token’s sync, live. A running sync shows its progress here.' }, syncSlot),
      panel({ id: 'dash-lifecycle', title: 'Devices by lifecycle state', intro: 'Every device synced from Apple, removed ones included.' }, lifecycleSlot),
      panel({ id: 'dash-funnel', title: 'Enrollment funnel', intro: 'How far the devices have come, from Apple’s list to released: each step counts the devices that got at least that far. The Enrollment page shows the same numbers.' }, funnelSlot),
      panel({ id: 'dash-migrations', title: 'Migration deadlines', intro: 'Devices Apple Business is moving to this appliance from another MDM server, with the date it forces the move.' }, migrationsSlot),
      panel({ id: 'dash-expiry', title: 'What expires next', intro: 'Server tokens, the push certificate and the appliance’s certificates.' }, expirySlot));
    container.prepend(setupSlot);

    const unsubscribe = onStatus((status) => {
      if (!status) return;
      stats.removeAttribute('aria-busy');
      replaceChildren(stats, statsFor(status));
      loadCounts();
    });
    signal.addEventListener('abort', unsubscribe);

    async function loadCounts() {
      try {
        const counts = await apiGet('/devices/counts', { signal });
        setup.counts = counts;
        drawSetup();
        const by = counts?.by_lifecycle ?? {};
        replaceChildren(lifecycleSlot, stackedBar({ id: 'chart-lifecycle', title: 'Devices by lifecycle state', caption: false,
          segments: LIFECYCLES.map(([key, label]) => ({ key, label, value: by[key] ?? 0 })), emptyText: `No devices yet. ${EMPTY_NOTE}` }));
        replaceChildren(funnelSlot, deviceFunnel(counts, { id: 'chart-funnel', emptyText: `No devices yet. ${EMPTY_NOTE}` }));
        replaceChildren(migrationsSlot, migrationsBody(counts));
      } catch (err) {
        if (err.name === 'AbortError') return;
        replaceChildren(lifecycleSlot, h('p', { class: 'error-text' }, `Could not load the device counts: ${err.message}`));
      }
    }

    // The appliance's certificate is organisation-wide: not asked for an admin limited to some tokens.
    const orgWide = !scoped();
    const optional = (promise) => promise.catch((err) => (err.name === 'AbortError' ? Promise.reject(err) : null));
    Promise.all([
      orgWide ? optional(apiGet('/settings/tls', { signal })) : null,
      apiGet('/tokens', { signal }).then((r) => r?.items ?? []),
      optional(apiGet('/push', { signal })),
      optional(loadAllProfiles(signal)),
      optional(loadDefaults(signal)),
    ]).then(([tls, tokens, push, profiles, defaults]) => {
      const now = Date.now();
      Object.assign(setup, { push: push ?? {}, tokens, profiles: profiles ?? [], defaults: defaults ?? [] });
      drawSetup();
      replaceChildren(expirySlot, timeline({ id: 'chart-expiry', title: 'Expiry timeline', caption: false, items: expiryItems(tls, tokens, push, now), now }),
        tls || !orgWide ? null : h('p', { class: 'error-text' }, 'The certificate dates could not be loaded.'));
      replaceChildren(syncSlot, syncPanelBody(tokens, widgets, () => live?.refresh()));
      if (tokens.length) {
        live = liveSync({
          signal,
          onUpdate: (statuses, { finished }) => {
            for (const [id, widget] of widgets) widget.update(statuses.get(id));
            if (finished.length) loadCounts();
          },
          onError: (err) => showError(err, 'Could not read the sync state'),
        });
      }
    }).catch((err) => {
      if (err.name === 'AbortError') return;
      replaceChildren(expirySlot, h('p', { class: 'error-text' }, `Could not load the tokens: ${err.message}`));
      replaceChildren(syncSlot, h('p', { class: 'error-text' }, `Could not load the tokens: ${err.message}`));
      showError(err);
    });
  },
};
