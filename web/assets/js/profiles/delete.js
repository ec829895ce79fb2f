/**
 * profiles/delete.js — deleting a profile: says what happens, asks for its name typed out, and
 * when the appliance refuses (a token's default, devices assigned) lists what blocks it and
 * where to fix each.
 *
 * Exposes: `profileDeletePanel({profile, onDeleted})` → element.
 * Element ids for tests: #profile-delete (panel), #profile-delete-button,
 * #profile-delete-dialog (typed field #profile-delete-dialog-typed, confirm
 * #profile-delete-dialog-confirm), #profile-delete-blockers (items data-blocker="<kind>").
 * Must not use: anything but the API, the dialog and the callbacks it is given.
 */

import { h } from '../dom.js';
import { apiDelete } from '../api.js';
import { adminHref } from '../router.js';
import { guardedDeletePanel } from '../components/guarded-delete.js';

function fixFor(kind, profile) {
  if (/default/.test(kind ?? '')) return [h('a', { href: '#profile-defaults' }, 'Change the defaults'), ' (on this page or a token’s page)'];
  if (/device/.test(kind ?? '')) {
    return [h('a', { href: adminHref('devices', { profile_id: profile.id }) }, 'Open Devices'), ': assign them another profile or remove it'];
  }
  return null;
}

export function profileDeletePanel({ profile, onDeleted }) {
  return guardedDeletePanel({
    id: 'profile-delete',
    intro: 'When no device should get this profile any more: make another profile the default, re-assign its devices, then delete it here.',
    buttonLabel: 'Delete this profile…',
    dialog: {
      title: `Delete the profile “${profile.name}”?`,
      message: [
        'The appliance forgets the profile. Devices that already received it keep it until they are erased; Apple keeps its copies but no device is assigned them any more.',
        'The appliance refuses while the profile is a default or assigned to devices, and lists what to change first.',
      ],
      typed: profile.name,
      confirmLabel: 'Delete profile',
    },
    request: () => apiDelete(`/profiles/${encodeURIComponent(profile.id)}`),
    refusedCode: 'profile_in_use',
    refusedText: 'The profile was not deleted: it is still in use. Clear these first:',
    fixFor: (kind) => fixFor(kind, profile),
    onDeleted,
  });
}
