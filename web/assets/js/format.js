/**
 * format.js — numbers, durations and times as the admin reads them.
 *
 * Owns: number formatting with thousands separators, durations, absolute times in the
 * admin's local time zone with the zone shown, relative times ("3 hours ago"), deadlines
 * ("in 40 days"), and `<time>`
 * elements that show the relative time and the absolute one on hover (and to screen readers),
 * or a fallback word (`timeOr`).
 * Exposes `refreshRelativeTimes()` so relative times do not go stale while a page stays open.
 * Must not use: the network or any view; all formatting goes through `Intl` with the
 * browser's locale, so separators and month names follow the admin's settings.
 */

import { h, srOnly } from './dom.js';

const numberFormat = new Intl.NumberFormat();
const percentFormat = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 0 });
// 'always' says "in 1 year" and "1 day ago" rather than "next year" and "yesterday", which
// read oddly in lists; only the moment itself is "now".
const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'always' });
const nowFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const absoluteFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric',
  hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short',
});
const dateFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const unitFormats = new Map();

/** `1234567` → "1,234,567" (in the admin's locale); anything not a finite number → "—". */
export function formatNumber(value) {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return Number.isFinite(n) ? numberFormat.format(n) : '—';
}

/** `0.237` → "24%". */
export function formatPercent(fraction) {
  return Number.isFinite(fraction) ? percentFormat.format(fraction) : '—';
}

/** The IANA name of the admin's time zone, e.g. "Europe/Berlin". */
export function localTimeZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
}

/** RFC 3339 string, epoch milliseconds or Date → Date, or null when it is not a valid time. */
export function parseTime(value) {
  if (value === null || value === undefined || value === '') return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** "Nov 24, 2026, 05:00:00 PM GMT+1" — absolute, local zone, zone shown. */
export function formatAbsolute(value) {
  const date = parseTime(value);
  return date ? absoluteFormat.format(date) : '—';
}

/** "Nov 24, 2026" — a day, local zone. */
export function formatDate(value) {
  const date = parseTime(value);
  return date ? dateFormat.format(date) : '—';
}

const RELATIVE_STEPS = [
  ['second', 60], ['minute', 60], ['hour', 24], ['day', 30], ['month', 12], ['year', Infinity],
];

/** "3 hours ago", "in 12 days", "now". `now` is epoch milliseconds (a parameter for tests). */
export function formatRelative(value, now = Date.now()) {
  const date = parseTime(value);
  if (!date) return '—';
  let amount = (date.getTime() - now) / 1000;
  if (Math.abs(amount) < 45) return nowFormat.format(0, 'second');
  for (const [unit, size] of RELATIVE_STEPS) {
    if (Math.abs(amount) < size) return relativeFormat.format(Math.round(amount), unit);
    amount /= size;
  }
  return relativeFormat.format(Math.round(amount), 'year');
}

/**
 * Like `formatRelative`, but counts days up to 90 days away ("in 40 days", not "next month"),
 * for deadlines such as certificate and token expiry where the exact count matters.
 */
export function formatDeadline(value, now = Date.now()) {
  const date = parseTime(value);
  if (!date) return '—';
  const ms = date.getTime() - now;
  const days = ms / 86400000;
  if (Math.abs(days) >= 90) return formatRelative(date, now);
  if (Math.abs(days) < 1) return formatRelative(date, now);
  return relativeFormat.format(ms > 0 ? Math.floor(days) : -Math.floor(-days), 'day');
}

function unitFormat(unit, display) {
  const key = `${unit}/${display}`;
  if (!unitFormats.has(key)) {
    unitFormats.set(key, new Intl.NumberFormat(undefined, { style: 'unit', unit, unitDisplay: display }));
  }
  return unitFormats.get(key);
}

const DURATION_UNITS = [['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]];

/**
 * `273780` → "3 days, 4 hours": the two largest non-zero units. `display: 'short'` gives
 * "3 days, 4 hr" for tight places.
 */
export function formatDuration(totalSeconds, { display = 'long' } = {}) {
  if (!Number.isFinite(totalSeconds) || totalSeconds < 0) return '—';
  let rest = Math.floor(totalSeconds);
  const parts = [];
  for (const [unit, size] of DURATION_UNITS) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || (unit === 'second' && parts.length === 0)) parts.push(unitFormat(unit, display).format(count));
    if (parts.length === 2) break;
    if (parts.length === 1 && count === 0) break;
  }
  return parts.join(', ');
}

/** `272` → "4:32" (minutes:seconds; hours when needed) for countdowns. */
export function formatCountdown(totalSeconds) {
  const s = Math.max(0, Math.ceil(totalSeconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const seconds = String(s % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/**
 * A `<time>` element. `mode: 'relative'` (lists) shows "3 hours ago" with the absolute time on
 * hover and for screen readers, and keeps itself current through `refreshRelativeTimes`
 * (`deadline: true` counts days, as `formatDeadline`);
 * `mode: 'absolute'` (detail panels) shows the absolute time with the relative one on hover.
 */
export function timeElement(value, { mode = 'relative', deadline = false } = {}) {
  const date = parseTime(value);
  if (!date) return h('span', { class: 'muted' }, '—');
  const iso = date.toISOString();
  if (mode === 'absolute') {
    return h('time', { datetime: iso, title: formatRelative(date) }, formatAbsolute(date));
  }
  const abs = formatAbsolute(date);
  const relative = deadline ? formatDeadline : formatRelative;
  return h('time', { datetime: iso, title: abs, dataset: { relative: deadline ? 'deadline' : '' } },
    h('span', { class: 'time-relative' }, relative(date)), srOnly(` (${abs})`));
}

/** A relative `<time>`, or `fallback` (e.g. "Never") in muted text when there is no time. */
export function timeOr(value, fallback) {
  return parseTime(value) ? timeElement(value) : h('span', { class: 'muted' }, fallback);
}

/** Re-renders every relative `<time>` under `root` against `now`. */
export function refreshRelativeTimes(root = document, now = Date.now()) {
  for (const el of root.querySelectorAll('time[data-relative]')) {
    const label = el.querySelector('.time-relative');
    const relative = el.dataset.relative === 'deadline' ? formatDeadline : formatRelative;
    if (label) label.textContent = relative(el.getAttribute('datetime'), now);
  }
}
