/**
 * sync/history.js — a token's recent sync runs as a table, newest first: kind, manual or
 * automatic, when and how long, outcome in words, pages, device numbers and the message.
 *
 * Exposes: `historyTable(runs, {id})` → element (an empty state when there are none).
 * Must not use: the API.
 */

import { h } from '../dom.js';
import { formatDuration, formatNumber, localTimeZone, parseTime, timeElement } from '../format.js';
import { kindWords, outcomeBadge } from './words.js';

function duration(run) {
  const a = parseTime(run.started_at);
  const b = parseTime(run.ended_at);
  return a && b ? formatDuration((b - a) / 1000, { display: 'short' }) : '—';
}

export function historyTable(runs, { id = 'sync-history' } = {}) {
  if (!runs?.length) return h('p', { class: 'muted', id }, 'No sync has finished yet.');
  const num = (v) => h('td', { class: 'col-num' }, formatNumber(v ?? 0));
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data', id },
    h('caption', { class: 'sr-only' }, 'Recent sync runs, newest first'),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, `Started (${localTimeZone()})`), h('th', { scope: 'col' }, 'Run'),
      h('th', { scope: 'col' }, 'Took'), h('th', { scope: 'col' }, 'Outcome'),
      h('th', { scope: 'col', class: 'col-num' }, 'Pages'), h('th', { scope: 'col', class: 'col-num' }, 'Seen'),
      h('th', { scope: 'col', class: 'col-num' }, 'Added'), h('th', { scope: 'col', class: 'col-num' }, 'Modified'),
      h('th', { scope: 'col', class: 'col-num' }, 'Removed'), h('th', { scope: 'col' }, 'Message'))),
    h('tbody', {}, runs.map((run) => h('tr', { dataset: { outcome: run.outcome } },
      h('td', { class: 'col-time' }, timeElement(run.started_at)),
      h('td', {}, kindWords(run.kind), h('p', { class: 'muted small' }, run.manual ? 'Manual' : 'Automatic')),
      h('td', { class: 'col-nowrap' }, duration(run)),
      h('td', {}, outcomeBadge(run.outcome)),
      num(run.pages), num(run.stats?.seen), num(run.stats?.added), num(run.stats?.modified),
      num((run.stats?.removed ?? 0) + (run.swept ?? 0)),
      h('td', { class: 'col-wrap' }, run.message, run.error_code ? h('p', { class: 'muted small' }, `Apple’s code: ${run.error_code}`) : null))))));
}
