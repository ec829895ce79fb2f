/**
 * enrollment/funnel-panel.js — the enrollment funnel for the last 24 hours and for all time
 * (`GET /api/v1/enrollment/funnel`), each as a bar of what the requests ended in plus every
 * step's count in words, so the picture is never the only carrier of the numbers.
 * Exposes: `funnelFigures(funnel)` → nodes.
 * Element ids for tests: #enroll-funnel-24h, #enroll-funnel-all (each step's count is a
 * `[data-step=<step>]` element holding the number).
 * Must not use: the API.
 */

import { h } from '../dom.js';
import { formatNumber } from '../format.js';
import { badge } from '../components/badge.js';
import { stackedBar } from '../charts/stacked-bar.js';
import { STEP_WORDS } from './words.js';

// Where a request ends: served, refused, or told to update first. (Audit-only passes are
// also counted as served, so they are told apart in words, not in the bar.)
const OUTCOMES = ['profile_served', 'refused', 'os_update_required'];

function countsOf(funnel, period) {
  const counts = {};
  for (const s of funnel?.steps ?? []) counts[s.step] = Number(s[period] ?? 0);
  return counts;
}

function figure({ id, title, counts }) {
  const label = (key) => STEP_WORDS.find(([k]) => k === key)?.[1] ?? key;
  const bar = stackedBar({
    id: `${id}-chart`, title: `${title}: how requests ended`, caption: false,
    segments: OUTCOMES.map((key) => ({ key, label: label(key), value: counts[key] ?? 0 })),
    emptyText: 'No device has reached the enrollment URL in this period.',
  });
  const steps = h('dl', { class: 'enroll-steps' }, STEP_WORDS.map(([key, text, tone]) => [
    h('dt', {}, badge(text, tone)),
    h('dd', { dataset: { step: key } }, formatNumber(counts[key] ?? 0)),
  ]));
  return h('section', { class: 'enroll-period', id, 'aria-labelledby': `${id}-title` },
    h('h3', { class: 'subtitle', id: `${id}-title` }, title), bar, steps);
}

export function funnelFigures(funnel) {
  return [
    h('div', { class: 'grid-2 enroll-periods' },
      figure({ id: 'enroll-funnel-24h', title: 'Last 24 hours', counts: countsOf(funnel, 'last_24h') }),
      figure({ id: 'enroll-funnel-all', title: 'All time', counts: countsOf(funnel, 'all_time') })),
    h('p', { class: 'muted small' },
      'These count requests, not devices: a device that tries twice counts twice. “Contacted us” counts requests whose signed device information could be read; one that is not a genuine device request is counted only as refused.'),
  ];
}
