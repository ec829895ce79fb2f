/**
 * badge.js — a status shown as text plus colour, never colour alone.
 *
 * Exposes: `badge(text, variant, {spinner, title})` and `expiryBadge(notAfter, {now,
 * warnDays})` ("Expires in 12 days" amber, "Expired" red).
 * Variants: neutral, success, warning, danger, info, progress (with a spinner).
 * Must not use: the API.
 */

import { h } from '../dom.js';
import { formatAbsolute, formatDeadline, parseTime } from '../format.js';

export const BADGE_VARIANTS = ['neutral', 'success', 'warning', 'danger', 'info', 'progress'];

export function badge(text, variant = 'neutral', { spinner = variant === 'progress', title } = {}) {
  const kind = BADGE_VARIANTS.includes(variant) ? variant : 'neutral';
  return h('span', { class: ['badge', `badge-${kind}`], title, dataset: { variant: kind } },
    spinner ? h('span', { class: 'spinner', 'aria-hidden': 'true' }) : null,
    text);
}

const DAY_MS = 86400 * 1000;

/**
 * How soon a certificate or token expires: red once expired, amber within `warnDays`, green
 * otherwise. The absolute time is on hover.
 */
export function expiryBadge(notAfter, { now = Date.now(), warnDays = 30 } = {}) {
  const date = parseTime(notAfter);
  if (!date) return badge('No expiry date', 'neutral');
  const left = date.getTime() - now;
  const title = formatAbsolute(date);
  if (left <= 0) return badge(`Expired ${formatDeadline(date, now)}`, 'danger', { title });
  const text = `Expires ${formatDeadline(date, now)}`;
  return badge(text, left < warnDays * DAY_MS ? 'warning' : 'success', { title });
}
