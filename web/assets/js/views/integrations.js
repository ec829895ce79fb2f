/**
 * views/integrations.js — the Integrations page: webhook subscriptions (what each receives,
 * its outbox and health, a banner when a day of failures paused it), the "Add a webhook" form
 * (the secret shown once), and each subscription's delivery log with Redeliver.
 *
 * Owns: loading `GET /api/v1/integrations/webhooks` and `…/topics`, and the selected
 * subscription's `…/deliveries` (refreshed every 5 s while shown).
 * Element ids for tests: #webhooks (the list panel), #webhooks-empty, #webhook-form,
 * #webhook-secret (the secret, once), #deliveries (the log panel), #alerts (the Alerts panel,
 * views/integrations/alerts.js), #command-api and #schema-checks (the Command API panel,
 * views/integrations/command-api.js).
 * Must not use: anything but the API, its components and the ctx it is given. Owner only
 * (the `secrets` permission): the navigation hides it from other roles, the API refuses them.
 */

import { h, replaceChildren } from '../dom.js';
import { apiDelete, apiGet, apiPost } from '../api.js';
import { panel } from '../components/panel.js';
import { badge } from '../components/badge.js';
import { confirmDialog } from '../components/dialog.js';
import { showError, toast } from '../components/toast.js';
import { formatNumber, timeElement, timeOr } from '../format.js';
import { webhookForm } from './integrations/form.js';
import { alertsPanel } from './integrations/alerts.js';
import { commandApiPanel } from './integrations/command-api.js';

/** A button that runs `onClick` (handlers through `on`: the CSP refuses inline ones). */
function button(label, onClick, cls = 'button') {
  return h('button', { type: 'button', class: cls, on: { click: onClick } }, label);
}

function health(sub) {
  if (sub.paused_at) return badge('Paused: failing for a day', 'danger');
  if (sub.failing_since) return badge('Failing, retrying', 'warning');
  if (sub.last_success_at) return badge('Delivering', 'success');
  return badge('No delivery yet', 'neutral');
}

function outcomeBadge(outcome) {
  const variants = { delivered: 'success', retrying: 'warning', gave_up: 'danger', dropped: 'danger' };
  const words = { delivered: 'Delivered', retrying: 'Failed, will retry', gave_up: 'Gave up', dropped: 'Dropped (outbox full)' };
  return badge(words[outcome] ?? outcome, variants[outcome] ?? 'neutral');
}

