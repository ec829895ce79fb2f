/**
 * charts/funnel.js — steps that narrow, each drawn as a centred bar (the Dashboard's enrollment
 * funnel: in Apple → profile assigned → pushed → contacted us → attested → enrolled →
 * released).
 *
 * Exposes: `funnel({title, steps: [{key, label, value}], emptyText, id, caption})` → a
 * `<figure>`.
 * Each row states its count, its share of the first step and how many it lost from the step
 * before, so the picture is never the only carrier of the numbers.
 * Must not use: the API.
 */

import { h, svg } from '../dom.js';
import { formatNumber, formatPercent } from '../format.js';
import { chartRoot, describeValues, seriesClass } from './common.js';

const WIDTH = 1000;
const HEIGHT = 28;

export function funnel({ title, steps, emptyText = 'No data yet.', id, caption = true }) {
  const first = Math.max(0, steps[0]?.value || 0);
  const max = Math.max(1, ...steps.map((s) => s.value || 0));
  const empty = steps.every((s) => !s.value);

  const rows = steps.map((step, index) => {
    const value = Math.max(0, step.value || 0);
    const width = (value / max) * WIDTH;
    const bar = chartRoot({
      title: `${step.label}: ${formatNumber(value)}`,
      description: first > 0 ? `${formatPercent(value / first)} of ${steps[0].label}` : emptyText,
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      attrs: { class: 'chart-svg funnel-bar', preserveAspectRatio: 'none' },
    },
    svg('rect', { class: 'chart-track', x: 0, y: 0, width: WIDTH, height: HEIGHT, rx: 3 }),
    value > 0 ? svg('rect', {
      class: ['chart-segment', seriesClass(index)], x: ((WIDTH - width) / 2).toFixed(2), y: 0,
      width: width.toFixed(2), height: HEIGHT, rx: 3,
    }) : null);
    const previous = index > 0 ? Math.max(0, steps[index - 1].value || 0) : null;
    const lost = previous !== null && previous > value ? previous - value : 0;
    return h('li', { class: 'funnel-row', dataset: { key: step.key, value: String(value) } },
      h('span', { class: 'funnel-label' }, step.label),
      bar,
      h('span', { class: 'funnel-value' }, formatNumber(value)),
      h('span', { class: 'funnel-share' }, first > 0 ? formatPercent(value / first) : '—'),
      h('span', { class: 'funnel-lost' }, lost > 0 ? `−${formatNumber(lost)}` : ''));
  });

  return h('figure', { class: ['chart', 'chart-funnel', empty ? 'is-empty' : null], id, 'aria-label': `${title}: ${describeValues(steps)}` },
    caption && h('figcaption', { class: 'chart-title' }, title),
    h('div', { class: 'funnel-head', 'aria-hidden': 'true' },
      h('span', {}, 'Step'), h('span', {}, ''), h('span', {}, 'Devices'), h('span', {}, 'Of first'), h('span', {}, 'Lost')),
    h('ol', { class: 'funnel-rows' }, rows),
    empty ? h('p', { class: 'chart-empty' }, emptyText) : null);
}
