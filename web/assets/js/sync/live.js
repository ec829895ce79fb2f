/**
 * sync/live.js — keeps a view's copy of the sync state fresh, so the page is live without a
 * manual refresh.
 *
 * Owns: polling `GET /api/v1/sync` (or `GET /api/v1/sync/{token}` when one token's history is
 * wanted) every 2 seconds while any sync runs or waits to start, every 30 seconds otherwise
 * (api-dep.md, Sync); never two requests at once; stopping when the view's signal aborts.
 * After "Sync now" the view calls `refresh()`, which also polls quickly for a while: a small
 * run can start and end between two polls, and there may be a moment between the request
 * being taken and the run being reported as running. Tells the listener which tokens
 * finished a run since the last poll (running then idle, or a new last run), so views can
 * reload their counts.
 * Exposes: `liveSync({token, signal, onUpdate(statuses, {finished}), onError(err)})` →
 * `{refresh()}`; `statuses` is a Map token id → SyncStatus.
 * Must not use: the DOM.
 */

import { apiGet } from '../api.js';

const BUSY_MS = 2000;
const IDLE_MS = 30000;
const BOOST_MS = 15000; // quick polling after a request

const busy = (s) => Boolean(s?.running || s?.requested);
const lastEnd = (s) => s?.last_run?.ended_at ?? null;

export function liveSync({ token = null, signal, onUpdate, onError }) {
  let timer = null;
  let inFlight = null;
  let previous = new Map();
  let boostUntil = 0;
  let first = true;

  async function pollOnce() {
    clearTimeout(timer);
    try {
      const answer = token
        ? await apiGet(`/sync/${encodeURIComponent(token)}`, { signal })
        : await apiGet('/sync', { signal });
      const list = token ? [answer] : (answer?.items ?? []);
      const statuses = new Map(list.map((s) => [s.token_id, s]));
      const finished = [...statuses.keys()].filter((id) => {
        const before = previous.get(id);
        const now = statuses.get(id);
        if (busy(now)) return false;
        // A token that appeared since the last poll (just added) may have finished already.
        if (!before) return !first && lastEnd(now) !== null;
        return busy(before) || lastEnd(before) !== lastEnd(now);
      });
      previous = statuses;
      first = false;
      onUpdate(statuses, { finished });
    } catch (err) {
      if (err?.name === 'AbortError' || signal.aborted) return;
      onError?.(err);
    }
    if (signal.aborted) return;
    const anyBusy = [...previous.values()].some(busy);
    timer = setTimeout(poll, anyBusy || Date.now() < boostUntil ? BUSY_MS : IDLE_MS);
  }

  function poll() {
    if (signal.aborted) return Promise.resolve();
    if (!inFlight) inFlight = pollOnce().finally(() => { inFlight = null; });
    return inFlight;
  }

  /** Polls now (joins a poll under way), then quickly for a while: something was asked for. */
  function refresh() {
    boostUntil = Date.now() + BOOST_MS;
    return poll();
  }

  signal.addEventListener('abort', () => clearTimeout(timer));
  poll();
  return { refresh };
}
