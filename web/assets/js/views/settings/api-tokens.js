/**
 * views/settings/api-tokens.js — the API tokens panel of Settings.
 *
 * Owns: the list of API tokens with their status (`GET /api/v1/admin/api-tokens`), creating
 * one by name and showing the token exactly once in a dialog with a copy button and a warning
 * that it will not be shown again, and revoking one after a confirmation.
 * Exposes: `apiTokensPanel(ctx)` → element.
 * Element ids for tests: #api-tokens, #api-token-list-table, #api-token-form, #api-token-name,
 * #api-token-submit, #api-token-value (in the dialog), #api-token-done; revoke buttons carry
 * data-revoke-token="<id>".
 * Must not use: anything but the API, the components and the ctx it is given. The token value
 * lives only in the dialog's field and is dropped when the dialog closes.
 */

import { h } from '../../dom.js';
import { apiDelete, apiPost } from '../../api.js';
import { formatAbsolute, timeElement, timeOr } from '../../format.js';
import { badge } from '../../components/badge.js';
import { copyButton } from '../../components/copy.js';
import { confirmButton, openDialog } from '../../components/dialog.js';
import { actionsRow, liveValidate, runSubmit, textField } from '../../components/form.js';
import { shortListTable } from '../../components/local-source.js';
import { panel } from '../../components/panel.js';
import { can, myRole, roleSelect, roleTitle, rolesWithinMine } from '../../roles.js';

const NAME_MAX = 64;

function statusBadge(row) {
  return row.revoked_at
    ? badge('Revoked', 'danger', { title: `Revoked ${formatAbsolute(row.revoked_at)}` })
    : badge('Active', 'success');
}

function revokeButton(row, reload) {
  return confirmButton({
    label: 'Revoke',
    name: row.name,
    dataset: { revokeToken: row.id },
    dialog: {
      id: 'api-token-revoke-dialog',
      title: `Revoke the API token “${row.name}”?`,
      message: 'Scripts that use it are refused from the next request on. This cannot be undone: create a new token if you need access again.',
      confirmLabel: 'Revoke token',
      busyLabel: 'Revoking…',
      action: () => apiDelete(`/admin/api-tokens/${encodeURIComponent(row.id)}`),
    },
    doneMessage: `API token “${row.name}” revoked.`,
    onDone: reload,
  });
}

/** The one time the token is visible. */
function showNewToken(created) {
  const value = h('input', { id: 'api-token-value', class: 'mono token-value', type: 'text', readonly: true, 'aria-describedby': 'api-token-warning', spellcheck: 'false', autocomplete: 'off' });
  value.value = created.token ?? '';
  const done = h('button', { type: 'button', id: 'api-token-done', class: 'button button-primary' }, 'I have copied it');
  const { close } = openDialog({
    id: 'api-token-created',
    title: `API token “${created.name}” created`,
    className: 'dialog-wide',
    body: [
      h('p', { class: 'callout callout-warning', id: 'api-token-warning' },
        h('strong', {}, 'Copy this token now. '), 'It is shown only this once: the appliance keeps only a hash of it and cannot show it again.'),
      h('label', { for: 'api-token-value' }, 'Token'),
      h('div', { class: 'fingerprint-row' }, value, copyButton({ getText: () => value.value, target: value, id: 'api-token-copy' })),
      h('p', { class: 'muted small' }, 'Scripts send it as the header ', h('code', {}, 'Authorization: Bearer <token>'), '.'),
    ],
    buttons: [done],
  });
  done.addEventListener('click', () => close(true));
  value.focus();
  value.select();
}

function createForm(onCreated) {
  const name = textField({
    id: 'api-token-name', name: 'name', label: 'Name', autocomplete: 'off',
    hint: 'What will use it, so you know what breaks if you revoke it (e.g. “inventory export”).',
    attrs: { maxlength: String(NAME_MAX) },
  });
  const checkName = liveValidate(name.input, (v) => (v.trim() === '' ? 'Give the token a name.' : null));
  const submit = h('button', { type: 'submit', id: 'api-token-submit', class: 'button button-primary' }, 'Create token');
  const role = roleSelect({ id: 'api-token-role', value: myRole(), allowed: rolesWithinMine() });
  const form = h('form', { id: 'api-token-form', class: 'stack form-inline', novalidate: true },
    h('h3', { class: 'subtitle' }, 'Create an API token'), name.field, role.field, actionsRow(submit));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    runSubmit(form, {
      button: submit,
      busyLabel: 'Creating…',
      validate: () => [{ input: name.input, message: checkName() }],
      submit: () => apiPost('/admin/api-tokens', { name: name.input.value.trim(), role: role.input.value }),
      onSuccess: (created) => {
        name.input.value = '';
        checkName.reset();
        onCreated();
        showNewToken(created);
      },
    });
  });
  return form;
}

export function apiTokensPanel(ctx) {
  const table = shortListTable('/admin/api-tokens', ctx.signal, {
    id: 'api-token-list',
    caption: 'API tokens',
    noun: { one: 'API token', many: 'API tokens' },
    defaultSort: { key: 'created_at', dir: 'desc' },
    columns: [
      { key: 'name', label: 'Name', sortable: true, render: (row) => h('strong', {}, row.name) },
      { key: 'status', label: 'Status', render: statusBadge, csv: (row) => (row.revoked_at ? 'revoked' : 'active') },
      { key: 'created_at', label: 'Created', sortable: true, firstDir: 'desc', render: (row) => timeElement(row.created_at) },
      { key: 'role', label: 'Role', sortable: true, render: (row) => roleTitle(row.role) },
      { key: 'created_by', label: 'Created by', sortable: true },
      { key: 'last_used_at', label: 'Last used', sortable: true, firstDir: 'desc', render: (row) => timeOr(row.last_used_at, 'Never') },
      { key: 'actions', label: 'Actions', csv: false, className: 'col-actions', render: (row) => (row.revoked_at ? h('span', { class: 'muted small' }, ['Revoked ', timeElement(row.revoked_at)]) : revokeButton(row, () => table.reload())) },
    ],
    empty: { title: 'No API tokens yet', text: 'Create one below when a script needs to use the API.' },
  });

  const mine = can('admins_read') ? '' : ' You see the tokens you made.';
  return panel({ id: 'api-tokens', title: 'API tokens', intro: `For scripts that use the same API as this page. A token has the role chosen for it, never wider than yours, and stops working if you lose that role: create one per script and revoke it when the script is retired.${mine}` },
    table.element,
    can('api_tokens_own') ? [h('hr', { class: 'divider' }), createForm(() => table.reload())] : null);
}
