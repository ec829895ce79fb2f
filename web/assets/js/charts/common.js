/**
 * charts/common.js — what the chart helpers share.
 *
 * Owns: the SVG root every chart uses (`role="img"` with a title and a text description, so
 * a screen reader hears the numbers), the colour series (CSS classes `series-0` … `series-7`
 * and tones `tone-success` … in charts.css, chosen for 3:1 contrast against white), and the
 * HTML legend that states each value in words next to its colour.
 * Exposes: `chartRoot`, `legend`, `seriesClass`, `toneClass`.
 * Must not use: the API; colours never carry meaning alone (the legend says it in text).
 */

import { h, svg, uniqueId } from '../dom.js';
import { formatNumber, formatPercent } from '../format.js';

export const SERIES_COUNT = 8;

export function seriesClass(index) {
  return `series-${index % SERIES_COUNT}`;
}

export function toneClass(tone) {
  return ['success', 'warning', 'danger', 'info', 'neutral'].includes(tone) ? `tone-${tone}` : 'tone-neutral';
}

/** An `<svg role="img">` with `<title>` and `<desc>`; extra attributes go on the root. */
export function chartRoot({ title, description, viewBox, attrs = {} }, ...children) {
  const id = uniqueId('chart');
  return svg('svg', {
    viewBox, role: 'img', 'aria-labelledby': `${id}-title ${id}-desc`, focusable: 'false', ...attrs,
  }, svg('title', { id: `${id}-title` }, title), svg('desc', { id: `${id}-desc` }, description), children);
}

/** A legend: swatch, label, count, and share of the total (when there is a total). */
export function legend(items, { total } = {}) {
  return h('ul', { class: 'chart-legend' }, items.map((item, index) => h('li', { dataset: { key: item.key } },
    h('span', { class: ['swatch', item.className ?? seriesClass(index)], 'aria-hidden': 'true' }),
    h('span', { class: 'legend-label' }, item.label),
    h('span', { class: 'legend-value' }, formatNumber(item.value)),
    total > 0 ? h('span', { class: 'legend-share' }, formatPercent(item.value / total)) : null)));
}

/** "In Apple 12, Enrolled 3" for descriptions. */
export function describeValues(items) {
  return items.map((i) => `${i.label} ${formatNumber(i.value)}`).join(', ');
}
