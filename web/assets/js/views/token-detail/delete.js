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

import { h } from '../../dom.js';
import { apiDelete } from '../../api.js';
import { adminHref } from '../../router.js';
import { guardedDeletePanel } from '../../components/guarded-delete.js';

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
  return guardedDeletePanel({
    id: 'token-delete',
    intro: 'When this MDM server is retired: release or move its devices in Apple Business Manager and sync, remove its profiles, then delete the token here.',
    buttonLabel: 'Delete this token…',
    dialog: {
      title: `Delete the token of “${token.server_name}”?`,
      message: [
        'The appliance forgets this token and its key and stops syncing this MDM server. The devices stay assigned to it in Apple Business Manager, where you can also delete the server.',
        'The appliance refuses while devices or profiles still use the token, and lists them.',
      ],
      typed: token.server_name,
      confirmLabel: 'Delete token',
    },
    request: () => apiDelete(`/tokens/${encodeURIComponent(token.id)}`),
    refusedCode: 'token_in_use',
    refusedText: 'The token was not deleted: it is still in use. Clear these first:',
    fixFor: (kind) => fixFor(kind, token, sandbox),
    onDeleted,
  });
}
