/**
 * router.js — History-API routing for everything under `/admin/`.
 *
 * Owns: turning the URL into a route (`{name, query, url}`), following same-origin links
 * without a page load, Back/Forward, and query-only updates (filters, pages) so a view can be
 * bookmarked and shared. `/admin/` is the dashboard; `/admin/<name>` is the view `<name>`.
 * Exposes: `startRouter`, `navigate`, `setQuery`, `markShown`, `currentRoute`, `adminHref`,
 * `safeNext`.
 * Must not use: the API or any view; main.js decides what a route shows.
 */

const PREFIX = '/admin';
let onRoute = null;
let shownName = null;
let lastLocation = null; // path + query last rendered; a change of anchor alone is not a navigation

function here() {
  return window.location.pathname + window.location.search;
}

/** The route for a URL (defaults to the current location); `url` keeps query and anchor. */
export function currentRoute(url = new URL(window.location.href)) {
  let rest = url.pathname.startsWith(`${PREFIX}/`) ? url.pathname.slice(PREFIX.length + 1) : '';
  rest = rest.replace(/\/+$/, '');
  const name = rest === '' ? 'dashboard' : safeDecode(rest);
  return { name, query: new URLSearchParams(url.search), url: url.pathname + url.search + url.hash };
}

function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a malformed escape is an unknown route, not a crash
  }
}

/** `/admin/<name>?<query>` for a route name ('dashboard' → `/admin/`). */
export function adminHref(name, query) {
  const path = name === 'dashboard' ? `${PREFIX}/` : `${PREFIX}/${name.split('/').map(encodeURIComponent).join('/')}`;
  const qs = query ? new URLSearchParams(query).toString() : '';
  return qs ? `${path}?${qs}` : path;
}

/**
 * A return URL taken from the query is followed only when it stays inside the admin page:
 * an absolute or protocol-relative URL there would be an open redirect.
 */
export function safeNext(value) {
  if (typeof value !== 'string' || !value.startsWith(`${PREFIX}/`) || value.startsWith('//')) return null;
  if (value.includes('\\') || /[\u0000-\u001f]/.test(value)) return null;
  const route = currentRoute(new URL(value, window.location.origin));
  return route.name === 'login' || route.name === 'setup' ? null : value;
}

/**
 * Starts listening; `handler(route, {queryOnly})` renders. `queryOnly` is true when Back or
 * Forward only changed the query of the view on screen, so the view can update in place.
 */
export function startRouter(handler) {
  onRoute = handler;
  lastLocation = here();
  window.addEventListener('popstate', () => {
    // Following an in-page anchor (the skip link, "On this page") also fires popstate.
    if (here() === lastLocation) return;
    lastLocation = here();
    const route = currentRoute();
    handler(route, { queryOnly: route.name === shownName });
  });
  document.addEventListener('click', followLink);
}


/** Goes to an `/admin/…` URL: pushes history (or replaces it) and renders it in full. */
export function navigate(url, { replace = false } = {}) {
  const target = new URL(url, window.location.origin);
  const path = target.pathname + target.search + target.hash;
  if (replace) window.history.replaceState({}, '', path);
  else window.history.pushState({}, '', path);
  lastLocation = here();
  onRoute?.(currentRoute(), { queryOnly: false });
}

/**
 * Changes only the query of the current view (filters, page, sort). `push: true` makes a
 * history entry (pages), otherwise the entry is replaced (typing in a filter). The view is
 * not re-rendered: it asked for the change and already shows it. Back/Forward later hands the
 * query to the view's `onQuery`.
 */
export function setQuery(params, { push = false } = {}) {
  const qs = new URLSearchParams(params).toString();
  const url = `${window.location.pathname}${qs ? `?${qs}` : ''}`;
  if (url === window.location.pathname + window.location.search) return;
  if (push) window.history.pushState({}, '', url);
  else window.history.replaceState({}, '', url);
  lastLocation = here();
}

/** Records which route is on screen (main.js calls this after rendering). */
export function markShown(name) {
  shownName = name;
}

function followLink(event) {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target instanceof Element ? event.target.closest('a[href]') : null;
  if (!link || link.hasAttribute('download') || (link.target && link.target !== '_self')) return;
  const url = new URL(link.href, window.location.href);
  if (url.origin !== window.location.origin) return;
  if (!url.pathname.startsWith(`${PREFIX}/`) && url.pathname !== PREFIX) return;
  if (url.pathname.startsWith(`${PREFIX}/assets/`)) return;
  // An in-page anchor (#section) scrolls as usual.
  if (url.hash && url.pathname === window.location.pathname && url.search === window.location.search) return;
  event.preventDefault();
  navigate(url.pathname + url.search + url.hash);
}
