/**
 * main.js — starts the admin page and decides what each URL shows.
 *
 * Owns: the boot sequence (first-run probe, session probe), the gate in front of every route
 * (setup while no admin exists; login while signed out, remembering where the admin was going;
 * no login page while signed in), switching between the signed-out and signed-in frames,
 * mounting and unmounting views, focus and title on navigation, sign-out, and the end of a
 * session (any 401).
 * Exposes: nothing; index.html loads it as the page's only script.
 * Must not use: inline handlers or markup strings (see dom.js).
 */

import './errors.js';
import { h, replaceChildren } from './dom.js';
import { apiPost, setUnauthenticatedHandler } from './api.js';
import { refreshRelativeTimes } from './format.js';
import { adminHref, currentRoute, markShown, navigate, safeNext, startRouter } from './router.js';
import {
  clearSession, getSession, isSandbox, loadSession, loadSetupState, markSetupDone, setSession, setupRequired,
} from './session.js';
import { appShell, authShell, showShell } from './shell.js';
import { refreshStatus, startStatus, stopStatus } from './status.js';
import { setBusy } from './components/form.js';
import { showError, toast } from './components/toast.js';
import { viewFor } from './views/index.js';

const root = document.getElementById('app');
let frame = null; // {kind: 'app' | 'auth', shell}
let mounted = null; // {name, instance, controller}
let booted = false;
let endingSession = false;

/** `?next=` for the login or setup page: where the admin was going (not for the bare start page). */
function nextQuery(route) {
  return route.url === adminHref('dashboard') ? undefined : { next: route.url };
}

function render(route, { queryOnly }) {
  const session = getSession();
  if (setupRequired()) {
    if (route.name !== 'setup') return navigate(adminHref('setup', nextQuery(route)), { replace: true });
  } else if (route.name === 'setup') {
    return navigate(session ? adminHref('dashboard') : adminHref('login', route.query), { replace: true });
  } else if (!session && route.name !== 'login') {
    return navigate(adminHref('login', nextQuery(route)), { replace: true });
  } else if (session && route.name === 'login') {
    return navigate(safeNext(route.query.get('next')) ?? adminHref('dashboard'), { replace: true });
  }

  if (queryOnly && mounted?.name === route.name && mounted.instance?.onQuery) {
    mounted.instance.onQuery(route.query);
    if (frame?.kind === 'app') refreshStatus();
    return undefined;
  }
  return mountView(route);
}

function ensureFrame(kind) {
  if (frame?.kind === kind) return frame;
  frame?.shell.destroy();
  const shell = kind === 'app'
    ? appShell({ session: getSession(), sandbox: isSandbox(), onLogout: logOut })
    : authShell({ sandbox: isSandbox() });
  if (kind === 'app') startStatus();
  else stopStatus();
  showShell(root, shell);
  frame = { kind, shell };
  return frame;
}

function mountView(route) {
  const view = viewFor(route.name, { sandbox: isSandbox() });
  const { shell } = ensureFrame(view.public ? 'auth' : 'app');
  if (mounted) {
    mounted.controller.abort();
    mounted.instance?.destroy?.();
  }
  const controller = new AbortController();
  shell.setPage({ name: view.name, title: view.title, intro: view.intro });
  replaceChildren(shell.content);
  const instance = view.mount(shell.content, {
    query: route.query,
    signal: controller.signal,
    session: getSession(),
    sandbox: isSandbox(),
    navigate,
    param: view.param ?? null,
    // Detail views learn their title (a server's name, a serial number) after loading.
    setTitle: (title, intro = view.intro) => shell.setPage({ name: view.name, title, intro }),
    signedIn,
    setupAlreadyDone: markSetupDone,
  });
  mounted = { name: route.name, instance, controller };
  markShown(route.name);
  if (frame.kind === 'app') refreshStatus();
  if (booted) {
    // After a navigation, start reading at the new page's title (screen readers announce it).
    if (!window.location.hash) window.scrollTo(0, 0);
    const active = document.activeElement;
    if (!active || active === document.body || !shell.content.contains(active)) {
      document.getElementById('page-title')?.focus({ preventScroll: true });
    }
  }
  booted = true;
}

/** A login or setup succeeded: store the session and go where the admin was going. */
function signedIn(session, { welcome }) {
  setSession(session);
  markSetupDone();
  endingSession = false;
  const next = safeNext(currentRoute().query.get('next')) ?? adminHref('dashboard');
  navigate(next, { replace: true });
  if (welcome) toast(welcome);
}

async function logOut(button) {
  const restore = setBusy(button, 'Logging out…');
  try {
    await apiPost('/admin/logout');
  } catch (err) {
    if (err.code !== 'unauthenticated') {
      restore();
      showError(err, 'Could not log out');
      return;
    }
  }
  clearSession();
  stopStatus();
  navigate(adminHref('login'));
  toast('You are logged out.', { variant: 'info' });
}

/** Any 401 from an authenticated call: the session ended (expired, revoked, or signed out elsewhere). */
function sessionEnded() {
  if (endingSession || !getSession()) return;
  endingSession = true;
  const route = currentRoute();
  clearSession();
  stopStatus();
  navigate(adminHref('login', nextQuery(route)), { replace: true });
  toast('Your session has ended. Sign in again to continue where you were.', { variant: 'info' });
}

function bootFailed(err) {
  const retry = h('button', { type: 'button', class: 'button button-primary', id: 'boot-retry' }, 'Try again');
  retry.addEventListener('click', () => window.location.reload());
  replaceChildren(root, h('main', { id: 'main', class: 'auth-main' },
    h('div', { class: 'auth-card' },
      h('h1', { id: 'page-title' }, 'The admin page cannot start'),
      h('p', { class: 'error-text' }, err.message || String(err)),
      h('div', { class: 'actions' }, retry))));
  document.title = 'adebox — cannot start';
}

async function boot() {
  setUnauthenticatedHandler(sessionEnded);
  try {
    await loadSetupState();
    if (!setupRequired()) await loadSession();
  } catch (err) {
    bootFailed(err);
    return;
  }
  startRouter(render);
  render(currentRoute(), { queryOnly: false });
  // Relative times ("3 minutes ago") stay true while a page is left open.
  setInterval(() => refreshRelativeTimes(), 30000);
}

boot();
