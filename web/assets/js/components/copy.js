/**
 * copy.js — a "Copy" button for values the admin must take elsewhere (a fingerprint, a new
 * API token). It says whether copying worked, and when the browser refuses, it selects the
 * text so Ctrl+C works.
 * Exposes: `copyButton({getText, label, target})`.
 * Must not use: the API.
 */

import { h } from '../dom.js';
import { toast } from './toast.js';

export function copyButton({ getText, label = 'Copy', target = null, id, describedBy }) {
  const button = h('button', { type: 'button', class: 'button button-small', id, 'aria-describedby': describedBy }, label);
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(getText());
      button.textContent = 'Copied';
      toast('Copied to the clipboard.', { variant: 'info' });
      setTimeout(() => { button.textContent = label; }, 2500);
    } catch {
      if (target && typeof target.select === 'function') {
        target.focus();
        target.select();
      }
      toast('The browser did not allow copying. The text is selected: press Ctrl+C (⌘C on a Mac).', { variant: 'warning' });
    }
  });
  return button;
}
