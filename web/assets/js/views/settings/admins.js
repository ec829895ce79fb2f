/**
 * views/settings/admins.js — the Administrators panel of Settings.
 *
 * Owns: the list of administrators (`GET /api/v1/admin/users`) with their roles and scopes,
 * adding one with a role, changing a role (`PUT /api/v1/admin/users/{name}/role`), limiting
 * one to some server tokens, chosen by name (`PUT /api/v1/admin/users/{name}/scope`),
 * deleting one with a typed confirmation naming the user (those four for Owners only,
 * `admins_manage`), and changing the signed-in admin's own password.
 * Exposes: `adminsPanel(ctx)` → element.
 * Element ids for tests: #admins, #admin-list-table, #admin-new-form, #admin-new-username,
 * #admin-new-password, #admin-new-password-confirm, #admin-new-role, #admin-new-submit,
 * #password-form,
 * #password-current, #password-new-password, #password-new-password-confirm,
 * #password-submit; delete buttons carry data-delete-user="<name>", role pickers
 * data-role-user="<name>", scope editors (a <details>) data-scope-user="<name>" with
 * checkboxes data-scope-token="<token name>" and the radio data-scope-all.
 * Must not use: anything but the API, the components and the ctx it is given.
 */

import { h } from '../../dom.js';
import { apiDelete, apiGet, apiPost, apiPut } from '../../api.js';
import { can, roleSelect, roleTitle } from '../../roles.js';
import { timeElement, timeOr } from '../../format.js';
import { badge } from '../../components/badge.js';
import { credentialFields } from '../../components/credentials.js';
import { confirmButton } from '../../components/dialog.js';
import { actionsRow, liveValidate, runSubmit, textField } from '../../components/form.js';
import { shortListTable } from '../../components/local-source.js';
import { panel } from '../../components/panel.js';
import { showError, toast } from '../../components/toast.js';

function deleteButton(user, reload) {
  return confirmButton({
    label: 'Delete',
    name: user.username,
    dataset: { deleteUser: user.username },
    dialog: {
      id: 'admin-delete-dialog',
      title: `Delete administrator ${user.username}?`,
      message: `${user.username} can no longer sign in, and any page they have open stops working. Their entries in the audit log stay.`,
      typed: user.username,
      confirmLabel: 'Delete administrator',
      busyLabel: 'Deleting…',
      action: () => apiDelete(`/admin/users/${encodeURIComponent(user.username)}`),
    },
    doneMessage: `Administrator ${user.username} deleted.`,
    onDone: reload,
  });
}

function roleCell(row, me, reload) {
  if (!can('admins_manage') || row.username === me) return roleTitle(row.role);
  const { input } = roleSelect({ id: `admin-role-${row.username}`, value: row.role, label: `Role of ${row.username}` });
  input.dataset.roleUser = row.username;
  input.setAttribute('aria-label', `Role of ${row.username}`);
  input.addEventListener('change', async () => {
    try {
      await apiPut(`/admin/users/${encodeURIComponent(row.username)}/role`, { role: input.value });
      toast(`${row.username} is now ${roleTitle(input.value)}.`);
    } catch (err) {
      showError(err, `Role of ${row.username}`);
    }
    reload();
  });
  return input;
}

function scopeText(scope, names) {
  if (!scope) return 'All server tokens';
  if (scope.length === 0) return 'No server token';
  return scope.map((id) => names.get(id) ?? id).join(', ');
}

/** The Scope cell: what the admin may see and, for Owners, a form to change it (docs/roles.md). */
function scopeCell(row, me, names, reload) {
  const text = scopeText(row.scope, names);
  if (!can('admins_manage') || row.username === me) return text;
  const group = `scope-${row.username}`;
  const all = h('input', { type: 'radio', name: group, value: 'all', checked: !row.scope, dataset: { scopeAll: '' } });
  const some = h('input', { type: 'radio', name: group, value: 'some', checked: Boolean(row.scope) });
  const boxes = [...names].map(([id, name]) => h('label', { class: 'checkbox' },
    h('input', { type: 'checkbox', value: id, checked: row.scope?.includes(id) ?? false, dataset: { scopeToken: name } }), ` ${name}`));
  const save = h('button', { type: 'submit', class: 'button' }, 'Save scope');
  const form = h('form', { class: 'stack', novalidate: true },
    h('fieldset', { class: 'stack' },
      h('legend', {}, `What ${row.username} may see`),
      h('label', { class: 'checkbox' }, all, ' All server tokens and organisation-wide data'),
      h('label', { class: 'checkbox' }, some, ' Only the devices, sync and assignments of these server tokens:'),
      boxes.length ? boxes : h('p', { class: 'muted small' }, 'No server token yet.')),
    actionsRow(save));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const tokens = some.checked ? [...form.querySelectorAll('input[type=checkbox]:checked')].map((b) => b.value) : null;
    try {
      await apiPut(`/admin/users/${encodeURIComponent(row.username)}/scope`, { tokens });
      toast(`${row.username} now sees ${tokens ? scopeText(tokens, names) : 'all server tokens'}.`);
    } catch (err) {
      showError(err, `Scope of ${row.username}`);
    }
    reload();
  });
  return h('details', { class: 'scope-editor', dataset: { scopeUser: row.username } }, h('summary', {}, text), form);
}

