/**
 * progress.js — a progress bar for long work (a token sync, a CSV export).
 *
 * Owns: a labelled `role="progressbar"` with its value for assistive technology, a visible
 * line of detail ("Page 3 · 1,200 devices · about 2 minutes left") announced politely, and an
 * indeterminate look while the total is unknown.
 * Exposes: `progressBar({label, id})` → `{element, update({value, max, text}), done(text)}`.
 * Must not use: the API.
 */

import { h, uniqueId } from '../dom.js';
import { formatPercent } from '../format.js';

export function progressBar({ label, id = uniqueId('progress') } = {}) {
  const labelId = `${id}-label`;
  const fill = h('div', { class: 'progress-fill' });
  const track = h('div', {
    class: ['progress-track', 'is-indeterminate'], role: 'progressbar', 'aria-labelledby': labelId,
    'aria-valuemin': '0',
  }, fill);
  const text = h('p', { class: 'progress-text', 'aria-live': 'polite' });
  const element = h('div', { class: 'progress', id },
    h('p', { class: 'progress-label', id: labelId }, label), track, text);

  /** `max` unknown (null) → indeterminate; `text` is the detail line. */
  function update({ value = 0, max = null, text: detail } = {}) {
    if (Number.isFinite(max) && max > 0) {
      const fraction = Math.min(1, Math.max(0, value / max));
      track.classList.remove('is-indeterminate');
      track.setAttribute('aria-valuemax', String(max));
      track.setAttribute('aria-valuenow', String(Math.min(value, max)));
      track.setAttribute('aria-valuetext', detail ? `${formatPercent(fraction)}: ${detail}` : formatPercent(fraction));
      fill.style.width = `${(fraction * 100).toFixed(1)}%`;
    } else {
      track.classList.add('is-indeterminate');
      track.removeAttribute('aria-valuenow');
      track.removeAttribute('aria-valuemax');
      if (detail) track.setAttribute('aria-valuetext', detail);
      fill.style.width = '';
    }
    if (detail !== undefined) text.textContent = detail;
  }

  function done(detail) {
    update({ value: 1, max: 1, text: detail });
    element.classList.add('is-done');
  }

  return { element, update, done };
}
