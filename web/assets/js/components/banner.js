/**
 * banner.js — what needs the admin, shown at the top of every page.
 *
 * Owns: one banner's markup (level as a word and a colour, the message, a link to the fix)
 * and rendering a list of them into the banner area without churn: the area is re-rendered
 * only when the list changed, so a 30-second poll neither moves focus nor repeats itself to
 * screen readers.
 * Exposes: `banner({level, code, message, link, linkText})`, `renderBanners(container, list)`.
 * Must not use: the API (status.js polls; shell.js feeds this).
 */

import { h, replaceChildren } from '../dom.js';

const LEVELS = {
  error: { label: 'Action needed', className: 'banner-error' },
  warning: { label: 'Warning', className: 'banner-warning' },
  info: { label: 'Note', className: 'banner-info' },
};

/** A link's text: the section it leads to when it is one of ours. */
function linkLabel(link, sections) {
  try {
    const url = new URL(link, window.location.origin);
    const section = url.origin === window.location.origin
      ? sections.find((s) => url.pathname === s.href || url.pathname.startsWith(`${s.href}/`))
      : null;
    return section ? `Open ${section.label}` : 'How to fix';
  } catch {
    return 'How to fix';
  }
}

/** Only links the page can follow safely: our own paths or https pages. */
function safeLink(link) {
  if (typeof link !== 'string' || link === '') return null;
  if (link.startsWith('/') && !link.startsWith('//')) return link;
  try {
    return new URL(link).protocol === 'https:' ? link : null;
  } catch {
    return null;
  }
}

export function banner({ level = 'info', code, message, link, linkText }, sections = []) {
  const meta = LEVELS[level] ?? LEVELS.info;
  const href = safeLink(link);
  const external = href && !href.startsWith('/');
  return h('div', { class: ['banner', meta.className], dataset: { code, level } },
    h('strong', { class: 'banner-level' }, meta.label),
    h('p', { class: 'banner-message' }, message || ''),
    href ? h('a', {
      class: 'banner-link', href,
      rel: external ? 'noopener noreferrer' : null,
      target: external ? '_blank' : null,
    }, linkText || linkLabel(href, sections)) : null);
}

/** Shows `list` in `container` when it differs from what is shown. */
export function renderBanners(container, list, sections = []) {
  const key = JSON.stringify(list ?? []);
  if (container.dataset.shown === key) return;
  container.dataset.shown = key;
  replaceChildren(container, (list ?? []).map((item) => banner(item, sections)));
  container.hidden = !list || list.length === 0;
}