export default {
  name: 'integrations',
  title: 'Integrations',
  intro: 'Alerts by e-mail, and webhooks that tell your own tools what happens here: every MDM check-in and command result (as MicroMDM events) and adebox’s own events. Each request is signed with the subscription’s secret.',

  mount(container, ctx) {
    const { signal } = ctx;
    let selected = null;
    const banners = h('div', { class: 'banners', id: 'webhook-banners' });
    const listBody = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading the webhooks…'));
    const list = panel({ id: 'webhooks', title: 'Webhooks', intro: 'Events wait in a durable outbox until the receiver answers 2xx; failures are retried for a day.' }, listBody);
    const logBody = h('div', { class: 'panel-body' });
    const log = panel({ id: 'deliveries', title: 'Delivery log', intro: 'The newest attempts, newest first. Redeliver sends the same event again (same id).' }, logBody);
    log.hidden = true;
    const form = webhookForm({ signal, onCreated: () => load() });
    const alerts = alertsPanel({ signal });
    const commandApi = commandApiPanel({ signal });
    container.append(banners, list, log, form.element, alerts.element, commandApi.element);
    alerts.load();
    commandApi.load();

    async function act(label, fn) {
      try {
        await fn();
        toast(label);
        await load();
      } catch (err) {
        showError(err);
      }
    }

    function row(sub) {
      const actions = h('div', { class: 'actions' },
        button('Delivery log', () => select(sub), 'button'),
        button('Send test', () => act('Test event queued', () => apiPost(`/integrations/webhooks/${sub.id}/test`)), 'button'),
        sub.paused_at ? button('Resume', () => act('Resumed: waiting events are being sent', () => apiPost(`/integrations/webhooks/${sub.id}/resume`)), 'button button-primary') : null,
        button('Delete', () => confirmDialog({
            title: `Delete the webhook ${sub.name}?`,
            message: `Its ${formatNumber(sub.queued)} waiting events and its delivery log are deleted with it; ${sub.url} gets nothing more.`,
            confirmLabel: 'Delete', danger: true, typed: sub.name,
            action: () => apiDelete(`/integrations/webhooks/${sub.id}`),
          }).then((done) => { if (done) { toast('Webhook deleted'); load(); } }), 'button button-danger'));
      return h('tr', { dataset: { id: sub.id } },
        h('td', {}, h('strong', {}, sub.name), h('br'), h('span', { class: 'muted', title: sub.id }, sub.url)),
        h('td', {}, sub.topics.join(', ')),
        h('td', {}, health(sub)),
        h('td', { class: 'num' }, formatNumber(sub.queued), ' / ', formatNumber(sub.max_outbox)),
        h('td', { class: 'num' }, formatNumber(sub.dropped)),
        h('td', {}, timeOr(sub.last_success_at, 'never')),
        h('td', {}, actions));
    }

    function showList(subs) {
      replaceChildren(banners, ...subs.filter((s) => s.paused_at).map((s) => h('div', { class: ['banner', 'banner-danger'], role: 'alert' },
        `The webhook ${s.name} is paused: every delivery failed for a day. `,
        `Fix the receiver at ${s.url}, then press Resume in its row.`)));
      if (subs.length === 0) {
        replaceChildren(listBody, h('div', { class: 'empty-state', id: 'webhooks-empty' },
          h('p', { class: 'empty-title' }, 'No webhook yet'),
          h('p', { class: 'muted' }, 'Add one below to send events to your tools.')));
        return;
      }
      replaceChildren(listBody, h('div', { class: 'table-scroll' }, h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, ['Name and URL', 'Topics', 'Health', 'Waiting', 'Dropped', 'Last delivered', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, subs.map(row)))));
    }

    async function loadLog() {
      if (!selected) return;
      try {
        const lines = await apiGet(`/integrations/webhooks/${selected.id}/deliveries`, { signal, query: { limit: 50 } });
        if (lines.length === 0) {
          replaceChildren(logBody, h('p', { class: 'muted' }, 'Nothing sent yet.'));
          return;
        }
        replaceChildren(logBody, h('div', { class: 'table-scroll' }, h('table', { class: 'table' },
          h('thead', {}, h('tr', {}, ['When', 'Topic', 'Attempt', 'Outcome', 'Status', 'Latency', 'Next retry', 'Error', ''].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, lines.map((l) => h('tr', {},
            h('td', {}, timeElement(l.at)),
            h('td', {}, l.topic, h('br'), h('span', { class: 'muted' }, l.event_id)),
            h('td', { class: 'num' }, String(l.attempt)),
            h('td', {}, outcomeBadge(l.outcome)),
            h('td', {}, l.status ? String(l.status) : '—'),
            h('td', { class: 'num' }, l.latency_ms != null ? `${formatNumber(l.latency_ms)} ms` : '—'),
            h('td', {}, timeOr(l.next_retry_at, '—')),
            h('td', {}, l.error ?? ''),
            h('td', {}, button('Redeliver', () => act('Queued again', () => apiPost(`/integrations/webhooks/${selected.id}/deliveries/${l.seq}/redeliver`)), 'button'))))))));
      } catch (err) {
        if (err.name !== 'AbortError') showError(err, 'Could not load the delivery log');
      }
    }

    function select(sub) {
      selected = sub;
      log.hidden = false;
      log.querySelector('.panel-title').textContent = `Delivery log: ${sub.name}`;
      loadLog();
      log.scrollIntoView({ block: 'start' });
    }

    async function load() {
      try {
        const subs = await apiGet('/integrations/webhooks', { signal });
        showList(subs);
        if (selected) {
          selected = subs.find((s) => s.id === selected.id) ?? null;
          log.hidden = !selected;
          loadLog();
        }
      } catch (err) {
        if (err.name === 'AbortError') return;
        replaceChildren(listBody, h('p', { class: 'error-text' }, `Could not load the webhooks: ${err.message}`));
        showError(err);
      }
    }

    load();
    const timer = setInterval(() => { load(); alerts.loadAlerts(); }, 5000);
    signal.addEventListener('abort', () => clearInterval(timer));
  },
};
