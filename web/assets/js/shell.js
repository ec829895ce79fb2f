/**
 * shell.js — the frame around every signed-in page.
 *
 * Owns: the left navigation (with `aria-current` on the section shown, Sandbox only in
 * sandbox mode; on a phone folded behind the #nav-menu button, closed again on navigation), the sandbox marker, the banner area fed by the status poll, the signed-in
 * user with the Log out button, and the page header (title + one-line explanation) above
 * each view. Also the frame of the signed-out pages (setup, login): no navigation, but the
 * same sandbox marker.
 * Exposes: `appShell({session, sandbox, onLogout})`, `authShell({sandbox})`; each returns
 * `{element, content, setPage({name, title, intro}), destroy()}`.
 * Must not use: the API (main.js passes `onLogout`; status.js feeds the banners).
 */

import { h, replaceChildren } from './dom.js';
import { renderBanners } from './components/banner.js';
import { can, scoped } from './roles.js';
import { SECTIONS } from './sections.js';
import { onStatus } from './status.js';

function sandboxMarker() {
  return h('div', { class: 'sandbox-marker', id: 'sandbox-marker', role: 'note' },
    h('strong', { class: 'sandbox-label' }, 'Sandbox'),
    h('span', {}, ' — Apple’s services are simulated here; no real device, token or Apple account is touched.'));
}

function pageHeader() {
  const title = h('h1', { id: 'page-title', tabindex: '-1' });
  const intro = h('p', { class: 'page-intro', id: 'page-intro' });
  return { element: h('header', { class: 'page-header' }, title, intro), title, intro };
}

function setPageFor(main, header) {
  return ({ name, title, intro }) => {
    main.dataset.page = name;
    header.title.textContent = title;
    header.intro.textContent = intro ?? '';
    header.intro.hidden = !intro;
    document.title = `${title} — adebox`;
  };
}

/** The signed-in frame. */
export function appShell({ session, sandbox, onLogout }) {
  const links = new Map();
  const navList = h('ul', { class: 'nav-list' }, SECTIONS
    .filter((s) => (!s.sandboxOnly || sandbox) && (!s.needs || can(s.needs)))
    .filter((s) => !s.orgWide || !scoped())
    .map((section) => {
      const link = h('a', {
        href: section.href, id: `nav-${section.name}`, class: ['nav-link', section.sandboxOnly ? 'nav-sandbox' : null],
        dataset: { nav: section.name },
      }, section.label);
      links.set(section.name, link);
      return h('li', {}, link);
    }));

  const logout = h('button', { type: 'button', id: 'logout', class: 'button button-quiet' }, 'Log out');
  logout.addEventListener('click', () => onLogout(logout));

  const banners = h('div', { id: 'banners', class: 'banners', role: 'region', 'aria-label': 'Needs your attention', 'aria-live': 'polite', hidden: true });
  const header = pageHeader();
  const content = h('div', { id: 'page-content', class: 'page-content' });
  const main = h('main', { id: 'main', tabindex: '-1', class: 'main' }, header.element, content);

  // On a phone the navigation folds behind this button (layout.css hides it on wide screens).
  const menu = h('button', { type: 'button', id: 'nav-menu', class: 'menu-button', 'aria-expanded': 'false', 'aria-controls': 'nav-panel' }, 'Menu');
  const sidebar = h('aside', { class: 'sidebar' },
    h('div', { class: 'brand' },
      h('img', { src: '/admin/assets/favicon.svg', alt: '', class: 'brand-mark', width: '28', height: '28' }),
      h('span', { class: 'brand-name' }, 'adebox'),
      sandbox ? h('span', { class: 'brand-sandbox' }, 'Sandbox') : null,
      menu),
    h('div', { class: 'nav-panel', id: 'nav-panel' },
      h('nav', { class: 'nav', 'aria-label': 'Sections' }, navList),
      h('div', { class: 'user' },
        h('p', { class: 'user-line' }, 'Signed in as ', h('strong', { id: 'current-user' }, session.user)),
        logout)));
  const setMenu = (open) => {
    sidebar.classList.toggle('is-open', open);
    menu.setAttribute('aria-expanded', String(open));
  };
  menu.addEventListener('click', () => setMenu(menu.getAttribute('aria-expanded') !== 'true'));
  const element = h('div', { class: ['app', sandbox ? 'is-sandbox' : null] },
    sidebar,
    h('div', { class: 'main-column' },
      sandbox ? sandboxMarker() : null,
      banners,
      main));

  const unsubscribe = onStatus((status, error) => {
    const list = [...(status?.banners ?? [])];
    if (error && error.code !== 'unauthenticated') {
      list.unshift({ level: 'error', code: 'status_unavailable', message: `The page cannot read the appliance’s status: ${error.message} It retries every 30 seconds.`, link: null });
    }
    renderBanners(banners, list, SECTIONS);
  });

  const setPage = setPageFor(main, header);
  return {
    element,
    content,
    setPage(page) {
      setPage(page);
      setMenu(false);
      for (const [name, link] of links) {
        if (name === page.name) link.setAttribute('aria-current', 'page');
        else link.removeAttribute('aria-current');
      }
    },
    destroy: unsubscribe,
  };
}

/** The signed-out frame (setup, login). */
export function authShell({ sandbox }) {
  const header = pageHeader();
  const content = h('div', { id: 'page-content', class: 'auth-content' });
  const main = h('main', { id: 'main', tabindex: '-1', class: 'auth-main' },
    h('div', { class: 'auth-card' },
      h('div', { class: 'brand brand-auth' },
        h('img', { src: '/admin/assets/favicon.svg', alt: '', class: 'brand-mark', width: '32', height: '32' }),
        h('span', { class: 'brand-name' }, 'adebox')),
      header.element,
      content));
  const element = h('div', { class: ['auth', sandbox ? 'is-sandbox' : null] }, sandbox ? sandboxMarker() : null, main);
  return { element, content, setPage: setPageFor(main, header), destroy() {} };
}

/** Puts a frame on the page. */
export function showShell(root, shell) {
  replaceChildren(root, shell.element);
}