function addForm(onAdded) {
  const creds = credentialFields({ idPrefix: 'admin-new', usernameLabel: 'Username', passwordLabel: 'Password' });
  const role = roleSelect({ id: 'admin-new-role' });
  const submit = h('button', { type: 'submit', id: 'admin-new-submit', class: 'button button-primary' }, 'Add administrator');
  const form = h('form', { id: 'admin-new-form', class: 'stack', novalidate: true },
    h('h3', { class: 'subtitle' }, 'Add an administrator'),
    h('p', { class: 'muted' }, 'Give the new administrator their password in person or another safe way; they can change it here after signing in.'),
    creds.fields, role.field, actionsRow(submit));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    runSubmit(form, {
      button: submit,
      busyLabel: 'Adding…',
      validate: creds.validate,
      submit: () => apiPost('/admin/users', { username: creds.username.value, password: creds.password.value, role: role.input.value }),
      onSuccess: (created) => {
        toast(`Administrator ${created?.username ?? creds.username.value} added.`);
        creds.reset();
        onAdded();
      },
    });
  });
  return form;
}

function passwordForm(me) {
  const current = textField({ id: 'password-current', name: 'current_password', label: 'Current password', type: 'password', autocomplete: 'current-password' });
  const checkCurrent = liveValidate(current.input, (v) => (v === '' ? 'Enter your current password.' : null));
  const creds = credentialFields({
    idPrefix: 'password-new', username: false, passwordLabel: 'New password', names: { password: 'new_password' },
  });
  const submit = h('button', { type: 'submit', id: 'password-submit', class: 'button button-primary' }, 'Change password');
  const form = h('form', { id: 'password-form', class: 'stack', novalidate: true },
    h('h3', { class: 'subtitle' }, 'Change your password'),
    // Lets password managers file the new password under the right account.
    h('input', { type: 'text', name: 'username', autocomplete: 'username', value: me ?? '', readonly: true, hidden: true, tabindex: '-1' }),
    current.field, creds.fields, actionsRow(submit));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    runSubmit(form, {
      button: submit,
      busyLabel: 'Changing…',
      validate: () => [{ input: current.input, message: checkCurrent() }, ...creds.validate()],
      submit: () => apiPost('/admin/password', { current_password: current.input.value, new_password: creds.password.value }),
      onSuccess: () => {
        toast('Your password is changed. Use the new one next time you sign in.');
        current.input.value = '';
        creds.reset();
      },
    });
  });
  return form;
}

export function adminsPanel(ctx) {
  const me = ctx.session?.user;
  if (!can('admins_read')) {
    return panel({ id: 'admins', title: 'Your password', intro: 'Your role does not show the other administrators.' },
      passwordForm(me));
  }
  // Token names for the Scope column: the API speaks ids, people read names.
  const names = new Map();
  const table = shortListTable('/admin/users', ctx.signal, {
    id: 'admin-list',
    caption: 'Administrators',
    noun: { one: 'administrator', many: 'administrators' },
    rowKey: (row) => row.username,
    defaultSort: { key: 'username', dir: 'asc' },
    columns: [
      { key: 'username', label: 'Username', sortable: true, render: (row) => [h('strong', {}, row.username), row.username === me ? [' ', badge('You', 'info')] : null] },
      { key: 'role', label: 'Role', sortable: true, render: (row) => roleCell(row, me, () => table.reload()) },
      { key: 'scope', label: 'Scope', csv: (row) => scopeText(row.scope, names), render: (row) => scopeCell(row, me, names, () => table.reload()) },
      { key: 'created_at', label: 'Added', sortable: true, render: (row) => timeElement(row.created_at) },
      { key: 'last_login_at', label: 'Last sign-in', sortable: true, firstDir: 'desc', render: (row) => timeOr(row.last_login_at, 'Never') },
      { key: 'actions', label: 'Actions', csv: false, className: 'col-actions', render: (row) => (row.username === me ? h('span', { class: 'muted small' }, 'Signed in as this user') : can('admins_manage') ? deleteButton(row, () => table.reload()) : null) },
    ],
    empty: { title: 'No administrators', text: '' },
  });
  apiGet('/tokens', { signal: ctx.signal }).then((list) => {
    for (const t of list?.items ?? []) names.set(t.id, t.server_name);
    table.reload();
  }).catch(() => {});

  return panel({ id: 'admins', title: 'Administrators', intro: 'The people who can sign in to this page. Each has their own password, and the audit log records their actions by name.' },
    table.element,
    h('hr', { class: 'divider' }),
    h('div', { class: 'grid-2' }, can('admins_manage') ? addForm(() => table.reload()) : null, passwordForm(me)));
}
