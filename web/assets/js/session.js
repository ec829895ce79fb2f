/**
 * session.js — who is signed in, and whether the appliance still needs its first admin.
 *
 * Owns: the current Session object (`{user, csrf_token, expires_at, sandbox}`) and the
 * first-run state from `GET /api/v1/admin/setup`.
 * Exposes: `getSession`, `setSession`, `clearSession`, `loadSession`, `loadSetupState`,
 * `isSandbox`, `setupRequired`, `markSetupDone`.
 * Must not use: the DOM or the router (main.js decides what to show).
 */

import { apiGet, setCsrfToken } from './api.js';

let session = null;
let setup = { setup_required: false, sandbox: false };

export function getSession() {
  return session;
}

/** Stores the session from login, setup or the session probe, and arms the CSRF header. */
export function setSession(value) {
  session = value && typeof value.user === 'string' ? value : null;
  setCsrfToken(session?.csrf_token);
  return session;
}

export function clearSession() {
  setSession(null);
}

/** Asks whether a session cookie is valid. Resolves to the session or null (401). */
export async function loadSession() {
  try {
    return setSession(await apiGet('/admin/session', { auth: false }));
  } catch (err) {
    if (err.status === 401) return setSession(null);
    throw err;
  }
}

/** `GET /api/v1/admin/setup`: whether the first admin still has to be created. */
export async function loadSetupState() {
  const answer = await apiGet('/admin/setup', { auth: false });
  setup = { setup_required: Boolean(answer?.setup_required), sandbox: Boolean(answer?.sandbox) };
  return setup;
}

export function setupRequired() {
  return setup.setup_required;
}

export function markSetupDone() {
  setup = { ...setup, setup_required: false };
}

/** True in sandbox mode (from the session when signed in, from the setup probe before). */
export function isSandbox() {
  return Boolean(session ? session.sandbox : setup.sandbox);
}
