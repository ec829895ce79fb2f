/**
 * panel.js — a titled section of a page: heading, one-line explanation, content.
 * Exposes: `panel({id, title, intro, className}, ...children)`; the heading's id is
 * `<id>-title` and it can take focus (tabindex -1) so a page can move the reader there.
 * Must not use: the API.
 */

import { h } from '../dom.js';

export function panel({ id, title, intro, className }, ...children) {
  const titleId = id ? `${id}-title` : undefined;
  return h('section', { class: ['panel', className], id, 'aria-labelledby': titleId },
    h('h2', { id: titleId, class: 'panel-title', tabindex: '-1' }, title),
    intro ? h('p', { class: 'panel-intro' }, intro) : null,
    children);
}
