/**
 * views/signin/local.js — the Local accounts panel of the Sign-in page: the accounts users of
 * profiles with user affinity sign in with when the profile's source is `local`.
 *
 * Owns: the list (`GET /api/v1/signin/users`: username, display name, e-mail, groups,
 * created), adding one (`POST /api/v1/signin/users`, with the rules checked as the admin
 * types and the server's field errors on their fields) and deleting one with a typed
 * confirmation (`DELETE /api/v1/signin/users/{username}`); adding and deleting need the
 * Owner role (`secrets`), as the API says.
 * Exposes: `localAccountsPanel(ctx, {onChange})` → element.
 * Element ids for tests: #local-accounts (the panel), #local-user-list (table; rows
 * data-key="<username>"), #local-user-form, #local-user-username, #local-user-display-name,
 * #local-user-email, #local-user-groups, #local-user-password,
 * #local-user-password-confirm, #local-user-submit; delete buttons
 * data-delete-local-user="<username>".
 * Must not use: anything but the API, the components and the ctx it is given.
 */

import { h } from '../../dom.js';
import { apiDelete, apiPost } from '../../api.js';
import { can } from '../../roles.js';
import { timeElement } from '../../format.js';
import { credentialFields } from '../../components/credentials.js';
import { confirmButton } from '../../components/dialog.js';
import { actionsRow, liveValidate, runSubmit, textField } from '../../components/form.js';
import { shortListTable } from '../../components/local-source.js';
import { panel } from '../../components/panel.js';
import { toast } from '../../components/toast.js';
import { groupList } from '../../profiles/sign-in-fields.js';

const EMAIL = /^[^\s@]+@[^\s@]+$/;


function checkDisplayName(value) {
  const v = value.trim();
  if (v === '') return 'Enter the person’s full name: the sign-in page and the device list show it.';
  if ([...v].length > 128) return `At most 128 characters; this has ${[...v].length}.`;
  return null;
}

function checkEmail(value) {
  const v = value.trim();
  if (v === '') return null;
  return EMAIL.test(v) && v.length <= 254 ? null : 'Enter an e-mail address such as ana@example.org, or leave it empty.';
}

function checkGroups(value) {
  const groups = groupList(value);
  if (groups.length > 50) return `At most 50 groups; there are ${groups.length}.`;
  if (groups.some((g) => g.length > 256)) return 'A group name has at most 256 characters.';
  return null;
}

function deleteButton(user, reload, onChange) {
  return confirmButton({
    label: 'Delete',
    name: user.username,
    dataset: { deleteLocalUser: user.username },
    dialog: {
      id: 'local-user-delete-dialog',
      title: `Delete the local account ${user.username}?`,
      message: `${user.display_name} can no longer sign in during Setup Assistant. Devices already enrolled for ${user.username} keep their user; the audit log keeps its entries.`,
      typed: user.username,
      confirmLabel: 'Delete account',
      busyLabel: 'Deleting…',
      action: () => apiDelete(`/signin/users/${encodeURIComponent(user.username)}`),
    },
    doneMessage: `Local account ${user.username} deleted.`,
    onDone: () => { reload(); onChange?.(); },
  });
}

function addForm(onAdded) {
  const creds = credentialFields({ idPrefix: 'local-user', usernameLabel: 'Username', passwordLabel: 'Password' });
  creds.username.closest('.field').querySelector('.hint').textContent = 'What the user types on the sign-in page; also the Mac account’s short name when a profile pre-fills it. Letters, digits and . _ @ - (up to 64).';
  const name = textField({ id: 'local-user-display-name', name: 'display_name', label: 'Full name', autocomplete: 'off', attrs: { maxlength: '200' } });
  const email = textField({ id: 'local-user-email', name: 'email', label: 'E-mail', type: 'email', required: false, autocomplete: 'off', attrs: { spellcheck: 'false' } });
  const groups = textField({
    id: 'local-user-groups', name: 'groups', label: 'Groups', required: false, multiline: true, rows: 2,
    hint: 'Separate with commas or put one per line. A profile can let only some groups enroll.',
  });
  const checks = [
    [name.input, liveValidate(name.input, checkDisplayName)],
    [email.input, liveValidate(email.input, checkEmail)],
    [groups.input, liveValidate(groups.input, checkGroups)],
  ];
  const submit = h('button', { type: 'submit', id: 'local-user-submit', class: 'button button-primary' }, 'Add account');
  const [usernameField, ...passwordFields] = creds.fields;
  const form = h('form', { id: 'local-user-form', class: 'stack', novalidate: true },
    h('h3', { class: 'subtitle' }, 'Add a local account'),
    h('p', { class: 'muted' }, 'Give the person their password in a safe way; they type it on the sign-in page during Setup Assistant.'),
    h('div', { class: 'grid-2' }, usernameField, name.field, email.field, groups.field, ...passwordFields),
    actionsRow(submit));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    runSubmit(form, {
      button: submit,
      busyLabel: 'Adding…',
      validate: () => {
        const [user, ...passwords] = creds.validate();
        return [user, ...checks.map(([input, check]) => ({ input, message: check() })), ...passwords];
      },
      submit: () => apiPost('/signin/users', {
        username: creds.username.value,
        display_name: name.input.value.trim(),
        email: email.input.value.trim() || null,
        groups: groupList(groups.input.value),
        password: creds.password.value,
      }),
      onSuccess: (created) => {
        toast(`Local account ${created?.username ?? creds.username.value} added.`);
        creds.reset();
        for (const [input, check] of checks) {
          input.value = '';
          check.reset();
        }
        onAdded();
      },
    });
  });
  return form;
}

export function localAccountsPanel(ctx, { onChange } = {}) {
  const manage = can('secrets');
  const table = shortListTable('/signin/users', ctx.signal, {
    id: 'local-user-list',
    caption: 'Local accounts',
    noun: { one: 'account', many: 'accounts' },
    rowKey: (row) => row.username,
    defaultSort: { key: 'username', dir: 'asc' },
    columns: [
      { key: 'username', label: 'Username', sortable: true, render: (row) => h('strong', {}, row.username) },
      { key: 'display_name', label: 'Name', sortable: true, render: (row) => row.display_name },
      { key: 'email', label: 'E-mail', sortable: true, render: (row) => row.email ?? h('span', { class: 'muted' }, '—') },
      { key: 'groups', label: 'Groups', csv: (row) => row.groups.join(' '), render: (row) => (row.groups.length ? row.groups.join(', ') : h('span', { class: 'muted' }, 'none')) },
      { key: 'created_at', label: 'Added', sortable: true, render: (row) => timeElement(row.created_at) },
      manage ? { key: 'actions', label: 'Actions', csv: false, className: 'col-actions', render: (row) => deleteButton(row, () => table.reload(), onChange) } : null,
    ].filter(Boolean),
    empty: {
      title: 'No local account yet',
      text: manage
        ? 'Add one below for each person who signs in during Setup Assistant, or use LDAP or OpenID Connect instead.'
        : 'An Owner adds them here; until then profiles with user affinity cannot use local accounts.',
    },
  });
  return panel({
    id: 'local-accounts', title: 'Local accounts',
    intro: 'Accounts kept on this appliance, separate from the administrators. Passwords are stored as argon2id hashes; five wrong passwords lock an account for 15 minutes.',
  },
  table.element,
  manage ? [h('hr', { class: 'divider' }), addForm(() => { table.reload(); onChange?.(); })] : null);
}
