/**
 * profiles/data.js — the lists the profile pages load: every profile (paged through the API
 * 500 at a time), Apple's skip-key catalog (loaded once per page visit; it changes only with
 * an appliance upgrade), the tokens, and the defaults.
 *
 * Exposes: `loadAllProfiles(signal)`, `loadSkipKeys(signal)`, `loadTokens(signal)`,
 * `loadDefaults(signal)`, `setDefault({token_id, family, profile_id})`.
 * Must not use: the DOM.
 */

import { apiGet, apiPut } from '../api.js';

const PAGE = 500;
let skipKeys = null;

export async function loadAllProfiles(signal) {
  const items = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await apiGet('/profiles', { query: { limit: PAGE, offset }, signal });
    const got = page?.items ?? [];
    items.push(...got);
    if (got.length < PAGE || items.length >= (page?.total ?? 0)) break;
  }
  return items;
}

export function loadSkipKeys(signal) {
  if (!skipKeys) {
    skipKeys = apiGet('/profiles/skip-keys', { signal }).then((r) => r?.items ?? []);
    skipKeys.catch(() => { skipKeys = null; });
  }
  return skipKeys;
}

export function loadTokens(signal) {
  return apiGet('/tokens', { signal }).then((r) => r?.items ?? []);
}

export function loadDefaults(signal) {
  return apiGet('/profiles/defaults', { signal }).then((r) => r?.items ?? []);
}

/** Sets (or with `profile_id: null` clears) one default; resolves with the whole new list. */
export function setDefault({ token_id, family = null, profile_id = null }) {
  return apiPut('/profiles/defaults', { token_id, family, profile_id }).then((r) => r?.items ?? []);
}
