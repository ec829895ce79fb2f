/**
 * views/index.js — which view each route shows.
 *
 * A view is `{name, title, intro, public?, mount(container, ctx) → {onQuery?} | void}`.
 * `public` views (setup, login) are shown without the navigation. `ctx` holds `query`,
 * `signal` (aborted when the view is left), `session`, `sandbox`, `navigate`, and for the
 * public views `signedIn(session, {welcome})` and `setupAlreadyDone()`.
 * Exposes: `viewFor(name, {sandbox})`.
 */

import audit from './audit.js';
import dashboard from './dashboard.js';
import login from './login.js';
import notFound from './not-found.js';
import settings from './settings.js';
import setup from './setup.js';
import { devicesView, enrollmentView, profilesView, sandboxView, tokensView } from './placeholder.js';

const VIEWS = new Map([
  dashboard, tokensView, devicesView, profilesView, enrollmentView, settings, audit, login, setup,
].map((view) => [view.name, view]));

export function viewFor(name, { sandbox }) {
  if (name === 'sandbox') return sandbox ? sandboxView : notFound;
  return VIEWS.get(name) ?? notFound;
}
