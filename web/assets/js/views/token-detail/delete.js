/**
 * views/token-detail/delete.js — deleting a server token: says what will happen, asks for the
 * server's name typed out, and when the appliance refuses (devices or profiles still use the
 * token) lists exactly what blocks it, with where to fix each.
 *
 * Exposes: `deletePanel({token, sandbox, onDeleted})` → element.
 * Element ids for tests: #token-delete (the panel), #token-delete-button,
 * #token-delete-dialog (its typed field #token-delete-dialog-typed, confirm
 * #token-delete-dialog-confirm), #token-delete-blockers (items data-blocker="<kind>").
 * Must not use: anything but the API, the dialog and the callbacks it is given.
 */

import { h, replaceChildren } from '../../dom.js';
import { apiDelete } from '../../api.js';
import { adminHref } from '../../router.js';
import { confirmDialog } from '../../components/dialog.js';
import { panel } from '../../components/panel.js';

function fixFor(kind, token, sandbox) {
  if (kind === 'devices') {
    return [
      h('a', { href: adminHref('devices', { token: token.id }) }, 'See the devices'),
      sandbox
        ? [' · release them on the ', h('a', { href: adminHref('sandbox') }, 'Sandbox page'), ', then Sync now on this token']
        : ' · release or move them in Apple Business Manager, then Sync now on this token',
    ];
  }
  if (kind === 'profiles' || kind === 'default_profile') return h('a', { href: adminHref('profiles') }, 'Open Profiles');
  return null;
}

export function deletePanel({ token, sandbox, onDeleted }) {
  const blockers = h('div', { id: 'token-delete-blockers', role: 'alert', hidden: true });
  const button = h('button', { type: 'button', id: 'token-delete-button', class: 'button button-danger' }, 'Delete this token…');

  button.addEventListener('click', async () => {
    const outcome = await confirmDialog({
      id: 'token-delete-dialog',
      danger: true,
      title: `Delete the token of “${token.server_name}”?`,
      message: [
        'The appliance forgets this token and its key and stops syncing this MDM server. The devices stay assigned to it in Apple Business Manager, where you can also delete the server.',
        'The appliance refuses while devices or profiles still use the token, and lists them.',
      ],
      typed: token.server_name,
      confirmLabel: 'Delete token',
      busyLabel: 'Deleting…',
      action: () => apiDelete(`/tokens/${encodeURIComponent(token.id)}`).then(() => ({ deleted: true })).catch((err) => {
        if (err.code === 'token_in_use') return { refused: err };
        throw err;
      }),
    });
    if (!outcome) return;
    if (outcome.deleted) {
      onDeleted?.();
      return;
    }
    const list = outcome.refused.body?.blockers ?? [];
    replaceChildren(blockers, h('div', { class: 'form-error' },
      h('p', {}, list.length ? 'The token was not deleted: it is still in use. Clear these first:' : outcome.refused.message),
      h('ul', { class: 'blockers' }, list.map((b) => h('li', { dataset: { blocker: b.kind } },
        h('strong', {}, b.message), ' — ', fixFor(b.kind, token, sandbox))))));
    blockers.hidden = false;
    blockers.querySelector('.form-error')?.setAttribute('tabindex', '-1');
    blockers.querySelector('.form-error')?.focus();
  });

  return panel({ id: 'token-delete', title: 'Delete', intro: 'When this MDM server is retired: release or move its devices in Apple Business Manager and sync, remove its profiles, then delete the token here.' },
    h('div', { class: 'stack' }, h('div', { class: 'actions' }, button), blockers));
}
