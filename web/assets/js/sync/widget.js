/**
 * sync/widget.js — one token's sync, live: where it stands (a badge in words), the progress
 * bar of a running sync (phase, pages, devices seen / added / modified / removed, elapsed,
 * time left), the last result, the next automatic run, and the "Sync now" and "Full resync"
 * buttons, which count down to the next allowed time when Apple's budget says "not yet".
 *
 * Exposes: `syncWidget({tokenId, serverName, compact, onRequested})` → `{element,
 * update(status)}`. The buttons are made once and survive updates, so a 2-second poll never
 * takes the keyboard focus away.
 * Element ids for tests: #sync-now-<token id>, #sync-full-<token id> (also data-sync-now /
 * data-sync-full), .sync-state[data-token] with data-state = running | requested | idle.
 * Must not use: polling (sync/live.js does it; the view feeds `update`).
 */

import { h, replaceChildren } from '../dom.js';
import { apiPost } from '../api.js';
import { formatCountdown, formatDuration, formatNumber, parseTime, timeElement } from '../format.js';
import { disableUntil, setBusy, setDisabledReason } from '../components/form.js';
import { progressBar } from '../components/progress.js';
import { showError, toast } from '../components/toast.js';
import { kindWords, statsLine, syncStateBadge } from './words.js';

function progressText(running, etaS, now) {
  const started = parseTime(running.started_at);
  const elapsed = started ? Math.max(0, (now - started.getTime()) / 1000) : null;
  const parts = [`Page ${formatNumber(running.pages ?? 0)}`, statsLine(running.stats)];
  if (elapsed !== null) parts.push(`${formatCountdown(elapsed)} elapsed`);
  if (Number.isFinite(etaS)) parts.push(`about ${formatDuration(Math.max(etaS, 1))} left`);
  return parts.join(' · ');
}

function phaseWords(running) {
  const what = running.phase === 'fetch' ? 'reading every device from Apple' : 'reading Apple’s changes';
  return `${kindWords(running.kind)}: ${what}`;
}

function lastRunLine(last) {
  if (!last) return h('span', { class: 'muted' }, 'No sync has run yet.');
  // The message already names the kind of run ("Full sync: 300 devices seen, …").
  return h('span', { class: 'sync-last' }, 'Last run ', timeElement(last.ended_at), ': ', last.message);
}

function nextRunLine(status, compact) {
  if (!status.next_run_at) return null;
  const at = parseTime(status.next_run_at);
  const due = at && at.getTime() <= Date.now();
  const what = kindWords(status.next_run_kind).toLowerCase();
  return h('span', { class: 'muted' }, 'Next automatic run: ', what, ' ',
    due ? 'starting now' : timeElement(status.next_run_at, { deadline: false }),
    !compact && status.last_full_at ? [' · last full sync ', timeElement(status.last_full_at)] : null);
}

export function syncWidget({ tokenId, serverName, compact = false, onRequested }) {
  const now = h('button', {
    type: 'button', id: `sync-now-${tokenId}`, class: ['button', compact ? 'button-small' : null, 'button-primary'],
    dataset: { syncNow: tokenId },
  }, 'Sync now', h('span', { class: 'sr-only' }, serverName ? ` (${serverName})` : ''));
  const full = h('button', {
    type: 'button', id: `sync-full-${tokenId}`, class: ['button', compact ? 'button-small' : null],
    dataset: { syncFull: tokenId },
  }, 'Full resync', h('span', { class: 'sr-only' }, serverName ? ` (${serverName})` : ''));
  const head = h('div', { class: 'sync-head' });
  const slot = h('div', { class: 'sync-progress' });
  const next = h('p', { class: 'sync-next small' });
  const failures = h('p', { class: 'sync-failures error-text small', hidden: true });
  const actions = h('div', { class: 'actions sync-actions' }, now, full);
  const element = h('div', { class: ['sync-state', compact ? 'is-compact' : null], dataset: { token: tokenId, state: 'idle' } },
    head, slot, failures, next, actions);

  let progress = null;
  let gate = { kind: 'free' }; // what keeps the buttons disabled: running | until | free
  let stopCountdown = null;
  let asking = false;

  function setGate(nextGate) {
    const same = gate.kind === nextGate.kind && gate.until === nextGate.until;
    if (same) return;
    stopCountdown?.();
    stopCountdown = null;
    setDisabledReason(full, null);
    now.disabled = false;
    gate = nextGate;
    if (gate.kind === 'running') {
      setDisabledReason(full, 'A sync of this token is running; wait for it to finish.');
      now.disabled = true;
    } else if (gate.kind === 'until') {
      stopCountdown = disableUntil(full, gate.until, {
        text: 'Apple’s budget allows the next manual sync in',
        onEnd: () => { gate = { kind: 'free' }; now.disabled = false; },
      });
      now.disabled = true;
    }
    now.setAttribute('aria-describedby', full.getAttribute('aria-describedby') ?? '');
  }

  async function request(button, kind) {
    if (asking) return;
    asking = true;
    const restore = setBusy(button, 'Asking…');
    try {
      const answer = await apiPost(`/sync/${encodeURIComponent(tokenId)}`, { kind });
      restore();
      toast(answer?.message ?? 'Sync started.');
      setGate({ kind: 'running' });
      onRequested?.();
    } catch (err) {
      restore();
      if (err.code === 'sync_budget' && parseTime(err.body?.next_allowed_at)) {
        setGate({ kind: 'until', until: parseTime(err.body.next_allowed_at).getTime() });
        toast(err.message, { variant: 'warning' });
      } else {
        showError(err, 'Could not start the sync');
      }
    } finally {
      asking = false;
    }
  }
  now.addEventListener('click', () => request(now, 'sync'));
  full.addEventListener('click', () => request(full, 'full'));

  function update(status) {
    if (!status) return;
    const running = status.running;
    element.dataset.state = running ? 'running' : status.requested ? 'requested' : 'idle';
    replaceChildren(head, syncStateBadge(status), ' ',
      running ? h('span', {}, phaseWords(running))
        : status.requested ? h('span', {}, `A ${kindWords(status.requested).toLowerCase()} is about to start.`)
          : lastRunLine(status.last_run));

    if (running) {
      if (!progress) {
        progress = progressBar({ label: 'Sync progress', id: `sync-progress-${tokenId}` });
        replaceChildren(slot, progress.element);
      }
      // The expected size is the device count before the run; once a fetch passes it (devices
      // were added at Apple) the total is unknown again, and so is the time left.
      const seen = running.stats?.seen ?? 0;
      const expected = running.phase === 'fetch' && running.expected_devices > seen ? running.expected_devices : null;
      progress.update({ value: seen, max: expected, text: progressText(running, expected ? status.eta_s : null, Date.now()) });
    } else if (progress) {
      progress = null;
      replaceChildren(slot);
    }

    failures.hidden = !(status.consecutive_failures > 1);
    failures.textContent = `${formatNumber(status.consecutive_failures)} runs in a row have failed.`;
    replaceChildren(next, nextRunLine(status, compact));

    if (running || status.requested) setGate({ kind: 'running' });
    else if (parseTime(status.manual_allowed_at) && parseTime(status.manual_allowed_at).getTime() > Date.now()) {
      setGate({ kind: 'until', until: parseTime(status.manual_allowed_at).getTime() });
    } else setGate({ kind: 'free' });
  }

  return { element, update };
}
