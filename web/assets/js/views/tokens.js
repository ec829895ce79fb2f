/**
 * views/tokens.js — the Tokens page: every Apple server token with its expiry and live sync,
 * the keys waiting for a token, and the guided "Add a token" panel.
 *
 * Owns: loading `GET /api/v1/tokens` and `GET /api/v1/tokens/keys`, the live sync poll
 * (sync/live.js) that feeds each row, reloading the tokens when a sync ends (device counts
 * change), and `?add=<key id>` (the add flow's key, so a reload comes back to it).
 * Element ids for tests: #tokens (the list panel), #tokens-empty, plus those of
 * tokens/list.js, tokens/pending.js and tokens/add-flow.js.
 * Must not use: anything but the API, its parts and the ctx it is given.
 */

import { h, replaceChildren } from '../dom.js';
import { apiGet } from '../api.js';
import { panel } from '../components/panel.js';
import { showError } from '../components/toast.js';
import { liveSync } from '../sync/live.js';
import { addFlow } from './tokens/add-flow.js';
import { tokenTable } from './tokens/list.js';
import { pendingKeys } from './tokens/pending.js';

export default {
  name: 'tokens',
  title: 'Tokens',
  intro: 'Apple server tokens let this appliance read the devices your organisation assigned to it in Apple Business Manager. Each one expires after a year: renew it here before then.',

  mount(container, ctx) {
    const { signal } = ctx;
    let tokens = [];
    let keys = [];
    const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading the tokens…'));
    const list = panel({ id: 'tokens', title: 'Server tokens', intro: 'Soonest expiry first. A sync brings in what changed at Apple; to stay within Apple’s traffic budget, manual syncs are spaced out (Settings → Sync).' }, body);
    let live = null;
    const table = tokenTable({ onRequested: () => live?.refresh() });
    const pending = pendingKeys({
      onContinue: (key) => {
        flow.selectKey(key);
        document.getElementById('add-token-title')?.scrollIntoView({ block: 'start' });
        document.getElementById('add-key-download')?.focus({ preventScroll: true });
      },
      onDiscarded: (key) => {
        if (flow.currentKey()?.id === key.id) flow.selectKey(null);
        loadKeys();
      },
    });
    const flow = addFlow({
      sandbox: ctx.sandbox,
      onAdded: () => {
        loadTokens();
        loadKeys();
        live?.refresh();
        document.getElementById('tokens-title')?.focus();
      },
      onKeysChanged: () => loadKeys(),
    });

    container.append(list, pending.element, flow.element);

    async function loadTokens() {
      try {
        const answer = await apiGet('/tokens', { signal });
        tokens = answer?.items ?? [];
        if (tokens.length === 0) {
          replaceChildren(body, h('div', { class: 'empty-state', id: 'tokens-empty' },
            h('p', { class: 'empty-title' }, 'No server token yet'),
            h('p', { class: 'muted' }, 'Add one below: it takes a few minutes in Apple Business Manager.')));
        } else {
          if (!body.contains(table.element)) replaceChildren(body, table.element);
          table.show(tokens);
        }
        pending.show(keys, tokens);
      } catch (err) {
        if (err.name === 'AbortError') return;
        replaceChildren(body, h('p', { class: 'error-text' }, `Could not load the tokens: ${err.message}`));
        showError(err);
      }
    }

    async function loadKeys() {
      try {
        const answer = await apiGet('/tokens/keys', { signal });
        keys = answer?.items ?? [];
        pending.show(keys, tokens);
        flow.setWaiting(keys.filter((k) => !k.for_token && k.id !== flow.currentKey()?.id).length);
        return keys;
      } catch (err) {
        if (err.name !== 'AbortError') showError(err, 'Could not load the keys waiting for a token');
        return [];
      }
    }

    function resumeFromUrl(query) {
      const wanted = query.get('add');
      const key = wanted ? keys.find((k) => k.id === wanted && !k.for_token) : null;
      if (key && flow.currentKey()?.id !== key.id) flow.selectKey(key);
      if (wanted && !key) flow.selectKey(null); // used or discarded meanwhile
    }

    loadTokens().then(() => {
      live = liveSync({
        signal,
        onUpdate: (statuses, { finished }) => {
          table.updateSync(statuses);
          if (finished.length) loadTokens();
        },
        onError: (err) => showError(err, 'Could not read the sync state'),
      });
    });
    loadKeys().then(() => {
      resumeFromUrl(ctx.query);
      if (ctx.query.get('add')) flow.element.scrollIntoView({ block: 'start' });
    });

    return { onQuery: (query) => resumeFromUrl(query) };
  },
};
