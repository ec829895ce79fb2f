/**
 * views/index.js — which view each route shows.
 *
 * A view is `{name, title, intro, public?, mount(container, ctx) → {onQuery?} | void}`.
 * `public` views (setup, login) are shown without the navigation. `ctx` holds `query`,
 * `signal` (aborted when the view is left), `session`, `sandbox`, `navigate`, `param` (the
 * rest of the path of a detail route: `/admin/tokens/<id>` → `<id>`), `setTitle(title,
 * intro)`, and for the public views `signedIn(session, {welcome})` and `setupAlreadyDone()`.
 * A detail view carries its section's name, so the navigation marks the section.
 * Exposes: `viewFor(name, {sandbox})`.
 */

import audit from './audit.js';
import business from './business.js';
import dashboard from './dashboard.js';
import deviceDetail from './device-detail.js';
import devices from './devices.js';
import enrollmentView from './enrollment.js';
import integrations from './integrations.js';
import login from './login.js';
import notFound from './not-found.js';
import profileDetail from './profile-detail.js';
import profileEdit from './profile-edit.js';
import profiles from './profiles.js';
import sandboxView from './sandbox.js';
import settings from './settings.js';
import signin from './signin.js';
import setup from './setup.js';
import tokenDetail from './token-detail.js';
import tokens from './tokens.js';

const VIEWS = new Map([
  dashboard, tokens, devices, profiles, enrollmentView, signin, settings, audit, login, setup,
  integrations, business,
].map((view) => [view.name, view]));

// Sections whose items have a page of their own: `/admin/<section>/<param>`.
const DETAILS = new Map([['tokens', tokenDetail], ['devices', deviceDetail]]);

/** `/admin/profiles/new`, `/admin/profiles/<id>` and `/admin/profiles/<id>/edit`. */
function profileRoute(rest) {
  if (rest === 'new') return { ...profileEdit, param: null };
  const parts = rest.split('/');
  if (parts.length === 1 && parts[0]) return { ...profileDetail, param: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1] === 'edit') return { ...profileEdit, param: parts[0] };
  return notFound;
}

export function viewFor(name, { sandbox }) {
  if (name.startsWith('profiles/')) return profileRoute(name.slice('profiles/'.length));
  const slash = name.indexOf('/');
  if (slash > 0) {
    const detail = DETAILS.get(name.slice(0, slash));
    const param = name.slice(slash + 1);
    return detail && param && !param.includes('/') ? { ...detail, param } : notFound;
  }
  if (name === 'sandbox') return sandbox ? sandboxView : notFound;
  return VIEWS.get(name) ?? notFound;
}
