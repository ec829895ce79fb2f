/**
 * charts/stacked-bar.js — one horizontal bar split into parts, with a legend (the Dashboard's
 * devices by lifecycle state).
 *
 * Exposes: `stackedBar({title, segments: [{key, label, value}], emptyText, id, caption})` → a
 * `<figure>` (`caption: false` when the page already shows the title as a heading). With no data it draws the empty track and says why it is empty.
 * Must not use: the API.
 */

import { h, svg } from '../dom.js';
import { formatNumber } from '../format.js';
import { chartRoot, describeValues, legend, seriesClass } from './common.js';

const WIDTH = 1000;
const HEIGHT = 32;

export function stackedBar({ title, segments, emptyText = 'No data yet.', id, caption = true }) {
  const total = segments.reduce((sum, s) => sum + Math.max(0, s.value || 0), 0);
  const parts = [svg('rect', { class: 'chart-track', x: 0, y: 0, width: WIDTH, height: HEIGHT, rx: 4 })];
  let x = 0;
  segments.forEach((segment, index) => {
    const value = Math.max(0, segment.value || 0);
    if (total === 0 || value === 0) return;
    const width = (value / total) * WIDTH;
    parts.push(svg('rect', {
      class: ['chart-segment', seriesClass(index)], x: x.toFixed(2), y: 0, width: width.toFixed(2), height: HEIGHT,
      dataset: { key: segment.key },
    }, svg('title', {}, `${segment.label}: ${formatNumber(value)}`)));
    x += width;
  });

  const description = total === 0 ? `${emptyText}` : `${formatNumber(total)} in all: ${describeValues(segments)}.`;
  const chart = chartRoot({
    title, description, viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    attrs: { class: 'chart-svg chart-bar', preserveAspectRatio: 'none' },
  }, parts);

  return h('figure', { class: ['chart', 'chart-stacked', total === 0 ? 'is-empty' : null], id },
    caption && h('figcaption', { class: 'chart-title' }, title),
    total > 0 ? h('p', { class: 'chart-total' }, `${formatNumber(total)} in all`) : null,
    chart,
    total === 0 ? h('p', { class: 'chart-empty' }, emptyText) : null,
    legend(segments.map((s, i) => ({ ...s, className: seriesClass(i) })), { total }));
}
