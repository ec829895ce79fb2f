/**
 * charts/timeline.js — dated events on one axis with "today" marked (the Dashboard's expiry
 * timeline: certificates now, server tokens once they exist).
 *
 * Exposes: `timeline({title, items: [{key, label, at, tone, badge}], now, emptyText, id,
 * caption, horizonDays})` → a `<figure>` with the SVG axis and, under it, the same events as
 * a list in words with the exact local time on hover. The axis spans a month back to
 * `horizonDays` ahead so what is close stays readable; events further out sit at the right
 * edge with their year. Labels are spread over lanes above and below the axis.
 * Must not use: the API. `now` is a parameter (epoch ms) so the drawing is testable.
 */

import { h, svg } from '../dom.js';
import { formatRelative, parseTime, timeElement } from '../format.js';
import { badge } from '../components/badge.js';
import { chartRoot, toneClass } from './common.js';

const WIDTH = 1000;
const HEIGHT = 150;
const AXIS_Y = 75;
const PAD = 24;
const EDGE = 40; // room at the right end for events beyond the horizon
const DAY = 86400 * 1000;
const LANES = [-22, 42, -44, 64]; // label baselines relative to the axis: above, below, …
const CHAR_WIDTH = 6.6; // rough width of a 12-unit label character, for spacing lanes
const monthFormat = new Intl.DateTimeFormat(undefined, { month: 'short' });
const yearFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric' });

function monthTicks(from, to) {
  const ticks = [];
  const start = new Date(from);
  const cursor = new Date(start.getFullYear(), start.getMonth() + 1, 1);
  const months = (to - from) / (30 * DAY);
  const step = months > 36 ? 6 : months > 18 ? 3 : 1;
  while (cursor.getTime() <= to) {
    if (cursor.getMonth() % step === 0) ticks.push(new Date(cursor));
    cursor.setMonth(cursor.getMonth() + 1);
  }
  return ticks;
}

function defaultBadge(tone) {
  if (tone === 'danger') return badge('Overdue', 'danger');
  if (tone === 'warning') return badge('Soon', 'warning');
  return badge('Scheduled', 'neutral');
}

/** Places each label in the first lane where it does not overlap the previous one. */
function placeLabels(points) {
  const laneEnds = LANES.map(() => -Infinity);
  return points.map((point) => {
    const textWidth = point.text.length * CHAR_WIDTH;
    const { x } = point;
    const anchor = x + textWidth / 2 > WIDTH ? 'end' : x - textWidth / 2 < 0 ? 'start' : 'middle';
    const left = anchor === 'start' ? x : anchor === 'end' ? x - textWidth : x - textWidth / 2;
    let lane = laneEnds.findIndex((end) => end + 8 < left);
    if (lane === -1) lane = laneEnds.indexOf(Math.min(...laneEnds));
    laneEnds[lane] = left + textWidth;
    return { ...point, anchor, offset: LANES[lane] };
  });
}

export function timeline({
  title, items, now = Date.now(), emptyText = 'Nothing scheduled yet.', id, caption = true, horizonDays = 400,
}) {
  const dated = items
    .map((item) => ({ ...item, date: parseTime(item.at) }))
    .filter((item) => item.date)
    .sort((a, b) => a.date - b.date);
  const from = Math.min(now - 30 * DAY, ...dated.map((i) => i.date.getTime() - 15 * DAY));
  const to = now + horizonDays * DAY;
  const xOf = (t) => PAD + ((Math.min(t, to) - from) / (to - from)) * (WIDTH - PAD - EDGE - PAD);

  const parts = [svg('line', { class: 'timeline-axis', x1: PAD, x2: WIDTH - PAD, y1: AXIS_Y, y2: AXIS_Y })];
  for (const tick of monthTicks(from, to)) {
    const x = xOf(tick.getTime());
    const label = tick.getMonth() === 0 ? yearFormat.format(tick) : monthFormat.format(tick);
    parts.push(svg('line', { class: 'timeline-tick', x1: x, x2: x, y1: AXIS_Y - 4, y2: AXIS_Y + 4 }),
      svg('text', { class: ['timeline-tick-label', tick.getMonth() === 0 ? 'is-year' : null], x, y: AXIS_Y + 18, 'text-anchor': 'middle' }, label));
  }
  const nowX = xOf(now);
  parts.push(svg('line', { class: 'timeline-now', x1: nowX, x2: nowX, y1: 18, y2: HEIGHT - 4 }),
    svg('text', { class: 'timeline-now-label', x: nowX + 4, y: 14 }, 'Today'));

  const points = placeLabels(dated.map((item) => {
    const beyond = item.date.getTime() > to;
    return {
      item,
      x: beyond ? WIDTH - PAD : xOf(item.date.getTime()),
      text: beyond ? `${item.label} (${yearFormat.format(item.date)})` : item.label,
      beyond,
    };
  }));
  for (const { item, x, text, anchor, offset, beyond } of points) {
    const y = AXIS_Y + offset;
    parts.push(svg('g', { class: ['timeline-item', toneClass(item.tone), beyond ? 'is-beyond' : null], dataset: { key: item.key } },
      svg('line', { class: 'timeline-stem', x1: x, x2: x, y1: AXIS_Y, y2: y + (offset < 0 ? 4 : -12) }),
      beyond
        ? svg('path', { d: `M${x - 7} ${AXIS_Y - 7} L${x + 3} ${AXIS_Y} L${x - 7} ${AXIS_Y + 7} Z` })
        : svg('circle', { cx: x, cy: AXIS_Y, r: 6 }),
      svg('text', { x, y, 'text-anchor': anchor }, text)));
  }

  const description = dated.length === 0
    ? emptyText
    : dated.map((i) => `${i.label} ${formatRelative(i.date, now)}`).join('; ');
  const chart = chartRoot({ title, description, viewBox: `0 0 ${WIDTH} ${HEIGHT}`, attrs: { class: 'chart-svg chart-timeline' } }, parts);

  const list = dated.length === 0
    ? h('p', { class: 'chart-empty' }, emptyText)
    : h('ul', { class: 'timeline-list' }, dated.map((item) => h('li', { dataset: { key: item.key } },
      item.badge ?? defaultBadge(item.tone),
      h('span', { class: 'timeline-list-label' }, item.label),
      timeElement(item.date, { deadline: true }))));

  return h('figure', { class: ['chart', 'chart-timeline-figure', dated.length === 0 ? 'is-empty' : null], id },
    caption && h('figcaption', { class: 'chart-title' }, title), chart, list);
}
