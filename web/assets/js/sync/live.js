/**
 * sync/live.js — keeps a view's copy of the sync state fresh, so the page is live without a
 * manual refresh.
 *
 * Owns: polling `GET /api/v1/sync` (or `GET /api/v1/sync/{token}` when one token's history is
 * wanted) every 2 seconds while any sync runs or waits to start, every 30 seconds otherwise
 * (api-dep.md, Sync); never two requests at once; stopping when the view's signal aborts.
 * Tells the listener which tokens just finished a run, so views can reload their counts.
 * Exposes: `liveSync({token, signal, onUpdate(statuses, {finished}), onError(err)})` →
 * `{refresh()}`; `statuses` is a Map token id → SyncStatus.
 * Must not use: the DOM.
 */

import { apiGet } from '../api.js';

const BUSY_MS = 2000;
const IDLE_MS = 30000;

const busy = (s) => Boolean(s?.running || s?.requested);

export function liveSync({ token = null, signal, onUpdate, onError }) {
  let timer = null;
  let inFlight = null;
  let previous = new Map();

  async function poll() {
    clearTimeout(timer);
    try {
      const answer = token
        ? await apiGet(`/sync/${encodeURIComponent(token)}`, { signal })
        : await apiGet('/sync', { signal });
      const list = token ? [answer] : (answer?.items ?? []);
      const statuses = new Map(list.map((s) => [s.token_id, s]));
      const finished = [...statuses.keys()].filter((id) => busy(previous.get(id)) && !busy(statuses.get(id)));
      previous = statuses;
      onUpdate(statuses, { finished });
    } catch (err) {
      if (err?.name === 'AbortError' || signal.aborted) return;
      onError?.(err);
    }
    if (signal.aborted) return;
    const anyBusy = [...previous.values()].some(busy);
    timer = setTimeout(refresh, anyBusy ? BUSY_MS : IDLE_MS);
  }

  /** Polls now (joins a poll already under way). */
  function refresh() {
    if (signal.aborted) return Promise.resolve();
    if (!inFlight) inFlight = poll().finally(() => { inFlight = null; });
    return inFlight;
  }

  signal.addEventListener('abort', () => clearTimeout(timer));
  refresh();
  return { refresh };
}
