/**
 * views/token-detail.js — one server token (`/admin/tokens/<id>`): every field and the
 * expiry timeline, the live sync with its history, renewal, and deletion.
 *
 * Owns: loading `GET /api/v1/tokens/{id}` and the pending keys (a renewal's new key survives
 * a reload), the live poll of this token's sync (`GET /api/v1/sync/{id}`, with history), and
 * reloading the token after a sync ends or a renewal.
 * Element ids for tests: #token-detail (data-token), #token-info, #token-sync,
 * #sync-history, #token-defaults (the selects #token-defaults-<id>-<family or all>), plus
 * those of token-detail/*.js, profiles/defaults.js and sync/widget.js.
 * Must not use: anything but the API, its parts and the ctx it is given.
 */

import { h, replaceChildren } from '../dom.js';
import { apiGet } from '../api.js';
import { adminHref } from '../router.js';
import { panel } from '../components/panel.js';
import { showError, toast } from '../components/toast.js';
import { historyTable } from '../sync/history.js';
import { liveSync } from '../sync/live.js';
import { syncWidget } from '../sync/widget.js';
import { loadAllProfiles, loadDefaults } from '../profiles/data.js';
import { defaultsEditor } from '../profiles/defaults.js';
import { deletePanel } from './token-detail/delete.js';
import { tokenInfo } from './token-detail/info.js';
import { renewPanel } from './token-detail/renew.js';

export default {
  name: 'tokens',
  title: 'Token',
  intro: 'One Apple server token.',

  mount(container, ctx) {
    const id = ctx.param;
    const { signal } = ctx;
    const root = h('div', { id: 'token-detail', class: 'page-content', dataset: { token: id } },
      h('p', { class: 'muted' }, 'Loading the token…'));
    container.append(root);
    let infoBody = null;
    let historySlot = null;
    let widget = null;
    let live = null;

    async function loadToken() {
      const token = await apiGet(`/tokens/${encodeURIComponent(id)}`, { signal });
      ctx.setTitle(token.server_name, `Apple server token of the MDM server “${token.server_name}”${token.org_name ? ` (${token.org_name})` : ''}.`);
      return token;
    }

    function refreshInfo() {
      loadToken().then((token) => replaceChildren(infoBody, tokenInfo(token))).catch((err) => showError(err, 'Could not reload the token'));
    }

    async function build() {
      let token;
      let keys;
      try {
        [token, keys] = await Promise.all([loadToken(), apiGet('/tokens/keys', { signal }).then((r) => r?.items ?? [])]);
      } catch (err) {
        if (err.name === 'AbortError') return;
        ctx.setTitle('Token not found');
        replaceChildren(root, panel({ id: 'token-missing', title: err.status === 404 ? 'No such token' : 'Could not load the token' },
          h('p', {}, err.status === 404 ? 'It may have been deleted. ' : `${err.message} `, h('a', { href: adminHref('tokens') }, 'Back to the tokens'), '.')));
        return;
      }
      infoBody = h('div', { class: 'panel-body' }, tokenInfo(token));
      widget = syncWidget({ tokenId: token.id, serverName: token.server_name, onRequested: () => live?.refresh() });
      historySlot = h('div', { class: 'stack' }, historyTable(token.sync?.history));
      widget.update(token.sync);
      replaceChildren(root,
        h('p', { class: 'back-link' }, h('a', { href: adminHref('tokens') }, '← All tokens')),
        panel({ id: 'token-info', title: 'Token' }, infoBody),
        panel({ id: 'token-sync', title: 'Sync', intro: 'Live: the page follows a running sync by itself.' },
          widget.element, h('h3', { class: 'subtitle' }, 'Recent runs'), historySlot),
        defaultsPanel(token),
        renewPanel({
          token, keys, sandbox: ctx.sandbox,
          onRenewed: () => { refreshInfo(); live?.refresh(); },
          onKeysChanged: () => {},
        }),
        deletePanel({
          token, sandbox: ctx.sandbox,
          onDeleted: () => {
            toast(`Token of “${token.server_name}” deleted.`);
            ctx.navigate(adminHref('tokens'));
          },
        }));
      live = liveSync({
        token: token.id,
        signal,
        onUpdate: (statuses, { finished }) => {
          const status = statuses.get(token.id);
          widget.update(status);
          replaceChildren(historySlot, historyTable(status?.history));
          if (finished.length) refreshInfo();
        },
        onError: (err) => { if (err.status !== 404) showError(err, 'Could not read the sync state'); },
      });
      const target = window.location.hash ? document.getElementById(window.location.hash.slice(1)) : null;
      target?.scrollIntoView();
    }

    /** The token's default profile (and per family); loads by itself so the page does not wait. */
    function defaultsPanel(token) {
      const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, 'Loading the profiles…'));
      Promise.all([loadAllProfiles(signal), loadDefaults(signal)]).then(([profiles, defaults]) => {
        replaceChildren(body, defaultsEditor({ tokens: [token], profiles, defaults, idPrefix: 'token-defaults' }));
      }).catch((err) => {
        if (err.name === 'AbortError') return;
        replaceChildren(body, h('p', { class: 'error-text' }, `Could not load the profiles: ${err.message}`));
      });
      return panel({
        id: 'token-defaults', title: 'Default profile',
        intro: 'This server’s devices that have no profile (or whose profile was removed) get the default, now and as they arrive; a device family can have its own.',
      }, body);
    }

    build();
  },
};
