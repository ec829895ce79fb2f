/**
 * toast.js — short messages that answer an action ("Administrator bob added.").
 *
 * Owns: the two live regions in index.html (`#toasts-status`, polite, for confirmations;
 * `#toasts-alert`, assertive, for errors). Success and info toasts leave after a while (the
 * timer pauses while the pointer or focus is on them); errors stay until closed.
 * Exposes: `toast(message, {variant})`, `showError(err, context)`.
 * Must not use: the API.
 */

import { h } from '../dom.js';

const LIFETIME_MS = { success: 6000, info: 8000 };
const LABELS = { success: 'Done', info: 'Note', error: 'Error', warning: 'Warning' };

/** Shows a toast. variant: 'success' | 'info' | 'warning' | 'error'. Returns a close function. */
export function toast(message, { variant = 'success' } = {}) {
  const urgent = variant === 'error' || variant === 'warning';
  const region = document.getElementById(urgent ? 'toasts-alert' : 'toasts-status');
  if (!region) return () => {};
  const close = () => item.remove();
  const item = h('div', { class: ['toast', `toast-${variant}`], dataset: { variant } },
    h('p', { class: 'toast-text' }, h('strong', { class: 'toast-label' }, `${LABELS[variant] ?? ''}: `), message),
    h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss message', on: { click: close } }, '×'));
  region.append(item);

  const lifetime = LIFETIME_MS[variant];
  if (lifetime) {
    let timer = setTimeout(close, lifetime);
    const pause = () => clearTimeout(timer);
    const resume = () => { timer = setTimeout(close, lifetime / 2); };
    item.addEventListener('mouseenter', pause);
    item.addEventListener('focusin', pause);
    item.addEventListener('mouseleave', resume);
    item.addEventListener('focusout', resume);
  }
  return close;
}

/**
 * Reports a failed action as an error toast. Aborted requests stay silent, and so does a 401:
 * the login view already says what happened.
 */
export function showError(err, context) {
  if (!err || err.name === 'AbortError' || err.code === 'unauthenticated') return;
  const text = err.message || String(err);
  toast(context ? `${context}: ${text}` : text, { variant: 'error' });
}
