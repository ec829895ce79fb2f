/**
 * status.js — the appliance's status (`GET /api/v1/status`), kept fresh while signed in.
 *
 * Owns: polling every 30 seconds and on every navigation (never two requests at once), and
 * telling subscribers the latest status or the error that kept it from loading.
 * Exposes: `startStatus`, `stopStatus`, `refreshStatus`, `onStatus`, `latestStatus`.
 * Must not use: the DOM (the shell draws the banners, the Dashboard the numbers).
 */

import { apiGet } from './api.js';

const POLL_MS = 30000;

let latest = null;
let lastError = null;
let timer = null;
let inFlight = null;
const listeners = new Set();

function notify() {
  for (const listener of listeners) listener(latest, lastError);
}

/** Fetches the status now (joins a request already under way). */
export function refreshStatus() {
  if (inFlight) return inFlight;
  inFlight = apiGet('/status')
    .then((status) => {
      latest = status;
      lastError = null;
    })
    .catch((err) => {
      if (err.code !== 'unauthenticated') lastError = err;
    })
    .finally(() => {
      inFlight = null;
      notify();
    });
  return inFlight;
}

export function startStatus() {
  stopStatus();
  timer = setInterval(refreshStatus, POLL_MS);
  return refreshStatus();
}

export function stopStatus() {
  clearInterval(timer);
  timer = null;
  latest = null;
  lastError = null;
}

/** Calls `listener(status, error)` now (when known) and after every refresh. Returns unsubscribe. */
export function onStatus(listener) {
  listeners.add(listener);
  if (latest || lastError) listener(latest, lastError);
  return () => listeners.delete(listener);
}

export function latestStatus() {
  return latest;
}
