/**
 * profiles/sign-in-fields.js — the sign-in part of the profile form's "User affinity"
 * section, shown when the profile enrolls with user affinity: which directory checks the
 * user's password (`sign_in.source`), which groups may enroll (`sign_in.allowed_groups`), and
 * for Macs whether the first account is pre-filled with the user and locked
 * (`sign_in.prefill_macos_account`, `sign_in.lock_macos_account`), with a link to the Sign-in
 * page where the directories are set up.
 *
 * Exposes: `signInFields()` → `{slots: [slot], element, show({affinity, platforms})}`. The
 * server refuses a source no directory can use on `sign_in.source`; the form shows that on
 * the field like any server error.
 * Element ids for tests: #affinity-note, #sign-in-fields, #sign-in-mac; inputs carry
 * name="sign_in.<key>".
 * Must not use: the API.
 */

import { h, uniqueId } from '../dom.js';
import { adminHref } from '../router.js';
import { textField } from '../components/form.js';
import { checkSlot, selectSlot, slot } from './field-kit.js';

export const SIGN_IN_SOURCES = [
  ['local', 'Local accounts (kept on this appliance)'],
  ['ldap', 'LDAP or Active Directory'],
  ['oidc', 'OpenID Connect'],
];

/** Group names typed with commas or one per line, trimmed, without empties or repeats. */
export function groupList(text) {
  return [...new Set(String(text ?? '').split(/[,\n]/).map((g) => g.trim()).filter(Boolean))];
}

/** The allowed groups as a textarea that reads and writes a list. */
function groupsSlot() {
  const name = 'sign_in.allowed_groups';
  const id = uniqueId('profile-sign_in-allowed_groups');
  const { field, input } = textField({
    id, name, label: 'Groups that may enroll', required: false, multiline: true, rows: 2,
    hint: 'Separate with commas or put one per line; compared without regard to case. Empty: every account of the directory.',
    attrs: { autocomplete: 'off' },
  });
  return slot({
    name, element: field, anchor: input,
    read: () => groupList(input.value),
    write: (value) => { input.value = (value ?? []).join('\n'); },
  });
}

export function signInFields() {
  const source = selectSlot({
    name: 'sign_in.source', label: 'Users sign in with',
    hint: 'The directory that checks the password on the sign-in page. It must be set up on the Sign-in page before the profile can be saved.',
    options: SIGN_IN_SOURCES,
  });
  const groups = groupsSlot();
  const prefill = checkSlot({
    name: 'sign_in.prefill_macos_account', label: 'Pre-fill the Mac’s first account with the user',
    hint: 'macOS: Setup Assistant proposes the user’s short and full name for the first account.',
  });
  const lock = checkSlot({
    name: 'sign_in.lock_macos_account', label: 'Lock the pre-filled account',
    hint: 'The user cannot change the proposed name. Needs the account to be pre-filled.',
  });
  const mac = h('fieldset', { class: 'fieldset nested', id: 'sign-in-mac' },
    h('legend', {}, 'Mac account'), prefill.element, lock.element);
  const note = h('div', { class: 'callout', id: 'affinity-note', role: 'note' },
    h('p', {}, h('strong', {}, 'The user signs in during Setup Assistant. '),
      'adebox shows its sign-in page, checks the password with the directory chosen below, and binds the device to that person: the device list, the device page and the audit log then show who it belongs to. ',
      h('a', { href: adminHref('signin'), id: 'affinity-signin-link' }, 'Set up the directories on the Sign-in page'), '.'));
  const element = h('div', { class: 'stack', id: 'sign-in-fields' },
    note, h('div', { class: 'grid-2' }, source.element, groups.element), mac);
  return {
    slots: [source, groups, prefill, lock],
    element,
    /** Shows the fields when they apply: with user affinity, the Mac part for macOS profiles. */
    show({ affinity, platforms }) {
      element.hidden = affinity !== 'with_affinity';
      mac.hidden = !(platforms ?? []).includes('macOS');
    },
  };
}
